"""The audit trail of the knowledge base: who did what to which article, macro, taxonomy node or mapping rule,
and when (a publish to Help Center, an import from it, ...). Append only; `detail` holds what the action needs
to be understood later (before/after, the helpdesk's id and URL)."""
from __future__ import annotations

import json
import sqlite3

from store import now, write

SUBJECTS = ("article", "macro", "taxonomy", "mapping")


def record(conn: sqlite3.Connection, subject: str, subject_id: int | None, action: str, actor: str = "",
           detail: dict | None = None) -> int:
    """One entry, in the caller's transaction (or its own)."""
    if subject not in SUBJECTS:
        raise ValueError(f"unknown audit subject {subject!r}")
    with write(conn):
        return conn.execute("INSERT INTO audit_log (subject, subject_id, action, actor, detail, at) "
                            "VALUES (?, ?, ?, ?, ?, ?)",
                            (subject, subject_id, action, actor, json.dumps(detail or {}), now())).lastrowid


def history(conn: sqlite3.Connection, subject: str, subject_id: int) -> list[dict]:
    """Every entry about one thing, newest first."""
    rows = conn.execute("SELECT id, action, actor, detail, at FROM audit_log WHERE subject = ? AND subject_id = ? "
                        "ORDER BY id DESC", (subject, subject_id)).fetchall()
    return [{"id": r[0], "action": r[1], "actor": r[2], "detail": json.loads(r[3]), "at": r[4]} for r in rows]
