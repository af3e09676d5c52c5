"""What every format reader shares: the Item it yields (one article, or one problem, at a place in a file), the
file-level error, reading text as UTF-8, and turning the values people write into what kb.articles.clean takes."""
from __future__ import annotations

import re
from dataclasses import dataclass
from datetime import date, datetime
from pathlib import Path

ALIASES = {"tags": "keywords", "lang": "language"}     # other names people give these fields


class FileError(ValueError):
    """The whole file cannot be read (not UTF-8, not JSON, no header ...): nothing in it is imported."""


@dataclass
class Item:
    """One article read from a file (`article`, the raw fields for kb.articles.clean), or what is wrong with one
    (`error`), or a remark about the file that stops nothing (`note`); `where` is its place in the file: "row 3",
    "line 7", "item 2", or "" for the whole file."""
    where: str = ""
    article: dict | None = None
    error: str | None = None
    note: str | None = None


def read_text(path: Path) -> str:
    """The file as text: UTF-8, with or without a byte order mark."""
    raw = path.read_bytes()
    try:
        return raw.decode("utf-8-sig")
    except UnicodeDecodeError as exc:
        raise FileError(f"not UTF-8 text (byte {exc.start} cannot be read): save the file as UTF-8") from None


def taxonomy_path(value):
    """A taxonomy path written as text ("Hardware > Printers" or "Hardware / Printers") as its segments; a list is
    left for kb.articles.clean to check. With ">" the segments may contain "/" ("Network > TCP/IP")."""
    if not isinstance(value, str):
        return value
    parts = value.split(">") if ">" in value else value.split("/")
    return [p.strip() for p in parts if p.strip()]


def article_fields(raw: dict) -> dict:
    """The fields of one article as people write them, in the names and shapes kb.articles.clean takes: aliases
    (tags, lang) renamed when the real name is absent, a taxonomy path as text split, dates (YAML reads
    2025-01-31 as a date) as text. Unknown fields are left in; clean ignores them."""
    out = {}
    for key, value in raw.items():
        name = ALIASES.get(key, key) if isinstance(key, str) and ALIASES.get(key) not in raw else key
        if isinstance(value, datetime | date):
            value = value.date().isoformat() if isinstance(value, datetime) else value.isoformat()
        out[name] = value
    if "taxonomy" in out:
        out["taxonomy"] = taxonomy_path(out["taxonomy"])
    return out


def first_line_is(text: str, title: str) -> str:
    """`text` without its first line when that line is the title again (a heading the title was read from)."""
    head, _, rest = text.lstrip().partition("\n")
    if norm(head.lstrip("#").strip()) == norm(title):
        return rest.strip()
    return text.strip()


def norm(text: str) -> str:
    return re.sub(r"\s+", " ", text).strip().casefold()
