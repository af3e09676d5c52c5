"""Zendesk macros through the Macros API (ZendeskClient.api, so the worker's typed errors apply), and reading a
macro's comment as plain text.

Requests (checked against tests/fake_zendesk.py):
  list    GET  /api/v2/macros.json?page=N&per_page=100   -> {"macros": [...], "next_page": url | null, "count"}
  show    GET  /api/v2/macros/{id}.json                   -> {"macro": {...}}
  create  POST /api/v2/macros.json      {"macro": {"title", "active", "description", "actions": [...]}}
  update  PUT  /api/v2/macros/{id}.json {"macro": {...}}  -> {"macro": {...}}; 404 when it was deleted in Zendesk
An action is {"field", "value"}; the comment is `comment_value` (a string, or ["channel:all", "text"]) and/or
`comment_value_html`; `comment_mode_is_public` says public reply or internal note.
"""
from __future__ import annotations

import re
from html.parser import HTMLParser
from urllib.parse import parse_qsl, urlsplit

from integrations.base import PermanentError

LIST_PATH = "/api/v2/macros.json"
PER_PAGE = 100
MAX_PAGES = 1000          # 100 000 macros: far past any account; a next_page that never ends stops here


def list_macros(client) -> list[dict]:
    """Every macro of the account (active and inactive), following offset pagination's next_page."""
    out: list[dict] = []
    path, params, seen = LIST_PATH, {"page": "1", "per_page": str(PER_PAGE)}, set()
    for _ in range(MAX_PAGES):
        answer = client.api("GET", path, params=params)
        out.extend(m for m in answer.get("macros") or [] if isinstance(m, dict))
        nxt = answer.get("next_page")
        if not nxt:
            break
        parts = urlsplit(str(nxt))
        if not parts.path.startswith("/api/v2/") or nxt in seen:
            break          # only ever follow the API's own pages, and never the same page twice
        seen.add(nxt)
        path, params = parts.path, dict(parse_qsl(parts.query))
    return out


def show_macro(client, macro_id) -> dict | None:
    """One macro, or None when Zendesk has no macro with that id (deleted)."""
    try:
        return client.api("GET", f"/api/v2/macros/{_id(macro_id)}.json").get("macro")
    except PermanentError as exc:
        if is_not_found(exc):
            return None
        raise


def create_macro(client, macro: dict) -> dict:
    """A new shared macro; Zendesk's answer (with its id)."""
    answer = client.api("POST", LIST_PATH, json={"macro": macro}).get("macro")
    if not isinstance(answer, dict) or "id" not in answer:
        raise PermanentError(f"POST {LIST_PATH} answered without a macro id")
    return answer


def update_macro(client, macro_id, macro: dict) -> dict | None:
    """Replace the macro's title, actions, ...; None when it no longer exists in Zendesk (404)."""
    try:
        answer = client.api("PUT", f"/api/v2/macros/{_id(macro_id)}.json", json={"macro": macro})
    except PermanentError as exc:
        if is_not_found(exc):
            return None
        raise
    return answer.get("macro") or {"id": int(_id(macro_id))}


def find_by_marker(client, marker: str) -> dict | None:
    """The macro whose description has `marker` as one of its lines (the oldest when several do): how a retried
    push finds the macro an earlier attempt created but whose answer was lost."""
    found = [m for m in list_macros(client) if has_marker(m, marker)]
    return min(found, key=lambda m: int(m.get("id") or 0)) if found else None


def has_marker(macro: dict, marker: str) -> bool:
    return marker in (line.strip() for line in str(macro.get("description") or "").splitlines())


def is_not_found(exc: Exception) -> bool:
    """Zendesk answered 404 (the macro is gone)."""
    return getattr(exc, "status", None) == 404


def _id(macro_id) -> str:
    text = str(macro_id).strip()
    if not text.isdigit():
        raise PermanentError(f"{macro_id!r} is not a Zendesk macro id")
    return text


# -- the comment a macro adds, as plain text -------------------------------------------------------------

def comment_text(macro: dict) -> str | None:
    """The comment the macro writes, as plain text; None when it writes none.

    When a macro has both forms, `comment_value` wins: it is the plain text Zendesk itself keeps beside the
    rich text, so it needs no lossy conversion; `comment_value_html` is converted only when it stands alone.
    Several comment actions are joined with a blank line, in order."""
    plain, rich = [], []
    for action in macro.get("actions") or []:
        if not isinstance(action, dict):
            continue
        field, value = action.get("field"), action.get("value")
        if field == "comment_value":
            text = _channel_text(value)
            if text and text.strip():
                plain.append(text.strip("\n"))
        elif field == "comment_value_html" and isinstance(value, str):
            text = html_to_text(value)
            if text.strip():
                rich.append(text)
    chosen = plain or rich
    return "\n\n".join(chosen) if chosen else None


def is_internal_note(macro: dict) -> bool:
    """comment_mode_is_public false (boolean, or the string UI-made macros may hold) means an internal note."""
    for action in macro.get("actions") or []:
        if isinstance(action, dict) and action.get("field") == "comment_mode_is_public":
            return str(action.get("value")).strip().lower() == "false"
    return False


def _channel_text(value) -> str | None:
    """comment_value is a string, or a [channel, text] pair such as ["channel:all", "Hello"]."""
    if isinstance(value, str):
        return value
    if isinstance(value, list) and len(value) == 2 and all(isinstance(v, str) for v in value):
        return value[1]
    return None


class _Text(HTMLParser):
    """Rich text as an agent would type it: paragraphs and line breaks kept, list items as "- ", a link as
    "text (url)" when its text is not the url itself."""

    BLOCKS = {"p", "div", "ul", "ol", "h1", "h2", "h3", "h4", "h5", "h6", "blockquote", "pre", "table", "tr"}

    def __init__(self):
        super().__init__(convert_charrefs=True)
        self.parts: list[str] = []
        self.links: list[tuple[str, int]] = []

    def handle_starttag(self, tag, attrs):
        if tag == "br":
            self.parts.append("\n")
        elif tag in self.BLOCKS:
            self.parts.append("\n\n")
        elif tag == "li":
            self.parts.append("\n- ")
        elif tag == "a":
            self.links.append((dict(attrs).get("href") or "", len(self.parts)))

    def handle_endtag(self, tag):
        if tag in self.BLOCKS:
            self.parts.append("\n\n")
        elif tag == "a" and self.links:
            href, start = self.links.pop()
            label = "".join(self.parts[start:]).strip()
            if href and href != label and not href.startswith("#"):
                self.parts.append(f" ({href})")

    def handle_data(self, data):
        self.parts.append(re.sub(r"\s+", " ", data))


def html_to_text(value: str) -> str:
    parser = _Text()
    parser.feed(value)
    parser.close()
    text = "".join(parser.parts).replace("\xa0", " ")      # character references are already decoded
    lines = [line.strip() for line in text.split("\n")]
    return re.sub(r"\n{3,}", "\n\n", "\n".join(lines)).strip()
