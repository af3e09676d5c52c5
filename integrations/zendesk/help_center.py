"""Zendesk Help Center API: sections, articles and their translations, read and written through ZendeskClient.api
(the same session, credentials and typed errors as every other Zendesk call); and the two conversions between a
Help Center article's HTML and the plain text the knowledge base stores.

Requests (Help Center API reference; shapes checked against tests/fake_zendesk.py):
  GET  /api/v2/help_center/sections                                 {"sections": [...]}
  GET  /api/v2/help_center/articles                                 {"articles": [...]}
  GET  /api/v2/help_center/{locale}/sections/{section_id}/articles  {"articles": [...]}
  GET  /api/v2/help_center/articles/{id}/translations               {"translations": [...]}
  POST /api/v2/help_center/sections/{section_id}/articles           {"article": {...}, "notify_subscribers": false}
  POST /api/v2/help_center/articles/{id}/translations               {"translation": {locale, title, body, draft}}
  PUT  /api/v2/help_center/articles/{id}/translations/{locale}      {"translation": {title, body, draft}}
Lists are read with cursor pagination (page[size], then page[after] while meta.has_more); an answer that comes
back with offset pagination (next_page) is followed too.

Article HTML is untrusted (anyone with Guide edit rights wrote it): store/html_text.py (shared with the file import)
cleans it with nh3 -- no script or style, no event handler, no unsafe link -- before we read words out of it.
"""
from __future__ import annotations

import hashlib
import html
import re
from collections.abc import Iterator
from urllib.parse import parse_qs, quote, urlsplit

from integrations.base import PermanentError
from store.html_text import clean_html as clean_html  # moved to store/ (shared with kb/importers); re-exported
from store.html_text import html_to_text as html_to_text

API = "/api/v2/help_center"
PAGE_SIZE = 100            # Zendesk's largest page[size]
MAX_PAGES = 10_000         # a cursor that never ends is a bug on the other side, not a reason to loop forever
MARKER_PREFIX = "ks-"      # label name that marks an article the sidecar created (found again after a lost answer)

# The KCS fields of an article as headed sections of the published HTML, in each content language.
HEADINGS = {
    "en": ("Issue", "Environment", "Resolution", "Cause"),
    "de": ("Problem", "Umgebung", "Lösung", "Ursache"),
    "pl": ("Problem", "Środowisko", "Rozwiązanie", "Przyczyna"),
    "ru": ("Проблема", "Окружение", "Решение", "Причина"),
}
KCS_FIELDS = ("issue", "environment", "resolution", "cause")


# -- locales -------------------------------------------------------------------------------------------------------
def locale_for(locales: dict[str, str], language: str) -> str | None:
    """Our content language's Help Center locale (zendesk.help_center_locales), or None when it has none."""
    return locales.get(language)


def language_for(locales: dict[str, str], locale: str | None) -> str | None:
    """The content language a Help Center locale stands for ("en-US" -> "en" with en=en-us), or None: only the
    locales configured are ours; "en-gb" is not "en" unless it is configured so."""
    wanted = (locale or "").strip().lower()
    return next((lang for lang, loc in locales.items() if loc.lower() == wanted), None)


# -- reading -------------------------------------------------------------------------------------------------------
def pages(client, path: str, key: str, params: dict | None = None) -> Iterator[dict]:
    """Every item of a list endpoint, page after page (cursor pagination; offset pagination when that is what
    comes back)."""
    params = {**(params or {}), "page[size]": PAGE_SIZE}
    for _ in range(MAX_PAGES):
        data = client.api("GET", path, params=params)
        if not isinstance(data, dict) or not isinstance(data.get(key, []), list):
            raise PermanentError(f"GET {path}: expected {{{key!r}: [...]}}, got {str(data)[:200]}")
        yield from data.get(key) or []
        meta = data.get("meta") or {}
        if meta.get("has_more") and meta.get("after_cursor"):
            params = {**params, "page[after]": meta["after_cursor"]}
        elif not meta and data.get("next_page"):
            nxt = urlsplit(data["next_page"])
            path, params = nxt.path, {k: v[-1] for k, v in parse_qs(nxt.query).items()}
        else:
            return
    raise PermanentError(f"GET {path}: more than {MAX_PAGES} pages")


def sections(client) -> list[dict]:
    """Every section of the Help Center (agents see all of them, in the default locale)."""
    return list(pages(client, f"{API}/sections", "sections"))


def articles(client) -> Iterator[dict]:
    """Every article, drafts included (as an agent sees them)."""
    yield from pages(client, f"{API}/articles", "articles")


def section_articles(client, section_id, locale: str) -> Iterator[dict]:
    """The articles of one section, shown in `locale` (their title and body in that locale where they have it)."""
    yield from pages(client, f"{API}/{quote(locale, safe='')}/sections/{int(section_id)}/articles", "articles")


def translations(client, article_id) -> list[dict]:
    """Every translation of an article, one per locale (the source locale's included)."""
    return list(pages(client, f"{API}/articles/{int(article_id)}/translations", "translations"))


# -- writing -------------------------------------------------------------------------------------------------------
def create_article(client, section_id, title: str, body: str, locale: str, permission_group_id: int,
                   user_segment_id: int | None, labels: list[str]) -> dict:
    """A new article in a section, without notifying the section's subscribers; Zendesk's article JSON."""
    payload = {"article": {"title": title, "body": body, "locale": locale, "permission_group_id": permission_group_id,
                           "user_segment_id": user_segment_id, "label_names": labels},
               "notify_subscribers": False}
    return _one(client.api("POST", f"{API}/sections/{int(section_id)}/articles", json=payload), "article")


def create_translation(client, article_id, locale: str, title: str, body: str) -> dict:
    """A new translation of an article, published (not a draft)."""
    payload = {"translation": {"locale": locale, "title": title, "body": body, "draft": False}}
    return _one(client.api("POST", f"{API}/articles/{int(article_id)}/translations", json=payload), "translation")


def update_translation(client, article_id, locale: str, title: str, body: str) -> dict:
    """New title and body of an article in one locale (the article's own PUT cannot change them), published."""
    payload = {"translation": {"title": title, "body": body, "draft": False}}
    path = f"{API}/articles/{int(article_id)}/translations/{quote(locale, safe='')}"
    return _one(client.api("PUT", path, json=payload), "translation")


def _one(data, key: str) -> dict:
    if not isinstance(data, dict) or not isinstance(data.get(key), dict) or "id" not in data[key]:
        raise PermanentError(f"Help Center answered without {key!r}: {str(data)[:200]}")
    return data[key]


def marker(key: str) -> str:
    """The label name that marks the Help Center article made from our article (or translation group) `key`:
    "ks-" and the key's letters, digits, - and _; with a short hash when anything had to change, so two keys
    never share a label."""
    safe = re.sub(r"[^A-Za-z0-9_-]+", "-", key).strip("-")[:60]
    if safe != key:
        safe = f"{safe}-{hashlib.sha256(key.encode()).hexdigest()[:8]}".lstrip("-")
    return MARKER_PREFIX + safe


# -- HTML <-> text -------------------------------------------------------------------------------------------------
def _paragraphs(text: str) -> str:
    """Our plain text as simple HTML, everything escaped: blank-line separated paragraphs, runs of "- " lines as a
    list, other line breaks kept."""
    out = []
    for block in re.split(r"\n\s*\n", text.strip()):
        lines = [line.strip() for line in block.split("\n") if line.strip()]
        if not lines:
            continue
        if all(line.startswith("- ") for line in lines):
            out.append("<ul>" + "".join(f"<li>{html.escape(line[2:].strip())}</li>" for line in lines) + "</ul>")
        else:
            out.append("<p>" + "<br>".join(html.escape(line) for line in lines) + "</p>")
    return "\n".join(out)


def article_html(article: dict) -> str:
    """An article of ours as Help Center HTML: its body, then the KCS fields it has (issue, environment,
    resolution, cause) under headings in the article's language."""
    parts = [_paragraphs(article.get("body") or "")]
    headings = HEADINGS.get(article.get("language") or "en", HEADINGS["en"])
    for field, heading in zip(KCS_FIELDS, headings, strict=True):
        if (article.get(field) or "").strip():
            parts.append(f"<h2>{html.escape(heading)}</h2>\n{_paragraphs(article[field])}")
    return "\n".join(p for p in parts if p)
