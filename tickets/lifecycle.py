"""A ticket's whole life as the helpdesk tells it: the timeline of its status, group and assignee changes and
public replies, its current state, and the outcome figures the reports build on.

Owns the table ticket_timeline and the columns tickets.status, group_id and assignee_id. Webhooks come in any
order and more than once: each entry is kept once per helpdesk event id (a ticket has one `created` entry,
whichever delivery told it first), and the timeline is ordered by when things happened in the helpdesk, not by
when they arrived. The current status, group and assignee are those of the latest entry of each kind, so a late
delivery of an older change never rolls the ticket back.

Outcome definitions (tickets/reports.py and the reports page use these):
- solved_at: the last time the ticket became solved or closed, if it is solved or closed now;
- reopened: the ticket went from solved (or closed) back to new, open, pending or on hold at least once;
- first_contact_resolution: solved now and never reopened;
- escalated: its group changed at least once after it first had one (a move to another group or tier);
- handle_hours: from the helpdesk's creation time to solved_at.
"""
from __future__ import annotations

import sqlite3
from datetime import UTC, datetime

from integrations.base import Change
from store import now, write

KINDS = ("created", "status", "group", "assignee", "public_reply")
SOLVED = ("solved", "closed")
COLUMNS = ("kind", "at", "previous", "current", "actor")


def record(conn: sqlite3.Connection, ticket_row_id: int, change: Change) -> bool:
    """Keep the change on the ticket's timeline (in the caller's transaction, or its own) and bring the ticket's
    current status, group and assignee up to date. False when it is not a timeline kind or is kept already."""
    if change.kind not in KINDS:
        return False
    event_id = "created" if change.kind == "created" else change.event_id
    with write(conn):
        added = conn.execute(
            "INSERT OR IGNORE INTO ticket_timeline (ticket_id, source_event_id, kind, at, previous, current, actor, "
            "recorded_at) VALUES (?, ?, ?, ?, ?, ?, ?, ?)",
            (ticket_row_id, event_id, change.kind, change.at, change.previous, change.current, change.actor,
             now())).rowcount > 0
        if added:
            _refresh_current(conn, ticket_row_id)
    return added


def _latest(conn: sqlite3.Connection, ticket_row_id: int, kinds: tuple[str, ...]) -> tuple | None:
    marks = ", ".join("?" * len(kinds))
    return conn.execute(f"SELECT current FROM ticket_timeline WHERE ticket_id = ? AND kind IN ({marks}) "
                        "ORDER BY at DESC, id DESC LIMIT 1", (ticket_row_id, *kinds)).fetchone()


def _refresh_current(conn: sqlite3.Connection, ticket_row_id: int) -> None:
    for column, kinds in (("status", ("status", "created")), ("group_id", ("group",)),
                          ("assignee_id", ("assignee",))):
        row = _latest(conn, ticket_row_id, kinds)
        if row is not None:
            conn.execute(f"UPDATE tickets SET {column} = ? WHERE id = ?", (row[0], ticket_row_id))


def timeline(conn: sqlite3.Connection, ticket_row_id: int) -> list[dict]:
    """The ticket's timeline, oldest first."""
    rows = conn.execute(f"SELECT {', '.join(COLUMNS)} FROM ticket_timeline WHERE ticket_id = ? ORDER BY at, id",
                        (ticket_row_id,)).fetchall()
    return [dict(zip(COLUMNS, r)) for r in rows]


def _hours(start: str | None, end: str | None) -> float | None:
    if not (start and end):
        return None
    fmt = "%Y-%m-%dT%H:%M:%SZ"
    span = datetime.strptime(end, fmt).replace(tzinfo=UTC) - datetime.strptime(start, fmt).replace(tzinfo=UTC)
    return round(max(span.total_seconds(), 0) / 3600, 2)


def outcome(entries: list[dict], created_at: str | None = None) -> dict:
    """The outcome figures of one timeline (oldest first); `created_at` is the helpdesk's creation time when known."""
    created = next((e["at"] for e in entries if e["kind"] == "created"), None) or created_at
    status, solved_at, reopened, groups = None, None, False, 0
    for e in entries:
        if e["kind"] in ("created", "status") and e["current"]:
            if status in SOLVED and e["current"] not in SOLVED:
                reopened = True
            if e["current"] in SOLVED and status not in SOLVED:
                solved_at = e["at"]
            status = e["current"]
        elif e["kind"] == "group" and e["current"]:
            groups += 1 if e["previous"] else 0
    solved = status in SOLVED
    return {"status": status, "created_at": created, "solved_at": solved_at if solved else None,
            "reopened": reopened, "first_contact_resolution": solved and not reopened, "escalated": groups > 0,
            "handle_hours": _hours(created, solved_at) if solved else None}
