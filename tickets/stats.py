"""How much the sidecar holds and how its work stands: the figures of /metrics and of the admin overview.

Read only: every table here is written by its own module (docs/architecture.md says which).
"""
from __future__ import annotations

import sqlite3

from store import outbox

OVERVIEW_TABLES = (("taxonomy nodes", "taxonomy_nodes"), ("mapping rules", "mapping_rules"), ("articles", "articles"),
                   ("macros", "macros"), ("tickets", "tickets"))


def _by(conn: sqlite3.Connection, table: str, column: str) -> dict[str, int]:
    return dict(conn.execute(f"SELECT {column}, COUNT(*) FROM {table} GROUP BY {column}").fetchall())


def overview(conn: sqlite3.Connection) -> dict[str, int]:
    """Rows per kind of thing an admin sets up or receives, by a name for people."""
    return {name: conn.execute(f"SELECT COUNT(*) FROM {table}").fetchone()[0] for name, table in OVERVIEW_TABLES}


def gauges(conn: sqlite3.Connection) -> dict:
    """Articles by KCS state, tickets seen, agent events by kind, outbox jobs by state, deliveries by status."""
    return {"articles_by_state": _by(conn, "articles", "state"),
            "tickets": conn.execute("SELECT COUNT(*) FROM tickets").fetchone()[0],
            "events_by_kind": _by(conn, "events", "kind"),
            "outbox_by_state": outbox.counts(conn),
            "deliveries_by_status": _by(conn, "webhook_deliveries", "status")}
