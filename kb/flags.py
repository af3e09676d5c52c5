"""Flags agents raise on articles (KCS "improve"): which are still open.

A flag is a `flagged` event. It is open while the article has not changed since it was raised: any
new version of the article (an edit, a state change such as archiving) closes the flags before it.
"""
from __future__ import annotations

import json
import sqlite3


def open_flags(conn: sqlite3.Connection, limit: int = 500) -> list[dict]:
    """Open flags, newest first, with the article they are about and the ticket they came from."""
    rows = conn.execute("""
        SELECT e.id, e.created_at, e.agent, e.reason, t.integration, t.external_id,
               a.id, a.external_id, a.title, a.state, a.visibility, a.language, a.version, a.updated_at, n.names
        FROM events e
        JOIN articles a ON a.id = e.article_id
        LEFT JOIN tickets t ON t.id = e.ticket_id
        LEFT JOIN taxonomy_nodes n ON n.id = a.node_id
        WHERE e.kind = 'flagged' AND e.created_at >= a.updated_at
        ORDER BY e.id DESC LIMIT ?""", (limit,)).fetchall()
    out = []
    for r in rows:
        out.append({"event_id": r[0], "flagged_at": r[1], "agent": r[2], "reason": r[3],
                    "ticket": {"integration": r[4], "external_id": r[5]} if r[4] else None,
                    "article": {"id": r[6], "external_id": r[7], "title": r[8], "state": r[9], "visibility": r[10],
                                "language": r[11], "version": r[12], "updated_at": r[13],
                                "taxonomy": json.loads(r[14]) if r[14] else []}})
    return out
