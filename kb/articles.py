"""Articles in KCS form: the model, import (upsert on external_id), a whole-article version on every change, the
search index in step.

An article's fields (FIELDS, every one of them versioned): the KCS fields (issue in the customer's words,
environment, resolution, cause, keywords), title and body, type, language and translation group (variants of one
article per language or market), taxonomy node, state (wip → not_validated → validated → archived; who may move
which is kb/lifecycle.py), visibility (internal or public), owner (a person: an API token's name or a helpdesk
agent's id; an article filed without one takes its node's default owner) and review-by date.
"""
from __future__ import annotations

import json
import re
import sqlite3
from datetime import date

from kb import import_checks, taxonomy
from store import now, write
from store.values import checked_text, row_id_fits
from suggest import index

STATES = ("wip", "not_validated", "validated", "archived")
VISIBILITIES = ("public", "internal")
TYPES = ("troubleshooting", "reference", "policy")
TEXT_FIELDS = ("title", "body", "issue", "environment", "resolution", "cause", "owner")
# Every field a version keeps; `taxonomy` is the node's path.
FIELDS = (*TEXT_FIELDS, "keywords", "type", "language", "translation_group", "state", "visibility", "review_by",
          "taxonomy")
MAX_TITLE = 500
MAX_TEXT = 200_000
MAX_KEYWORDS = 50
DATE_RE = re.compile(r"^\d{4}-\d{2}-\d{2}$")


class ArticleError(ValueError):
    pass


def keywords(value, error: type[Exception] = ArticleError) -> list[str]:
    """Keywords as a list of short phrases, from a list or a comma-separated text; duplicates dropped."""
    if value in (None, ""):
        return []
    items = value.split(",") if isinstance(value, str) else value
    if not isinstance(items, list) or not all(isinstance(k, str) for k in items):
        raise error("keywords must be a list of words or phrases, or a comma-separated text")
    out = []
    for item in items:
        word = checked_text(item, "keywords", error).strip()[:100]
        if word and word.casefold() not in (k.casefold() for k in out):
            out.append(word)
    if len(out) > MAX_KEYWORDS:
        raise error(f"at most {MAX_KEYWORDS} keywords")
    return out


def review_date(value, error: type[Exception] = ArticleError) -> str | None:
    if value in (None, ""):
        return None
    if not isinstance(value, str) or not DATE_RE.match(value.strip()):
        raise error(f"review_by must be a date as YYYY-MM-DD, got {value!r}")
    try:
        return date.fromisoformat(value.strip()).isoformat()
    except ValueError:
        raise error(f"review_by is not a calendar date: {value!r}") from None


DEFAULTS = {"body": "", "issue": "", "environment": "", "resolution": "", "cause": "", "owner": "", "keywords": [],
            "type": "troubleshooting", "translation_group": None, "state": "validated", "visibility": "public",
            "review_by": None, "taxonomy": []}


def clean(raw, default_language: str) -> dict:
    """Validate one incoming article; returns the row to store (without id) or raises ArticleError. A field the
    item does not name is left out of the row: a new article takes its default (DEFAULTS), an existing one keeps
    what it has (so a re-import does not wipe what an editor added)."""
    if not isinstance(raw, dict):
        raise ArticleError("each article must be a JSON object")
    row = {"external_id": import_checks.external_id(raw, ArticleError)}
    for key in TEXT_FIELDS:
        if key not in raw and key != "title":
            continue
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
    if not (row.get("body") or row.get("resolution")):
        raise ArticleError("body (or resolution) is required")
    row["language"] = import_checks.language(raw.get("language"), f"{row['title']} {row.get('body', '')}",
                                             default_language, ArticleError)
    for key, allowed in (("state", STATES), ("visibility", VISIBILITIES), ("type", TYPES)):
        if key in raw:
            if raw[key] not in allowed:
                raise ArticleError(f"{key} must be one of {list(allowed)}, got {raw[key]!r}")
            row[key] = raw[key]
    if "keywords" in raw:
        row["keywords"] = keywords(raw["keywords"])
    if "review_by" in raw:
        row["review_by"] = review_date(raw["review_by"])
    if "translation_group" in raw:
        group = raw["translation_group"]
        if group not in (None, "") and (isinstance(group, bool) or not isinstance(group, (str, int))):
            raise ArticleError("translation_group must be text (the id shared by an article's language variants)")
        row["translation_group"] = (checked_text(str(group), "translation_group", ArticleError).strip()[:200]
                                    or None) if group not in (None, "") else None
    if "taxonomy" in raw:
        row["taxonomy"] = import_checks.taxonomy_path(raw["taxonomy"], ArticleError)
    return row


def snapshot(article: dict) -> dict:
    """The whole article as a version keeps it (FIELDS)."""
    return {k: article.get(k) for k in FIELDS}


def _stored(row: dict) -> dict:
    """A cleaned row in the form of the table's columns (keywords as JSON)."""
    out = {k: v for k, v in row.items() if k != "taxonomy"}
    if "keywords" in out:
        out["keywords"] = json.dumps(out["keywords"] or [], ensure_ascii=False)
    return out


def _content(row: dict) -> tuple:
    return tuple(row.get(k) for k in FIELDS if k != "taxonomy") + (row.get("node_id"),)


def upsert(conn: sqlite3.Connection, row: dict, changed_by: str = "", note: str = "") -> str:
    """Insert or update one cleaned article inside the caller's transaction, storing the whole article as a new
    version (who, when, note); 'created', 'updated' or 'skipped' (nothing changed)."""
    old = get_by_external_id(conn, row["external_id"])
    row = {**(DEFAULTS if old is None else snapshot(old)), **row}
    row["node_id"] = taxonomy.ensure_path(conn, row.pop("taxonomy"))
    if old is None and not row.get("owner"):
        row["owner"] = taxonomy.default_owner(conn, row["node_id"])
    stamp = now()
    columns = _stored(row)
    if old is None:
        cols = [*columns.keys(), "version", "created_at", "updated_at"]
        cur = conn.execute(f"INSERT INTO articles ({', '.join(cols)}) VALUES ({', '.join('?' * len(cols))})",
                           (*columns.values(), 1, stamp, stamp))
        row.update(id=cur.lastrowid, version=1)
        outcome = "created"
    else:
        if _content(old) == _content(row):
            return "skipped"
        row.update(id=old["id"], version=old["version"] + 1)
        sets = {k: v for k, v in columns.items() if k != "external_id"}
        conn.execute(f"UPDATE articles SET {', '.join(f'{k} = ?' for k in sets)}, version = ?, updated_at = ? "
                     "WHERE id = ?", (*sets.values(), row["version"], stamp, row["id"]))
        outcome = "updated"
    conn.execute("INSERT INTO article_versions (article_id, version, title, body, state, changed_by, changed_at, "
                 "snapshot, note) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?)",
                 (row["id"], row["version"], row["title"], row["body"], row["state"], changed_by, stamp,
                  json.dumps(snapshot({**row, "taxonomy": taxonomy.path_of(conn, row["node_id"])}),
                             ensure_ascii=False), (note or "")[:2000]))
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
    out["keywords"] = json.loads(out["keywords"] or "[]")
    return out


def customer_reference(article: dict | None) -> dict:
    """What of an article may go into text a customer reads (a public reply, a macro for a public comment): its
    title and its public Help Center URL ("" when it is not published there). ArticleError for an internal,
    work-in-progress, not validated or archived article: that never leaves the company."""
    if article is None:
        raise ArticleError("no such article")
    if article["visibility"] != "public" or article["state"] != "validated":
        raise ArticleError(f"article {article['id']} is {article['visibility']} and {article['state']}: only a "
                           "validated, public article may be named in a reply to a customer")
    return {"title": article["title"], "url": article.get("helpdesk_url") or ""}


def get_by_external_id(conn: sqlite3.Connection, external_id: str) -> dict | None:
    row = conn.execute("SELECT id FROM articles WHERE external_id = ?", (external_id,)).fetchone()
    return get(conn, row[0]) if row else None


def set_state(conn: sqlite3.Connection, article_id: int, state: str, changed_by: str = "") -> dict:
    """Move an article through the KCS states (a new version each time)."""
    if state not in STATES:
        raise ArticleError(f"state must be one of {list(STATES)}")
    art = get(conn, article_id)
    if art is None:
        raise ArticleError(f"no article {article_id}")
    art["state"] = state
    with write(conn):
        upsert(conn, {"external_id": art["external_id"], **snapshot(art)}, changed_by)
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
