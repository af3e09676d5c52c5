"""What each person is told: a change to an article they reused or own, a flag on their article, the outcome of
a flag they raised, an audit digest. Owns the table notices.

Every notice is kept here (GET /api/notices, the notices page, the widget's "changed since you used it"
marker), read or unread. When a delivery channel is configured it also goes out through the outbox
(integration "notify", kind "notice"): by e-mail when notify.smtp_host is set and the person has an e-mail
address, else to notify.webhook_url when set. `delivery` says what happened, so the product never claims more
than it did: in_app (kept here only), email_queued → emailed, webhook_queued → webhook_sent, or failed.
"""
from __future__ import annotations

import json
import sqlite3

from kb import people
from store import now, outbox, write

KINDS = ("article_changed", "flag_raised", "flag_resolved", "audit_digest")
CHANNEL = "notify"
COLUMNS = ("id", "recipient", "kind", "article_id", "flag_id", "title", "body", "data", "delivery", "delivered_at",
           "created_at", "read_at")


def channel(cfg: dict, recipient: str, conn: sqlite3.Connection) -> str | None:
    """How a notice to this person goes out: "email", "webhook", or None (kept in the sidecar only)."""
    nc = cfg["notify"]
    if nc["smtp_host"] and (people.get(conn, recipient) or {}).get("email"):
        return "email"
    if nc["webhook_url"]:
        return "webhook"
    return None


def tell(conn: sqlite3.Connection, cfg: dict, recipient: str, kind: str, title: str, body: str = "",
         article_id: int | None = None, flag_id: int | None = None, data: dict | None = None) -> dict | None:
    """Keep a notice for `recipient` (in the caller's transaction) and queue its delivery when a channel is
    configured; the notice as stored, or None when there is no one to tell."""
    if not recipient:
        return None
    if kind not in KINDS:
        raise ValueError(f"unknown notice kind {kind!r}")
    how = channel(cfg, recipient, conn)
    delivery = f"{how}_queued" if how else "in_app"
    with write(conn):
        notice_id = conn.execute(
            "INSERT INTO notices (recipient, kind, article_id, flag_id, title, body, data, delivery, created_at) "
            "VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?)",
            (recipient, kind, article_id, flag_id, title[:500], body[:20000], json.dumps(data or {}), delivery,
             now())).lastrowid
        if how:
            outbox.enqueue(conn, CHANNEL, "", "notice", {"notice_id": notice_id, "channel": how})
    return get(conn, notice_id)


def _row(raw: tuple) -> dict:
    out = dict(zip(COLUMNS, raw))
    out["data"] = json.loads(out["data"] or "{}")
    out["read"] = out["read_at"] is not None
    return out


def get(conn: sqlite3.Connection, notice_id: int) -> dict | None:
    row = conn.execute(f"SELECT {', '.join(COLUMNS)} FROM notices WHERE id = ?", (notice_id,)).fetchone()
    return _row(row) if row else None


def for_recipient(conn: sqlite3.Connection, recipient: str, unread_only: bool = False, limit: int = 100) -> dict:
    """A person's notices, newest first, with how many are unread."""
    where = "recipient = ?" + (" AND read_at IS NULL" if unread_only else "")
    rows = conn.execute(f"SELECT {', '.join(COLUMNS)} FROM notices WHERE {where} ORDER BY id DESC LIMIT ?",
                        (recipient, limit)).fetchall()
    unread = conn.execute("SELECT COUNT(*) FROM notices WHERE recipient = ? AND read_at IS NULL",
                          (recipient,)).fetchone()[0]
    return {"notices": [_row(r) for r in rows], "unread": unread}


def mark_read(conn: sqlite3.Connection, recipient: str, notice_ids: list[int] | None = None) -> int:
    """Mark the person's notices read (all of them when no ids are given); how many changed. Nobody can mark
    another person's notices."""
    with write(conn):
        if notice_ids is None:
            return conn.execute("UPDATE notices SET read_at = ? WHERE recipient = ? AND read_at IS NULL",
                                (now(), recipient)).rowcount
        marks = ", ".join("?" * len(notice_ids))
        return conn.execute(f"UPDATE notices SET read_at = ? WHERE recipient = ? AND read_at IS NULL "
                            f"AND id IN ({marks})", (now(), recipient, *notice_ids)).rowcount


def unread_changes(conn: sqlite3.Connection, recipient: str, article_ids: list[int]) -> dict[int, dict]:
    """For the widget's marker: article id -> the newest unread "article_changed" notice for this person."""
    if not article_ids or not recipient:
        return {}
    marks = ", ".join("?" * len(article_ids))
    rows = conn.execute(f"SELECT {', '.join(COLUMNS)} FROM notices WHERE recipient = ? AND kind = 'article_changed' "
                        f"AND read_at IS NULL AND article_id IN ({marks}) ORDER BY id", (recipient, *article_ids))
    return {r["article_id"]: r for r in map(_row, rows.fetchall())}


def delivered(conn: sqlite3.Connection, notice_id: int, delivery: str) -> None:
    """The worker's record of a delivery: emailed, webhook_sent or failed."""
    with write(conn):
        conn.execute("UPDATE notices SET delivery = ?, delivered_at = ? WHERE id = ?", (delivery, now(), notice_id))


def mark_article_seen(conn: sqlite3.Connection, recipient: str, article_id: int) -> int:
    """The person opened the article: their unread change notices about it are read."""
    with write(conn):
        return conn.execute("UPDATE notices SET read_at = ? WHERE recipient = ? AND article_id = ? "
                            "AND kind = 'article_changed' AND read_at IS NULL", (now(), recipient, article_id)).rowcount
