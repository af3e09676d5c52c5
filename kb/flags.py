"""Flags agents raise on articles (KCS "improve"), and their life until they are closed. Owns the table flags.

A flag (from the widget, as a `flagged` event) has a category (outdated, wrong, unclear, missing_step) and the
agent's words, and goes to the article's owner (the article's own owner, else its taxonomy node's default
owner, nearest first), who is told by a notice. It stays open until the owner or a publisher either fixes the
article, the fixing version being linked to the flag, or rejects the flag with a note; either way the agent who
raised it is told. Archiving the article is not a fix. Time to resolve is kept (created_at → resolved_at).
"""
from __future__ import annotations

import json
import sqlite3
from datetime import UTC, datetime

from kb import notices, people, taxonomy
from store import now, write

CATEGORIES = ("outdated", "wrong", "unclear", "missing_step")
CATEGORY_WORDS = {"outdated": "outdated", "wrong": "wrong", "unclear": "unclear", "missing_step": "a step is missing"}
COLUMNS = ("id", "article_id", "article_version", "ticket_id", "event_id", "flagged_by", "category", "reason",
           "owner", "status", "fixed_version", "resolution_note", "resolved_by", "created_at", "resolved_at")


class FlagError(ValueError):
    """The flag cannot be resolved that way (400); the message says why."""


def owner_of(conn: sqlite3.Connection, article: dict) -> str:
    return article.get("owner") or taxonomy.default_owner(conn, article.get("node_id"))


def raise_flag(conn: sqlite3.Connection, cfg: dict, article: dict, flagged_by: str, category: str, reason: str,
               ticket_row_id: int | None = None, event_id: int | None = None) -> dict:
    """Open a flag on the article (in the caller's transaction) and tell its owner. The flag as stored, with
    `owner_name` and `notice` (the owner's notice, None when the article has no owner to tell)."""
    if category not in CATEGORIES:
        raise FlagError(f"category must be one of {list(CATEGORIES)}, got {category!r}")
    owner = owner_of(conn, article)
    with write(conn):
        flag_id = conn.execute(
            "INSERT INTO flags (article_id, article_version, ticket_id, event_id, flagged_by, category, reason, owner, "
            "created_at) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?)",
            (article["id"], article["version"], ticket_row_id, event_id, flagged_by, category, reason, owner,
             now())).lastrowid
        notice = notices.tell(
            conn, cfg, owner, "flag_raised", f"Flag on “{article['title']}”: {CATEGORY_WORDS[category]}",
            f"{people.display(conn, flagged_by)} flagged your article “{article['title']}” as "
            f"{CATEGORY_WORDS[category]}:\n\n{reason}\n\nFix it (the new version closes the flag) or reject the flag "
            "with a note; either way they are told.", article_id=article["id"], flag_id=flag_id,
            data={"category": category}) if owner and owner != flagged_by else None
    flag = get(conn, flag_id)
    flag["owner_name"] = people.display(conn, owner) if owner else ""
    flag["notice"] = notice
    return flag


def _hours(start: str, end: str | None) -> float | None:
    if not end:
        return None
    fmt = "%Y-%m-%dT%H:%M:%SZ"
    span = datetime.strptime(end, fmt).replace(tzinfo=UTC) - datetime.strptime(start, fmt).replace(tzinfo=UTC)
    return round(span.total_seconds() / 3600, 2)


def _row(raw: tuple) -> dict:
    out = dict(zip(COLUMNS, raw[:len(COLUMNS)]))
    out["hours_to_resolve"] = _hours(out["created_at"], out["resolved_at"])
    return out


def get(conn: sqlite3.Connection, flag_id: int) -> dict | None:
    row = conn.execute(f"SELECT {', '.join(COLUMNS)} FROM flags WHERE id = ?", (flag_id,)).fetchone()
    return _row(row) if row else None


def listing(conn: sqlite3.Connection, status: str | None = None, owner: str | None = None,
            article_id: int | None = None, limit: int = 500) -> list[dict]:
    """Flags, newest first, with their article (title, state, version) and ticket: status "open" or "resolved"
    (fixed or rejected), or one of fixed / rejected; `owner` filters on whom the flag went to."""
    where, args = [], []
    if status == "resolved":
        where.append("f.status IN ('fixed', 'rejected')")
    elif status:
        where.append("f.status = ?")
        args.append(status)
    if owner is not None:
        where.append("f.owner = ?")
        args.append(owner)
    if article_id is not None:
        where.append("f.article_id = ?")
        args.append(article_id)
    clause = ("WHERE " + " AND ".join(where)) if where else ""
    cols = ", ".join(f"f.{c}" for c in COLUMNS)
    rows = conn.execute(f"""
        SELECT {cols}, a.external_id, a.title, a.state, a.visibility, a.language, a.version, t.integration,
               t.external_id, n.names
        FROM flags f JOIN articles a ON a.id = f.article_id LEFT JOIN tickets t ON t.id = f.ticket_id
        LEFT JOIN taxonomy_nodes n ON n.id = a.node_id
        {clause} ORDER BY f.id DESC LIMIT ?""", (*args, limit)).fetchall()
    out = []
    for r in rows:
        flag = _row(r)
        extra = r[len(COLUMNS):]
        flag["article"] = dict(zip(("id", "external_id", "title", "state", "visibility", "language", "version"),
                                   (flag["article_id"], *extra[:6])))
        flag["article"]["taxonomy"] = json.loads(extra[8]) if extra[8] else []
        flag["ticket"] = {"integration": extra[6], "external_id": extra[7]} if extra[6] else None
        out.append(flag)
    return out


def open_flags(conn: sqlite3.Connection, limit: int = 500) -> list[dict]:
    return listing(conn, status="open", limit=limit)


def _close(conn: sqlite3.Connection, cfg: dict, flag: dict, status: str, resolved_by: str, note: str,
           fixed_version: int | None, title: str) -> dict:
    with write(conn):
        changed = conn.execute("UPDATE flags SET status = ?, fixed_version = ?, resolution_note = ?, resolved_by = ?, "
                               "resolved_at = ? WHERE id = ? AND status = 'open'",
                               (status, fixed_version, note[:2000], resolved_by, now(), flag["id"])).rowcount
        if not changed:
            raise FlagError(f"flag {flag['id']} is {flag['status']} already")
        what = (f"fixed in version {fixed_version}" if status == "fixed" else "rejected")
        text = f"Your flag on “{title}” was {what} by {people.display(conn, resolved_by)}."
        if note:
            text += f"\n\n{note}"
        if flag["flagged_by"] != resolved_by:
            notices.tell(conn, cfg, flag["flagged_by"], "flag_resolved", f"Your flag on “{title}” was {what}", text,
                         article_id=flag["article_id"], flag_id=flag["id"],
                         data={"status": status, "fixed_version": fixed_version})
    return get(conn, flag["id"])


def fix(conn: sqlite3.Connection, cfg: dict, flag: dict, version: int, state: str, resolved_by: str, title: str,
        note: str = "") -> dict:
    """Close an open flag as fixed by `version` of its article (in the caller's transaction), and tell the
    agent who raised it. A version that archives the article is not a fix."""
    if flag["status"] != "open":
        raise FlagError(f"flag {flag['id']} is {flag['status']} already")
    if state == "archived":
        raise FlagError("archiving an article is not a fix: fix its text, or reject the flag with a note")
    if flag["article_version"] is not None and version <= flag["article_version"]:
        raise FlagError(f"version {version} is not newer than the version flagged ({flag['article_version']})")
    return _close(conn, cfg, flag, "fixed", resolved_by, note, version, title)


def reject(conn: sqlite3.Connection, cfg: dict, flag: dict, resolved_by: str, title: str, note: str) -> dict:
    """Close an open flag without a change (the note says why), and tell the agent who raised it."""
    if not note.strip():
        raise FlagError("rejecting a flag needs a note: the agent who raised it is told why")
    return _close(conn, cfg, flag, "rejected", resolved_by, note.strip(), None, title)
