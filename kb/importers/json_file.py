"""A JSON file of articles: a list of article objects, or {"articles": [...]} (the shape POST
/api/articles/import takes). Each element is reported as "item N" (from 1)."""
from __future__ import annotations

import json
from pathlib import Path

from kb.importers.items import FileError, Item, article_fields, read_text

EXTENSIONS = (".json",)


def read(path: Path, rel: str) -> list[Item]:
    try:
        data = json.loads(read_text(path))
    except json.JSONDecodeError as exc:
        raise FileError(f"not JSON: {exc.msg} at line {exc.lineno} column {exc.colno}") from None
    if isinstance(data, dict) and isinstance(data.get("articles"), list):
        data = data["articles"]
    if not isinstance(data, list):
        raise FileError('expected a list of articles or {"articles": [...]}')
    return [Item(f"item {n}", article=article_fields(raw) if isinstance(raw, dict) else raw)
            for n, raw in enumerate(data, start=1)]
