"""The search index: SQLite FTS5 tables over analysed terms, kept in step with articles and macros.

The FTS rowid is the article's (or macro's) id, so an edit replaces one row and a delete removes
one: no rebuild on change. `rebuild` re-analyses everything from the articles table.
"""
from __future__ import annotations

import sqlite3

from suggest.analysis import terms


def _doc(title: str, body: str, language: str) -> tuple[str, str]:
    return " ".join(terms(title, language)), " ".join(terms(body, language))


def article_text(row: dict) -> tuple[str, str]:
    body = " ".join(row.get(k) or "" for k in ("issue", "environment", "body", "resolution", "cause"))
    return _doc(row["title"], body, row["language"])


def put_article(conn: sqlite3.Connection, row: dict) -> None:
    title, body = article_text(row)
    conn.execute("DELETE FROM article_search WHERE rowid = ?", (row["id"],))
    conn.execute("INSERT INTO article_search (rowid, title, body) VALUES (?, ?, ?)", (row["id"], title, body))


def drop_article(conn: sqlite3.Connection, article_id: int) -> None:
    conn.execute("DELETE FROM article_search WHERE rowid = ?", (article_id,))


def put_macro(conn: sqlite3.Connection, row: dict) -> None:
    title, body = _doc(row["title"], row["body"], row["language"])
    conn.execute("DELETE FROM macro_search WHERE rowid = ?", (row["id"],))
    conn.execute("INSERT INTO macro_search (rowid, title, body) VALUES (?, ?, ?)", (row["id"], title, body))


def rebuild(conn: sqlite3.Connection) -> int:
    """Re-analyse every article and macro; returns how many rows were indexed."""
    conn.row_factory = sqlite3.Row
    conn.execute("DELETE FROM article_search")
    conn.execute("DELETE FROM macro_search")
    n = 0
    for row in conn.execute("SELECT * FROM articles").fetchall():
        put_article(conn, dict(row))
        n += 1
    for row in conn.execute("SELECT * FROM macros").fetchall():
        put_macro(conn, dict(row))
        n += 1
    conn.row_factory = None
    return n


def match_expression(query_terms: list[str]) -> str | None:
    """An FTS5 OR-query of quoted terms: user text can never be read as FTS5 syntax."""
    unique = list(dict.fromkeys(t for t in query_terms if t))
    if not unique:
        return None
    return " OR ".join('"' + t.replace('"', '""') + '"' for t in unique)
