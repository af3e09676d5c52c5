"""Which language a ticket is in: its locale when it has one, else the text, else the default."""
from __future__ import annotations

from suggest.analysis import LANGUAGES, stop_words, words


def from_locale(locale: str | None) -> str | None:
    """'de-AT' → 'de'; None when the locale names a language we do not analyse."""
    if not locale:
        return None
    code = locale.replace("_", "-").split("-")[0].lower()
    return code if code in LANGUAGES else None


LETTERS = {"pl": frozenset("ąćęłńśźż"), "de": frozenset("äöüß")}     # letters only that language uses here


def detect(text: str, default: str) -> str:
    """The language with the most votes; ties → default. A word in Cyrillic votes for Russian; a word with
    letters only Polish (ą, ł, ż…) or German (ä, ß…) uses votes for that language; a stop word votes for
    each language that lists it. So "Не работает VPN client на MacBook" is Russian, and "Zwrot pieniędzy za
    zamówienie" Polish, although "za" is on the English stop list too."""
    tokens = words(text)
    if not tokens:
        return default
    votes = {lang: sum(1 for t in tokens if t in stop_words(lang)) for lang in ("en", "de", "pl")}
    votes["ru"] = sum(1 for t in tokens if any("а" <= c <= "я" for c in t))
    for lang, letters in LETTERS.items():
        votes[lang] += sum(1 for t in tokens if letters.intersection(t))
    best = max(votes.values())
    if best == 0:
        return default
    leaders = [lang for lang, n in votes.items() if n == best]
    return default if default in leaders else leaders[0]


def resolve(language: str | None, locale: str | None, text: str, default: str) -> str:
    """The request's language ('de', 'DE' or a locale such as 'de-DE'), else the ticket's locale, else the text."""
    return from_locale(language) or from_locale(locale) or detect(text, default)
