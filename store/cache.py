"""Answers fetched from a helpdesk API, kept in the database so every process shares them (the Zendesk app's
public key, the account's ticket fields, agents' display names), each with the time it was fetched."""
from __future__ import annotations

import json
import sqlite3

from store.clock import now, seconds_since
from store.db import write


def get(conn: sqlite3.Connection, key: str, max_age_s: float | None = None):
    """The value stored under key (any JSON), or None when absent or older than max_age_s."""
    row = conn.execute("SELECT value, fetched_at FROM cache WHERE key = ?", (key,)).fetchone()
    if row is None:
        return None
    if max_age_s is not None and seconds_since(row[1]) > max_age_s:
        return None
    return json.loads(row[0])


def fetched_at(conn: sqlite3.Connection, key: str) -> str | None:
    row = conn.execute("SELECT fetched_at FROM cache WHERE key = ?", (key,)).fetchone()
    return row[0] if row else None


def put(conn: sqlite3.Connection, key: str, value) -> None:
    with write(conn):
        conn.execute("INSERT INTO cache (key, value, fetched_at) VALUES (?, ?, ?) ON CONFLICT(key) DO UPDATE SET "
                     "value = excluded.value, fetched_at = excluded.fetched_at", (key, json.dumps(value), now()))


def forget(conn: sqlite3.Connection, key: str) -> None:
    with write(conn):
        conn.execute("DELETE FROM cache WHERE key = ?", (key,))
