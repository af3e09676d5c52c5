"""A Markdown file as one article: YAML front matter (between "---" lines at the top) may name any article field
(title, external_id, language, taxonomy, keywords or tags, state, visibility, type, issue, environment,
resolution, cause, owner, review_by, translation_group); fields it does not know are ignored. The title is the
front matter's, else the first "# " heading (then that heading leaves the body); the external id is the front
matter's, else the file's path relative to the folder imported ("guides/vpn.md"). The body is stored as the
Markdown text it is: that is what agents read, and Markdown is readable as text.
"""
from __future__ import annotations

import re
from pathlib import Path

import yaml

from kb.articles import TEXT_FIELDS
from kb.importers.items import FileError, Item, article_fields, first_line_is, read_text

EXTENSIONS = (".md", ".markdown")
FENCE_RE = re.compile(r"^\s{0,3}(```|~~~)")
HEADING_RE = re.compile(r"^\s{0,3}#[ \t]+(.+?)(?:[ \t]+#+)?[ \t]*$")


def front_matter(text: str) -> tuple[dict, str]:
    """The front matter's fields and the Markdown after it ({} and the whole text when there is none)."""
    lines = text.split("\n")
    if not lines or lines[0].rstrip() != "---":
        return {}, text
    n = next((i for i, line in enumerate(lines[1:], start=1) if line.rstrip() in ("---", "...")), None)
    if n is None:
        raise FileError('front matter starts with "---" on line 1 but never ends (a line of "---" closes it)')
    try:
        data = yaml.safe_load("\n".join(lines[1:n]))
    except yaml.YAMLError as exc:
        mark = getattr(exc, "problem_mark", None)
        where = f" on line {mark.line + 2}" if mark is not None else ""
        raise FileError(f"front matter is not YAML{where}: {getattr(exc, 'problem', None) or exc}") from None
    if data is None:
        data = {}
    if not isinstance(data, dict):
        raise FileError("front matter must be fields (name: value), not a list or a single value")
    return data, "\n".join(lines[n + 1:])


def first_heading(markdown: str) -> str | None:
    """The text of the first level-1 ATX heading ("# Title") outside code blocks."""
    fenced = False
    for line in markdown.split("\n"):
        if FENCE_RE.match(line):
            fenced = not fenced
        elif not fenced and (m := HEADING_RE.match(line)):
            return m.group(1).strip()
    return None


def read(path: Path, rel: str) -> list[Item]:
    meta, body = front_matter(read_text(path).replace("\r\n", "\n"))
    raw = article_fields({k: v for k, v in meta.items() if isinstance(k, str)})
    for key in (*TEXT_FIELDS, "external_id"):       # YAML reads "title: 2024" as a number; it is text here
        if isinstance(raw.get(key), int | float) and not isinstance(raw[key], bool):
            raw[key] = str(raw[key])
    heading = first_heading(body)
    title = raw.get("title")
    if title in (None, ""):
        if heading is None:
            return [Item(error='no title: give one in the front matter (title: ...) or as a "# " heading')]
        raw["title"] = title = heading
    if isinstance(title, str):
        body = first_line_is(body, title)
    raw.setdefault("external_id", rel)
    raw["body"] = body.strip()
    return [Item(article=raw)]
