"""Reading request bodies strictly: one clear 400 for anything malformed."""
from __future__ import annotations

import json

from flask import abort, request


def json_object() -> dict:
    data = request.get_json(silent=True)
    if not isinstance(data, dict):
        abort(400, description="the body must be a JSON object (Content-Type: application/json)")
    return data


def records(key: str) -> tuple[list, list[dict]]:
    """Items from {"<key>": [...]} JSON or a JSON Lines body; returns (items, parse errors)."""
    ctype = (request.mimetype or "").lower()
    raw = request.get_data(cache=True)
    if ctype in ("application/x-ndjson", "application/jsonl", "application/json-lines", "application/x-jsonlines"):
        items, errors = [], []
        for n, line in enumerate(raw.decode("utf-8", "replace").splitlines(), start=1):
            if not line.strip():
                continue
            try:
                items.append(json.loads(line))
            except ValueError as exc:
                errors.append({"line": n, "error": f"not JSON: {exc.msg}"})
        return items, errors
    try:
        data = json.loads(raw or b"null")
    except ValueError:
        abort(400, description=f'the body must be JSON {{"{key}": [...]}} or JSON Lines (application/x-ndjson)')
    if isinstance(data, dict) and isinstance(data.get(key), list):
        return data[key], []
    abort(400, description=f'expected {{"{key}": [...]}}')


def int_arg(data: dict, key: str, default: int, lo: int, hi: int) -> int:
    value = data.get(key, default)
    if value is None:
        return default
    if isinstance(value, bool) or not isinstance(value, int) or not lo <= value <= hi:
        abort(400, description=f"{key} must be a whole number from {lo} to {hi}")
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
