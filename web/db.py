"""The request's database connection (flaskr's get_db/close_db) and the app's configuration."""
from __future__ import annotations

import sqlite3

from flask import current_app, g

from store import connect


def get_db() -> sqlite3.Connection:
    if "db" not in g:
        g.db = connect(current_app.config["KS"]["database"]).conn
    return g.db


def close_db(_exc=None) -> None:
    db = g.pop("db", None)
    if db is not None:
        db.close()


def cfg() -> dict:
    return current_app.config["KS"]
