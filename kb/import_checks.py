"""Checks shared by the importers of articles and macros (and of what agents create from a ticket): an item's
identity, language and taxonomy path. Text and id checks are store.values, used by everything stored.

Each takes the caller's error class, so a bad item is reported in that importer's own words.
"""
from __future__ import annotations

from store.values import checked_text
from suggest.analysis import LANGUAGES
from suggest.language import detect


def external_id(raw: dict, error: type[Exception]) -> str:
    value = raw.get("external_id")
    if isinstance(value, bool) or not isinstance(value, (str, int)) or str(value).strip() == "":
        raise error("external_id is required (text or number)")
    return checked_text(str(value), "external_id", error).strip()


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
        checked_text(segment, "taxonomy", error)
    return path
