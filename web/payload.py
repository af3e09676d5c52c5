"""Reading request input strictly: one clear 400 (or 404 for an id no row can have) for anything malformed.

Bodies are UTF-8 (a leading BOM is dropped). JSON that decodes but carries a lone surrogate escape ("\\ud800")
is refused: such text is not Unicode and no database or helpdesk can store it.
"""
from __future__ import annotations

import json
from dataclasses import dataclass, field

from flask import abort, request

from store.values import MAX_ROW_ID, find_lone_surrogate, row_id_fits

NDJSON_TYPES = ("application/x-ndjson", "application/jsonl", "application/json-lines", "application/x-jsonlines")
JSON_SPACE = " \t\r"


def _text(raw: bytes) -> str:
    """The body as text: UTF-8, without a leading byte-order mark."""
    try:
        text = raw.decode("utf-8")
    except UnicodeDecodeError as exc:
        abort(400, description=f"the body is not UTF-8 text (byte 0x{raw[exc.start]:02x} at offset {exc.start}); "
                               "send it encoded as UTF-8")
    return text.removeprefix("\ufeff")


def _loads(text: str):
    """json.loads that raises ValueError for anything it cannot read, including absurd nesting."""
    try:
        return json.loads(text)
    except RecursionError:
        raise ValueError("nested too deeply") from None


def json_object() -> dict:
    if not request.is_json:
        abort(400, description="the body must be a JSON object (Content-Type: application/json)")
    try:
        data = _loads(_text(request.get_data(cache=True)))
    except ValueError as exc:
        abort(400, description=f"the body must be a JSON object (Content-Type: application/json): {exc}")
    if not isinstance(data, dict):
        abort(400, description="the body must be a JSON object (Content-Type: application/json)")
    problem = find_lone_surrogate(data)
    if problem:
        abort(400, description=problem)
    return data


@dataclass
class Batch:
    """Items read from an import body, where each came from ("line" 1-based for JSON Lines, "index" 0-based in a
    JSON array), and the items that could not be read."""
    unit: str
    items: list = field(default_factory=list)
    positions: list[int] = field(default_factory=list)
    errors: list[dict] = field(default_factory=list)

    def add(self, position: int, item) -> None:
        problem = find_lone_surrogate(item)
        if problem is None:
            self.items.append(item)
            self.positions.append(position)
            return
        ext = item.get("external_id") if isinstance(item, dict) else None
        self.errors.append({self.unit: position, "external_id": ext if isinstance(ext, (str, int)) else None,
                            "error": problem})

    def report(self, result: dict) -> dict:
        """The importer's result with every error placed where it is in the body (the importer counts positions
        in the items it was given), in body order."""
        placed = []
        for err in result["errors"]:
            err = dict(err)
            position = self.positions[err.pop("index")]
            placed.append({self.unit: position, **err})
        result["errors"] = sorted(self.errors + placed, key=lambda e: e[self.unit])
        return result


def records(key: str) -> Batch:
    """Items from {"<key>": [...]} JSON or a JSON Lines body (lines split on "\\n" only, so U+2028 or U+0085 inside
    a JSON string is just text)."""
    text = _text(request.get_data(cache=True))
    if (request.mimetype or "").lower() in NDJSON_TYPES:
        batch = Batch("line")
        for n, line in enumerate(text.split("\n"), start=1):
            if not line.strip(JSON_SPACE):
                continue
            try:
                batch.add(n, _loads(line))
            except json.JSONDecodeError as exc:
                batch.errors.append({"line": n, "error": f"not JSON: {exc.msg} (column {exc.colno})"})
            except ValueError as exc:
                batch.errors.append({"line": n, "error": f"not JSON: {exc}"})
        return batch
    try:
        data = _loads(text or "null")
    except ValueError:
        abort(400, description=f'the body must be JSON {{"{key}": [...]}} or JSON Lines (application/x-ndjson)')
    if not (isinstance(data, dict) and isinstance(data.get(key), list)):
        abort(400, description=f'expected {{"{key}": [...]}}')
    batch = Batch("index")
    for i, item in enumerate(data[key]):
        batch.add(i, item)
    return batch


def row_id(value: int, what: str) -> int:
    """An id from the URL; one larger than any SQLite row id names no row (404, not a crash)."""
    if not row_id_fits(value):
        abort(404, description=f"no {what} {value} (ids go up to {MAX_ROW_ID})")
    return value


def int_arg(data: dict, key: str, default: int, lo: int, hi: int) -> int:
    value = data.get(key, default)
    if value is None:
        return default
    if isinstance(value, bool) or not isinstance(value, int) or not lo <= value <= hi:
        abort(400, description=f"{key} must be a whole number from {lo} to {hi}")
    return value


def id_arg(data: dict, key: str) -> int | None:
    """An optional row id in a JSON body: a number or a string of digits 0-9 that SQLite can hold."""
    value = data.get(key)
    if value is None:
        return None
    if isinstance(value, str) and value.isascii() and value.isdigit() and len(value) <= len(str(MAX_ROW_ID)):
        value = int(value)
    if isinstance(value, bool) or not isinstance(value, int) or not row_id_fits(value):
        abort(400, description=f"{key} must be a whole number from 0 to {MAX_ROW_ID}")
    return value


def text_arg(data: dict, key: str, required: bool = False, max_len: int = 100_000) -> str:
    value = data.get(key, "")
    if value is None:
        value = ""
    if not isinstance(value, str):
        abort(400, description=f"{key} must be text")
    if required and not value.strip():
        abort(400, description=f"{key} is required")
    if len(value) > max_len:
        abort(400, description=f"{key} is longer than {max_len} characters")
    return value
