"""Checks shared by everything imported in batches (articles, macros): identity, language, taxonomy path, text
fit to store, row ids SQLite can hold.

Each takes the caller's error class, so a bad item is reported in that importer's own words.
"""
from __future__ import annotations

import re

from suggest.analysis import LANGUAGES
from suggest.language import detect

MAX_ROW_ID = 2**63 - 1      # SQLite's largest INTEGER; a larger number names no row and cannot even be bound
LONE_SURROGATE_RE = re.compile("[\ud800-\udfff]")


def row_id_fits(value: int) -> bool:
    return 0 <= value <= MAX_ROW_ID


def unicode_text(value: str, key: str, error: type[Exception]) -> str:
    """Text fit to store: NUL characters (pasted from binary files) are dropped; a lone surrogate, which no
    database can store as UTF-8, is the item's error."""
    bad = LONE_SURROGATE_RE.search(value)
    if bad:
        raise error(f"{key} contains {bad.group()!r}, a lone surrogate that is not valid Unicode "
                    "(the text was cut in the middle of a character)")
    return value.replace("\x00", "")


def external_id(raw: dict, error: type[Exception]) -> str:
    value = raw.get("external_id")
    if isinstance(value, bool) or not isinstance(value, (str, int)) or str(value).strip() == "":
        raise error("external_id is required (text or number)")
    return unicode_text(str(value), "external_id", error).strip()


def language(value, text: str, default_language: str, error: type[Exception]) -> str:
    """The item's language code ('de-AT' → 'de'); detected from its text when not given."""
    if value in (None, ""):
        value = detect(text, default_language)
    if not isinstance(value, str) or value.lower().split("-")[0] not in LANGUAGES:
        raise error(f"language must be one of {sorted(LANGUAGES)}, got {value!r}")
    return value.lower().split("-")[0]


def taxonomy_path(value, error: type[Exception]) -> list[str]:
    path = [] if value is None else value
    if not isinstance(path, list) or not all(isinstance(s, str) and s.strip() for s in path):
        raise error("taxonomy must be a list of path segments (text)")
    for segment in path:
        unicode_text(segment, "taxonomy", error)
    return path
