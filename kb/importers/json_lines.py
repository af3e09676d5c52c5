"""A JSON Lines file of articles: one article object per line; blank lines are skipped. A line that is not JSON
is reported with its line number and the other lines are still imported."""
from __future__ import annotations

import json
from pathlib import Path

from kb.importers.items import Item, article_fields, read_text

EXTENSIONS = (".jsonl", ".ndjson")


def read(path: Path, rel: str) -> list[Item]:
    out = []
    for n, line in enumerate(read_text(path).splitlines(), start=1):
        if not line.strip():
            continue
        try:
            raw = json.loads(line)
        except json.JSONDecodeError as exc:
            out.append(Item(f"line {n}", error=f"not JSON: {exc.msg} at column {exc.colno}"))
            continue
        out.append(Item(f"line {n}", article=article_fields(raw) if isinstance(raw, dict) else raw))
    return out
