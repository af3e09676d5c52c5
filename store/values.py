"""Values SQLite can hold: row ids within its INTEGER range, and text that is valid Unicode.

The one place these checks live; the request parsers (web/payload.py), the importers (kb/, macros/) and the
webhook parsers (integrations/) all use them, each raising its own error with the message given here.
"""
from __future__ import annotations

import re

MAX_ROW_ID = 2**63 - 1      # SQLite's largest INTEGER; a larger number names no row and cannot even be bound
LONE_SURROGATE_RE = re.compile("[\ud800-\udfff]")
_CONTROL_RE = re.compile("[\x00-\x08\x0b\x0c\x0e-\x1f\x7f]")


def row_id_fits(value: int) -> bool:
    return 0 <= value <= MAX_ROW_ID


def lone_surrogate_message(key: str, char: str) -> str:
    return (f"{key} contains {char!r}, a lone surrogate that is not valid Unicode "
            "(the text was cut in the middle of a character)")


def checked_text(value: str, key: str, error: type[Exception]) -> str:
    """Text fit to store, for content people send us: NUL characters (pasted from binary files) are dropped; a
    lone surrogate, which no database can store as UTF-8, raises `error` naming `key`."""
    bad = LONE_SURROGATE_RE.search(value)
    if bad:
        raise error(lone_surrogate_message(key, bad.group()))
    return value.replace("\x00", "")


def storable(text: str) -> str:
    """Text fit to store, for content we must keep whatever it holds (a signed helpdesk delivery): lone
    surrogates become U+FFFD, control characters other than tab, newline and carriage return are dropped."""
    return _CONTROL_RE.sub("", LONE_SURROGATE_RE.sub("\ufffd", text))


def find_lone_surrogate(value, where: str = "") -> str | None:
    """Where a decoded JSON value holds a lone surrogate, as a message; None when all its text is Unicode.
    Walks without recursion, so no nesting depth can crash it."""
    stack = [(where, value)]
    while stack:
        path, item = stack.pop()
        if isinstance(item, dict):
            stack.extend((f"{path}.{k}" if path else str(k), k) for k in item)
            stack.extend((f"{path}.{k}" if path else str(k), v) for k, v in item.items())
        elif isinstance(item, list):
            stack.extend((f"{path}[{i}]", v) for i, v in enumerate(item))
        elif isinstance(item, str):
            bad = LONE_SURROGATE_RE.search(item)
            if bad:
                place = (path or "the body").encode("utf-8", "backslashreplace").decode("utf-8")
                return lone_surrogate_message(place, bad.group())
    return None
