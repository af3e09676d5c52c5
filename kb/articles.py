"""Articles in KCS form: import (upsert on external_id), versions on every change, search index in step."""
from __future__ import annotations

import json
import sqlite3

from kb import import_checks, taxonomy
from store import now, write
from store.values import checked_text, row_id_fits
from suggest import index

STATES = ("wip", "not_validated", "validated", "archived")
VISIBILITIES = ("public", "internal")
TEXT_FIELDS = ("title", "body", "issue", "environment", "resolution", "cause", "owner")
MAX_TITLE = 500
MAX_TEXT = 200_000


class ArticleError(ValueError):
    pass


def clean(raw, default_language: str) -> dict:
    """Validate one incoming article; returns the row to store (without id) or raises ArticleError."""
    if not isinstance(raw, dict):
        raise ArticleError("each article must be a JSON object")
    row = {"external_id": import_checks.external_id(raw, ArticleError)}
    for key in TEXT_FIELDS:
        value = raw.get(key, "")
        if value is None:
            value = ""
        if not isinstance(value, str):
            raise ArticleError(f"{key} must be text")
        value = checked_text(value, key, ArticleError)
        if len(value) > (MAX_TITLE if key == "title" else MAX_TEXT):
            raise ArticleError(f"{key} is too long")
        row[key] = value.strip()
    if not row["title"]:
        raise ArticleError("title is required")
    if not (row["body"] or row["resolution"]):
        raise ArticleError("body (or resolution) is required")
    row["language"] = import_checks.language(raw.get("language"), f"{row['title']} {row['body']}", default_language,
                                       ArticleError)
    state = raw.get("state", "validated")
    if state not in STATES:
        raise ArticleError(f"state must be one of {list(STATES)}, got {state!r}")
    row["state"] = state
    vis = raw.get("visibility", "public")
    if vis not in VISIBILITIES:
        raise ArticleError(f"visibility must be one of {list(VISIBILITIES)}, got {vis!r}")
    row["visibility"] = vis
    row["taxonomy"] = import_checks.taxonomy_path(raw.get("taxonomy"), ArticleError)
    return row


def _content(row: dict) -> tuple:
    return tuple(row.get(k) for k in (*TEXT_FIELDS, "language", "state", "visibility", "node_id"))


def upsert(conn: sqlite3.Connection, row: dict, changed_by: str = "") -> str:
    """Insert or update one cleaned article inside the caller's transaction; 'created', 'updated' or 'skipped'."""
    row = dict(row)
    row["node_id"] = taxonomy.ensure_path(conn, row.pop("taxonomy", []))
    conn.row_factory = sqlite3.Row
    try:
        old = conn.execute("SELECT * FROM articles WHERE external_id = ?", (row["external_id"],)).fetchone()
    finally:
        conn.row_factory = None
    stamp = now()
    if old is None:
        cols = [*row.keys(), "version", "created_at", "updated_at"]
        cur = conn.execute(f"INSERT INTO articles ({', '.join(cols)}) VALUES ({', '.join('?' * len(cols))})",
                           (*row.values(), 1, stamp, stamp))
        row.update(id=cur.lastrowid, version=1)
        outcome = "created"
    else:
        old = dict(old)
        if _content(old) == _content(row):
            return "skipped"
        row.update(id=old["id"], version=old["version"] + 1)
        sets = ", ".join(f"{k} = ?" for k in row if k not in ("id", "external_id"))
        conn.execute(f"UPDATE articles SET {sets}, updated_at = ? WHERE id = ?",
                     (*(v for k, v in row.items() if k not in ("id", "external_id")), stamp, row["id"]))
        outcome = "updated"
    conn.execute("INSERT INTO article_versions (article_id, version, title, body, state, changed_by, changed_at) "
                 "VALUES (?, ?, ?, ?, ?, ?, ?)",
                 (row["id"], row["version"], row["title"], row["body"], row["state"], changed_by, stamp))
    index.put_article(conn, row)
    return outcome


def import_articles(conn: sqlite3.Connection, items: list, default_language: str, changed_by: str = "") -> dict:
    """Upsert a batch in one transaction; bad items are reported with their index in `items` and skipped."""
    result = {"created": 0, "updated": 0, "skipped": 0, "errors": []}
    with write(conn):
        for i, raw in enumerate(items):
            try:
                row = clean(raw, default_language)
                result[upsert(conn, row, changed_by)] += 1
            except (ArticleError, taxonomy.TaxonomyError) as exc:
                ext = raw.get("external_id") if isinstance(raw, dict) else None
                result["errors"].append({"index": i, "external_id": ext, "error": str(exc)})
    if not conn.in_transaction:
        index.catch_up(conn)    # this process's search index takes the batch now, not on the next query
    return result


def capture(conn: sqlite3.Connection, row: dict, changed_by: str, source_ticket: str) -> int:
    """A new article captured from a ticket (`source_ticket` is "<integration>:<ticket id>"), inside the caller's
    transaction; its id. ArticleError when the external_id is taken."""
    if conn.execute("SELECT 1 FROM articles WHERE external_id = ?", (row["external_id"],)).fetchone():
        raise ArticleError(f"external_id {row['external_id']!r} exists already")
    upsert(conn, row, changed_by)
    conn.execute("UPDATE articles SET source_ticket = ? WHERE external_id = ?", (source_ticket, row["external_id"]))
    return conn.execute("SELECT id FROM articles WHERE external_id = ?", (row["external_id"],)).fetchone()[0]


def count_reuse(conn: sqlite3.Connection, article_id: int) -> None:
    """One more reuse of the article (a ticket linked it), inside the caller's transaction."""
    conn.execute("UPDATE articles SET reuse_count = reuse_count + 1 WHERE id = ?", (article_id,))


def get(conn: sqlite3.Connection, article_id: int) -> dict | None:
    if not row_id_fits(article_id):
        return None
    conn.row_factory = sqlite3.Row
    try:
        row = conn.execute("SELECT a.*, n.names AS node_names FROM articles a "
                           "LEFT JOIN taxonomy_nodes n ON n.id = a.node_id WHERE a.id = ?", (article_id,)).fetchone()
    finally:
        conn.row_factory = None
    if row is None:
        return None
    out = dict(row)
    names = out.pop("node_names")
    out["taxonomy"] = json.loads(names) if names else []
    return out


def set_state(conn: sqlite3.Connection, article_id: int, state: str, changed_by: str = "") -> dict:
    """Move an article through the KCS states (a new version each time)."""
    if state not in STATES:
        raise ArticleError(f"state must be one of {list(STATES)}")
    art = get(conn, article_id)
    if art is None:
        raise ArticleError(f"no article {article_id}")
    art["state"] = state
    with write(conn):
        upsert(conn, {k: art[k] for k in ("external_id", *TEXT_FIELDS, "language", "state", "visibility")}
               | {"taxonomy": art["taxonomy"]}, changed_by)
    return get(conn, article_id)


def find_by_helpdesk(conn: sqlite3.Connection, helpdesk_id: str, language: str) -> dict | None:
    """The article in this language that stands for the helpdesk's article `helpdesk_id` (a Help Center article
    has one row per language here), or None."""
    row = conn.execute("SELECT id FROM articles WHERE helpdesk_id = ? AND language = ? ORDER BY id LIMIT 1",
                       (str(helpdesk_id), language)).fetchone()
    return get(conn, row[0]) if row else None


def helpdesk_group(conn: sqlite3.Connection, helpdesk_id: str) -> str | None:
    """The translation group of the rows that already stand for this helpdesk article, if any."""
    row = conn.execute("SELECT translation_group FROM articles WHERE helpdesk_id = ? AND translation_group IS NOT NULL "
                       "ORDER BY id LIMIT 1", (str(helpdesk_id),)).fetchone()
    return row[0] if row else None


def variants(conn: sqlite3.Connection, article: dict) -> list[dict]:
    """The article's language variants (same translation_group), itself included, oldest first."""
    if not article.get("translation_group"):
        return [article]
    ids = conn.execute("SELECT id FROM articles WHERE translation_group = ? ORDER BY id",
                       (article["translation_group"],)).fetchall()
    return [get(conn, r[0]) for r in ids]


def set_helpdesk(conn: sqlite3.Connection, article_id: int, helpdesk_id: str | None, helpdesk_url: str | None,
                 translation_group: str | None = None) -> None:
    """Remember where the article lives in the helpdesk (its id and URL there) and, when given, its translation
    group, inside the caller's transaction. Not content: no new version."""
    sets, args = "helpdesk_id = ?, helpdesk_url = ?", [helpdesk_id, helpdesk_url]
    if translation_group is not None:
        sets += ", translation_group = ?"
        args.append(translation_group)
    conn.execute(f"UPDATE articles SET {sets} WHERE id = ?", (*args, article_id))
