"""The search index, kept in step with SQLite across processes.

SQLite stays the truth. Every change to an article or macro appends its id to `search_log` inside the
writer's own transaction (so a rolled-back import leaves no trace). Each process (gunicorn workers, the
worker, the CLI) holds in-memory `engine.Index`es, one per kind and language, and before each search
reads the log past the last sequence it applied: one indexed `max(seq)` lookup when nothing changed,
otherwise it re-reads only the changed rows. `rebuild` logs a marker that makes every process reload
everything from the articles and macros tables; so does a log trimmed past a process's position.
"""
from __future__ import annotations

import re
import sqlite3
import threading
from collections.abc import Iterator
from contextlib import contextmanager

from suggest.engine import Index

KEEP_LOG = 100_000
MAX_DATABASES = 8
_REGISTRY: dict[str, Searcher] = {}
_LOCK = threading.RLock()

ARTICLE_BODY = ("issue", "environment", "body", "resolution", "cause")
ARTICLE_COLS = "id, title, " + ", ".join(ARTICLE_BODY) + ", language, state, visibility"
MACRO_COLS = "id, title, body, language, active"
TEMPLATE_TAG_RE = re.compile(r"\{\{.*?\}\}|\{%.*?%\}|\{#.*?#\}", re.DOTALL)   # placeholders are not words


def _log(conn: sqlite3.Connection, kind: str, item_id: int) -> None:
    seq = conn.execute("INSERT INTO search_log (kind, item_id) VALUES (?, ?)", (kind, item_id)).lastrowid
    if seq % 5000 == 0:
        conn.execute("DELETE FROM search_log WHERE seq <= ?", (seq - KEEP_LOG,))


def put_article(conn: sqlite3.Connection, row: dict) -> None:
    """Call inside the transaction that wrote the article: every process re-reads it on its next search."""
    _log(conn, "article", row["id"])


def drop_article(conn: sqlite3.Connection, article_id: int) -> None:
    _log(conn, "article", article_id)


def put_macro(conn: sqlite3.Connection, row: dict) -> None:
    _log(conn, "macro", row["id"])


def drop_macro(conn: sqlite3.Connection, macro_id: int) -> None:
    _log(conn, "macro", macro_id)


def rebuild(conn: sqlite3.Connection) -> int:
    """Make every process reload its index from the tables; returns how many rows that covers."""
    _log(conn, "all", 0)
    n = conn.execute("SELECT (SELECT count(*) FROM articles) + (SELECT count(*) FROM macros)").fetchone()[0]
    if not conn.in_transaction:
        searcher(conn)
    return n


class Searcher:
    """One process's view of one database: article and macro indexes per language."""

    def __init__(self):
        self.seq = 0
        self.articles: dict[str, Index] = {}
        self.macros: dict[str, Index] = {}

    def _index(self, kind: str, language: str) -> Index:
        table = self.articles if kind == "article" else self.macros
        if language not in table:
            table[language] = Index(language)
        return table[language]

    def _apply(self, kind: str, row: tuple | None, item_id: int) -> None:
        for table in (self.articles if kind == "article" else self.macros).values():
            table.remove(item_id)
        if row is None:
            return
        if kind == "article":
            _, title, *body, language, state, visibility = row
            self._index(kind, language).add(item_id, title, "\n".join(b for b in body if b), state, visibility)
        else:
            _, title, body, language, active = row
            if active:
                self._index(kind, language).add(item_id, title, TEMPLATE_TAG_RE.sub(" ", body))

    def _load(self, conn: sqlite3.Connection, kind: str, ids: list[int] | None) -> None:
        table, cols = ("articles", ARTICLE_COLS) if kind == "article" else ("macros", MACRO_COLS)
        if ids is None:
            for row in conn.execute(f"SELECT {cols} FROM {table} ORDER BY id"):
                self._apply(kind, row, row[0])
            return
        for i in range(0, len(ids), 500):
            chunk = ids[i:i + 500]
            rows = {r[0]: r for r in conn.execute(
                f"SELECT {cols} FROM {table} WHERE id IN ({','.join('?' * len(chunk))})", chunk)}
            for item_id in chunk:
                self._apply(kind, rows.get(item_id), item_id)

    def sync(self, conn: sqlite3.Connection) -> None:
        if conn.in_transaction:
            return      # uncommitted (maybe rolled back) log entries must not advance this process's position
        top = conn.execute("SELECT max(seq) FROM search_log").fetchone()[0] or 0
        if top == self.seq:
            return
        rows = conn.execute("SELECT seq, kind, item_id FROM search_log WHERE seq > ? AND seq <= ? ORDER BY seq",
                            (self.seq, top)).fetchall() if top > self.seq else []
        full = (top < self.seq or not rows or rows[0][0] != self.seq + 1 or any(r[1] == "all" for r in rows)
                or self._dead_share() > 0.3)
        if full:
            self.articles, self.macros = {}, {}
            self._load(conn, "article", None)
            self._load(conn, "macro", None)
        else:
            for kind in ("article", "macro"):
                ids = list(dict.fromkeys(r[2] for r in rows if r[1] == kind))
                if ids:
                    self._load(conn, kind, ids)
        self.seq = top

    def _dead_share(self) -> float:
        ixs = [*self.articles.values(), *self.macros.values()]
        dead, total = sum(i.dead for i in ixs), sum(i.item.n for i in ixs)
        return dead / total if total > 1000 else 0.0


def _key(conn: sqlite3.Connection) -> str:
    path = conn.execute("PRAGMA database_list").fetchone()[2]
    return path or f"memory:{id(conn)}"


def searcher(conn: sqlite3.Connection) -> Searcher:
    """This process's index for the connection's database, brought up to date."""
    with _LOCK:
        s = _REGISTRY.get(key := _key(conn))
        if s is None:
            while len(_REGISTRY) >= MAX_DATABASES:
                _REGISTRY.pop(next(iter(_REGISTRY)))
            s = _REGISTRY[key] = Searcher()
        s.sync(conn)
        return s


def catch_up(conn: sqlite3.Connection) -> None:
    """Bring this process's index up to date now (after a bulk write) rather than on the next search."""
    searcher(conn)


@contextmanager
def reading(conn: sqlite3.Connection) -> Iterator[Searcher]:
    """The up-to-date searcher, held against concurrent updates by other threads while in use."""
    with _LOCK:
        yield searcher(conn)
