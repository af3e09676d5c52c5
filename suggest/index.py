"""The search index, kept in step with SQLite across processes.

SQLite stays the truth. Every change to an article or macro appends its id to `search_log` inside the
writer's own transaction (so a rolled-back import leaves no trace). Each process (gunicorn workers, the
worker, the CLI) holds in-memory `engine.Index`es, one per kind and language, and before each search
reads the log past the last sequence it applied: one indexed `max(seq)` lookup when nothing changed,
otherwise it re-reads only the changed rows. `rebuild` logs a marker that makes every process reload
everything from the articles and macros tables; so does a log trimmed past a process's position.

Use is indexed too (kind "reuse"): each reused article gets a profile, the text of the tickets it was
reused on (the latest `PROFILE_TICKETS`), evidence for the article's taxonomy node (suggest/infer.py). A
`reused` event logs its article; a later change of a ticket's text logs the articles reused on it.
"""
from __future__ import annotations

import logging
import os
import re
import sqlite3
import threading
import time
from collections.abc import Iterator
from contextlib import contextmanager

from suggest import snapshot
from suggest.engine import Index
from suggest.language import resolve

log = logging.getLogger(__name__)
KEEP_LOG = 100_000
MAX_DATABASES = 8
_REGISTRY: dict[str, Searcher] = {}
_LOCK = threading.RLock()

ARTICLE_BODY = ("issue", "environment", "body", "resolution", "cause")
ARTICLE_COLS = "id, title, " + ", ".join(ARTICLE_BODY) + ", language, state, visibility"
MACRO_COLS = "id, title, body, language, active"
REUSE_TICKETS = """SELECT e.article_id, t.subject, t.description, t.language, t.locale
                   FROM events e JOIN tickets t ON t.id = e.ticket_id
                   WHERE e.kind = 'reused' {where}
                   GROUP BY e.article_id, t.id ORDER BY e.article_id, max(e.id) DESC"""
PROFILE_TICKETS = 200               # the latest tickets an article's reuse profile keeps
TICKET_DEFAULT_LANGUAGE = "en"      # only for a ticket that has neither a language, a locale nor telling words
TEMPLATE_TAG_RE = re.compile(r"\{\{.*?\}\}|\{%.*?%\}|\{#.*?#\}", re.DOTALL)   # placeholders are not words


def _log(conn: sqlite3.Connection, kind: str, item_id: int) -> None:
    seq = conn.execute("INSERT INTO search_log (kind, item_id, nonce) VALUES (?, ?, lower(hex(randomblob(8))))",
                       (kind, item_id)).lastrowid
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


def put_reuse(conn: sqlite3.Connection, article_id: int) -> None:
    """Call inside the transaction that recorded a `reused` event of the article."""
    _log(conn, "reuse", article_id)


def ticket_changed(conn: sqlite3.Connection, ticket_id: int) -> None:
    """Call inside the transaction that changed a ticket's text: the profiles of the articles reused on it follow."""
    for (article_id,) in conn.execute("SELECT DISTINCT article_id FROM events WHERE ticket_id = ? AND kind = 'reused'",
                                      (ticket_id,)).fetchall():
        _log(conn, "reuse", article_id)


def rebuild(conn: sqlite3.Connection) -> int:
    """Make every process reload its index from the tables; returns how many rows that covers."""
    _log(conn, "all", 0)
    n = conn.execute("SELECT (SELECT count(*) FROM articles) + (SELECT count(*) FROM macros)").fetchone()[0]
    if not conn.in_transaction:
        searcher(conn)
    return n


class Searcher:
    """One process's view of one database: article, macro and reuse-profile indexes per language."""

    def __init__(self):
        self.seq = 0
        self.articles: dict[str, Index] = {}
        self.macros: dict[str, Index] = {}
        self.reuse: dict[str, Index] = {}                 # article id → text of the tickets it was reused on
        self.reuse_tickets: dict[tuple[str, int], int] = {}   # (language, article id) → tickets in its profile

    def _table(self, kind: str) -> dict[str, Index]:
        return {"article": self.articles, "macro": self.macros, "reuse": self.reuse}[kind]

    def _index(self, kind: str, language: str) -> Index:
        table = self._table(kind)
        if language not in table:
            table[language] = Index(language)
        return table[language]

    def _apply(self, kind: str, row: tuple | None, item_id: int) -> None:
        for table in self._table(kind).values():
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

    def _profile(self, article_id: int, tickets: list[tuple]) -> None:
        """(Re)index one article's reuse profile: its tickets' text, per ticket language."""
        for lang, table in self.reuse.items():
            table.remove(article_id)
            self.reuse_tickets.pop((lang, article_id), None)
        by_lang: dict[str, list[str]] = {}
        for subject, description, language, locale in tickets[:PROFILE_TICKETS]:
            text = f"{subject}\n{description}".strip()
            if text:
                by_lang.setdefault(resolve(language, locale, text, TICKET_DEFAULT_LANGUAGE), []).append(text)
        for lang, texts in by_lang.items():
            self._index("reuse", lang).add(article_id, "", "\n".join(texts))
            self.reuse_tickets[(lang, article_id)] = len(texts)

    def _load_reuse(self, conn: sqlite3.Connection, ids: list[int] | None) -> None:
        chunks = [None] if ids is None else [ids[i:i + 500] for i in range(0, len(ids), 500)]
        for chunk in chunks:
            where = f"AND e.article_id IN ({','.join('?' * len(chunk))})" if chunk else ""
            found: dict[int, list[tuple]] = {a: [] for a in chunk or ()}
            for article_id, *ticket in conn.execute(REUSE_TICKETS.format(where=where), chunk or ()):
                found.setdefault(article_id, []).append(ticket)
            for article_id, tickets in found.items():
                self._profile(article_id, tickets)

    def _load(self, conn: sqlite3.Connection, kind: str, ids: list[int] | None) -> None:
        if kind == "reuse":
            return self._load_reuse(conn, ids)
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
            started = time.perf_counter()
            self.articles, self.macros, self.reuse, self.reuse_tickets = {}, {}, {}, {}
            for kind in ("article", "macro", "reuse"):
                self._load(conn, kind, None)
            log.info("search index: full load of %d articles in %.1f s (pid %d)",
                     sum(i.n_alive for i in self.articles.values()), time.perf_counter() - started, os.getpid())
        else:
            for kind in ("article", "macro", "reuse"):
                ids = list(dict.fromkeys(r[2] for r in rows if r[1] == kind))
                if ids:
                    self._load(conn, kind, ids)
        self.seq = top

    def _dead_share(self) -> float:
        ixs = [*self.articles.values(), *self.macros.values(), *self.reuse.values()]
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


def warm(database: str, use_snapshot: bool = False) -> None:
    """Build this process's index now. gunicorn.conf.py calls it in the master before the workers fork,
    so each worker starts with the index (copy-on-write) instead of rebuilding it on its first request.

    With `use_snapshot`, start from the signed snapshot next to the database when it is valid
    (suggest/snapshot.py), catch up through the log, and write the snapshot again if the index moved."""
    from store import connect

    conn = connect(database).conn
    path = snapshot.path_for(database) if use_snapshot else None
    try:
        with _LOCK:
            loaded = snapshot.load(conn, path) if path else None
            if loaded is not None:
                _REGISTRY[_key(conn)] = loaded
                log.info("search index: snapshot at log position %d loaded from %s", loaded.seq, path)
            before = loaded.seq if loaded is not None else None
            current = searcher(conn)
            if path and (loaded is None or current.seq != before):
                try:
                    if snapshot.save(conn, current, path):
                        log.info("search index: snapshot at log position %d written to %s", current.seq, path)
                except OSError as exc:
                    log.warning("search index: snapshot not written to %s: %s", path, exc)
    finally:
        conn.close()


def catch_up(conn: sqlite3.Connection) -> None:
    """Bring this process's index up to date now (after a bulk write) rather than on the next search."""
    searcher(conn)


@contextmanager
def reading(conn: sqlite3.Connection) -> Iterator[Searcher]:
    """The up-to-date searcher, held against concurrent updates by other threads while in use."""
    with _LOCK:
        yield searcher(conn)
