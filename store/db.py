"""Opening the database (WAL, busy timeout, foreign keys) and applying migrations."""
from __future__ import annotations

import sqlite3
import time
from contextlib import contextmanager
from pathlib import Path

import sqlite_utils

from store.clock import now
from store.migrations import MIGRATIONS

BUSY_TIMEOUT_MS = 10_000


def connect(path: str | Path) -> sqlite_utils.Database:
    path = Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    conn = sqlite3.connect(str(path), timeout=BUSY_TIMEOUT_MS / 1000, isolation_level=None,
                           check_same_thread=False)
    db = sqlite_utils.Database(conn)
    db.execute(f"PRAGMA busy_timeout = {BUSY_TIMEOUT_MS}")
    db.execute("PRAGMA foreign_keys = ON")
    db.execute("PRAGMA synchronous = NORMAL")
    _use_wal(db)
    return db


def _use_wal(db: sqlite_utils.Database) -> None:
    """Switch the file to WAL (a no-op once it is). When another process opens or converts the same new file
    at that moment, SQLite can refuse the switch at once ("database is locked", or the old mode returned)
    without waiting on the busy timeout: two `init-db` started together hit this. So retry, up to the timeout."""
    deadline = time.monotonic() + BUSY_TIMEOUT_MS / 1000
    while True:
        try:
            if db.execute("PRAGMA journal_mode").fetchone()[0] == "wal":
                return
            if db.execute("PRAGMA journal_mode = WAL").fetchone()[0] == "wal":
                return
            reason = "journal mode stayed unchanged"
        except sqlite3.OperationalError as exc:
            if "locked" not in str(exc) and "busy" not in str(exc):
                raise
            reason = str(exc)
        if time.monotonic() > deadline:
            raise sqlite3.OperationalError(f"could not switch the database to WAL: {reason}")
        time.sleep(0.02)


@contextmanager
def write(conn: sqlite3.Connection):
    """One write transaction, taken IMMEDIATE so concurrent writers queue on the busy timeout
    instead of failing on a lock upgrade. Nested use joins the outer transaction."""
    if conn.in_transaction:
        yield conn
        return
    conn.execute("BEGIN IMMEDIATE")
    try:
        yield conn
    except BaseException:
        conn.execute("ROLLBACK")
        raise
    conn.execute("COMMIT")


def instance_secret(conn: sqlite3.Connection) -> str:
    """This installation's random secret (migration 0004), shared by every process through the database."""
    return conn.execute("SELECT value FROM instance WHERE key = 'session_secret'").fetchone()[0]


def applied(db: sqlite_utils.Database) -> list[str]:
    if "_migrations" not in db.table_names():
        return []
    return [r[0] for r in db.execute("SELECT name FROM _migrations ORDER BY id")]


def migrate(db: sqlite_utils.Database) -> list[str]:
    """Apply the migrations not yet applied, each in its own transaction; return their names."""
    db.execute("CREATE TABLE IF NOT EXISTS _migrations (id INTEGER PRIMARY KEY, name TEXT UNIQUE, applied_at TEXT)")
    done = set(applied(db))
    ran = []
    for number, (name, step) in enumerate(MIGRATIONS, start=1):
        label = f"{number:04d}_{name}"
        if label in done:
            continue
        with write(db.conn) as conn:
            # Another process may have applied it while we waited for the write lock.
            if conn.execute("SELECT 1 FROM _migrations WHERE name = ?", (label,)).fetchone():
                continue
            step(conn)
            conn.execute("INSERT INTO _migrations (name, applied_at) VALUES (?, ?)", (label, now()))
        ran.append(label)
    return ran
