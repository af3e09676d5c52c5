"""Which language a ticket is in: its locale when it has one, else the text, else the default."""
from __future__ import annotations

from suggest.analysis import LANGUAGES, stop_words, words


def from_locale(locale: str | None) -> str | None:
    """'de-AT' → 'de'; None when the locale names a language we do not analyse."""
    if not locale:
        return None
    code = locale.replace("_", "-").split("-")[0].lower()
    return code if code in LANGUAGES else None


def detect(text: str, default: str) -> str:
    """Cyrillic → ru; otherwise the language whose stop words the text uses most; ties → default."""
    tokens = words(text)
    if not tokens:
        return default
    cyrillic = sum(1 for t in tokens if any("а" <= c <= "я" for c in t))
    if cyrillic * 2 >= len(tokens):
        return "ru"
    hits = {lang: sum(1 for t in tokens if t in stop_words(lang)) for lang in ("en", "de", "pl")}
    best = max(hits.values())
    if best == 0:
        return default
    leaders = [lang for lang, n in hits.items() if n == best]
    return default if default in leaders else leaders[0]


def resolve(language: str | None, locale: str | None, text: str, default: str) -> str:
    """The request's language ('de', 'DE' or a locale such as 'de-DE'), else the ticket's locale, else the text."""
    return from_locale(language) or from_locale(locale) or detect(text, default)
