"""The request's database connection (flaskr's get_db/close_db) and the app's configuration.

Each thread keeps its last connection open between requests (a gunicorn sync worker has one
thread), so a request does not pay for opening SQLite and setting its pragmas. A transaction left
open by a failed request is rolled back at teardown.
"""
from __future__ import annotations

import sqlite3
import threading

from flask import current_app, g

from store import connect

_local = threading.local()


def get_db() -> sqlite3.Connection:
    if "db" not in g:
        path = current_app.config["KS"]["database"]
        kept = getattr(_local, "kept", None)
        if kept is None or kept[0] != path:
            if kept is not None:
                kept[1].close()
            kept = _local.kept = (path, connect(path).conn)
        g.db = kept[1]
    return g.db


def close_db(_exc=None) -> None:
    db = g.pop("db", None)
    if db is not None and db.in_transaction:
        db.rollback()


def cfg() -> dict:
    return current_app.config["KS"]
