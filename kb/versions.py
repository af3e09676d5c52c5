"""An article's history: every version with who, when and the note, and what changed between two of them.

Each version keeps the whole article (kb.articles.FIELDS). Versions stored before whole-article versions existed
(migration 0008) keep title, body and state only; a diff against one of them compares those three.
"""
from __future__ import annotations

import difflib
import json
import sqlite3

from kb.articles import FIELDS

LEGACY_FIELDS = ("title", "body", "state")
COLUMNS = ("version", "title", "body", "state", "changed_by", "changed_at", "snapshot", "note")


class VersionError(LookupError):
    """No such article or version (404)."""


def _row(raw: tuple) -> dict:
    out = dict(zip(COLUMNS, raw))
    snap = json.loads(out.pop("snapshot")) if out["snapshot"] else None
    out["fields"] = snap if snap is not None else {k: out[k] for k in LEGACY_FIELDS}
    out["whole"] = snap is not None
    for key in LEGACY_FIELDS:
        out.pop(key)
    return out


def listing(conn: sqlite3.Connection, article_id: int) -> list[dict] | None:
    """Every version, newest first: {version, changed_by, changed_at, note, fields, whole}; None without the
    article."""
    if not conn.execute("SELECT 1 FROM articles WHERE id = ?", (article_id,)).fetchone():
        return None
    rows = conn.execute(f"SELECT {', '.join(COLUMNS)} FROM article_versions WHERE article_id = ? "
                        "ORDER BY version DESC", (article_id,)).fetchall()
    return [_row(r) for r in rows]


def get(conn: sqlite3.Connection, article_id: int, version: int) -> dict:
    row = conn.execute(f"SELECT {', '.join(COLUMNS)} FROM article_versions WHERE article_id = ? AND version = ?",
                       (article_id, version)).fetchone()
    if row is None:
        raise VersionError(f"article {article_id} has no version {version}")
    return _row(row)


def _lines(value) -> list[str]:
    if isinstance(value, list):
        return [str(v) for v in value]
    return ("" if value is None else str(value)).splitlines()


def diff(conn: sqlite3.Connection, article_id: int, old: int, new: int) -> dict:
    """What changed from version `old` to `new`, field by field: {"from", "to", "changes": [{"field", "from",
    "to", "lines"}]}, `lines` a unified diff of the field's lines for long text. Only fields both versions keep
    are compared."""
    a, b = get(conn, article_id, old), get(conn, article_id, new)
    fields = FIELDS if a["whole"] and b["whole"] else LEGACY_FIELDS
    changes = []
    for field in fields:
        before, after = a["fields"].get(field), b["fields"].get(field)
        if before == after:
            continue
        lines = list(difflib.unified_diff(_lines(before), _lines(after), lineterm="", n=1))[2:]
        changes.append({"field": field, "from": before, "to": after, "lines": lines})
    return {"article_id": article_id, "from": a["version"], "to": b["version"],
            "from_meta": {k: a[k] for k in ("changed_by", "changed_at", "note")},
            "to_meta": {k: b[k] for k in ("changed_by", "changed_at", "note")}, "changes": changes}


def changed_fields(before: dict, after: dict) -> list[str]:
    """The FIELDS whose values differ between two snapshots."""
    return [f for f in FIELDS if before.get(f) != after.get(f)]
