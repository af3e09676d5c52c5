"""The outbox: write-backs to the helpdesk queued in the request, carried out by the worker.

It sits in the store, below everything that fills it (tickets/ queues write-backs in the same transaction as
the event that causes them) and below the worker that drains it (jobs/worker.py), so neither imports the other.

A job is claimed with a conditional UPDATE (state and claim checked in the WHERE), so two workers
never take the same job; a claim older than the claim timeout is taken over (its worker died).
"""
from __future__ import annotations

import json
import os
import socket
import sqlite3

from store.clock import after, now
from store.db import write

# Ticket write-backs (jobs/write_back.py), knowledge sync (sync/), notices (jobs/notices.py): a job that is not
# about one ticket has ticket_external_id "" and names its subject in the payload.
KINDS = ("note", "link", "tags", "set_field", "fetch_fields", "publish_article", "push_macro", "notice")


def enqueue(conn: sqlite3.Connection, integration: str, ticket_external_id: str, kind: str, payload: dict,
            delay_s: float = 0) -> int:
    if kind not in KINDS:
        raise ValueError(f"unknown outbox kind {kind!r}")
    with write(conn):
        cur = conn.execute("INSERT INTO outbox (integration, ticket_external_id, kind, payload, next_attempt_at, "
                           "created_at) VALUES (?, ?, ?, ?, ?, ?)",
                           (integration, str(ticket_external_id), kind, json.dumps(payload), after(delay_s), now()))
        return cur.lastrowid


def worker_name() -> str:
    return f"{socket.gethostname()}:{os.getpid()}"


def claim(conn: sqlite3.Connection, claim_timeout_s: float, who: str | None = None,
          integration: str | None = None) -> dict | None:
    """Take the oldest due job (of one integration, when given), or None. Safe against other workers."""
    who = who or worker_name()
    stale = after(-claim_timeout_s)
    stamp = now()
    due = "((state = 'pending' AND next_attempt_at <= ?) OR (state = 'running' AND claimed_at < ?))"
    only, args = ("AND integration = ?", (integration,)) if integration else ("", ())
    with write(conn):
        row = conn.execute(f"SELECT id FROM outbox WHERE {due} {only} ORDER BY next_attempt_at, id LIMIT 1",
                           (stamp, stale, *args)).fetchone()
        if row is None:
            return None
        taken = conn.execute(f"UPDATE outbox SET state = 'running', claimed_by = ?, claimed_at = ?, "
                             f"attempts = attempts + 1 WHERE id = ? AND {due}",
                             (who, stamp, row[0], stamp, stale)).rowcount
        if not taken:
            return None
        cur = conn.execute("SELECT * FROM outbox WHERE id = ?", (row[0],))
        job = dict(zip([c[0] for c in cur.description], cur.fetchone()))
    job["payload"] = json.loads(job["payload"])
    return job


def done(conn: sqlite3.Connection, job_id: int) -> None:
    with write(conn):
        conn.execute("UPDATE outbox SET state = 'done', done_at = ?, last_error = NULL WHERE id = ?", (now(), job_id))


def retry(conn: sqlite3.Connection, job: dict, error: str, delay_s: float, max_attempts: int) -> str:
    """Back to pending after delay_s, or failed when attempts are used up; returns the new state."""
    state = "failed" if job["attempts"] >= max_attempts else "pending"
    with write(conn):
        conn.execute("UPDATE outbox SET state = ?, next_attempt_at = ?, last_error = ?, claimed_by = NULL "
                     "WHERE id = ?", (state, after(delay_s), error[:2000], job["id"]))
    return state


def fail(conn: sqlite3.Connection, job_id: int, error: str) -> None:
    with write(conn):
        conn.execute("UPDATE outbox SET state = 'failed', last_error = ?, claimed_by = NULL WHERE id = ?",
                     (error[:2000], job_id))


def hold(conn: sqlite3.Connection, integration: str, reason: str) -> int:
    """Say on an integration's waiting jobs why they wait (e.g. not configured): they stay pending,
    unclaimed, with their attempts untouched, and go out as soon as the worker can send them."""
    with write(conn):
        return conn.execute("UPDATE outbox SET last_error = ? WHERE integration = ? AND state = 'pending' "
                            "AND last_error IS NOT ?", (reason, integration, reason)).rowcount


def counts(conn: sqlite3.Connection) -> dict:
    return dict(conn.execute("SELECT state, COUNT(*) FROM outbox GROUP BY state").fetchall())
