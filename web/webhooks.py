"""Helpdesk webhooks: verified, deduplicated, stored raw, then turned into a suggestion set.

Suggestions are computed here from the delivery's own text (a few milliseconds) so they exist even
when the helpdesk API is unreachable; everything that talks back to the helpdesk goes to the outbox.

A delivery is stored in the same transaction as what it causes (the ticket, its suggestion set, its outbox
jobs): it is kept as handled only together with its effects. When handling fails, all of it is rolled back and
only the raw delivery is kept, with status `error` and the reason, for diagnosis; the answer is 503 with
Retry-After (Zendesk retries that), and a redelivery with the same invocation id is handled again.

Only a ticket's creation (the ticket.created event, or the trigger body) gets suggestions and a note. Any other
ticket event answers 200 "ignored"; for a ticket we already hold it updates the stored ticket text (subject,
description, tags, fields), with no new suggestion set and no note.
"""
from __future__ import annotations

import hashlib
import json
import sqlite3

from flask import Blueprint, abort, current_app, jsonify, request

from integrations.zendesk import webhook as zendesk
from store import now, write
from tickets import intake
from web.db import cfg, get_db

bp = Blueprint("webhooks", __name__, url_prefix="/webhooks")
RETRY_AFTER_S = 10          # Zendesk retries a 503 whose Retry-After is under 60 s
# A delivery stored but not handled: "error" (failed, rolled back), or "received" (left by an older version that
# committed the delivery before handling it, when its process died in between). A redelivery takes both again.
UNFINISHED = ("error", "received")
UNFINISHED_SQL = "('error', 'received')"


def _handled(conn, invocation: str) -> bool:
    """Whether this invocation is stored as handled (processed or ignored): a redelivery to answer "duplicate"."""
    row = conn.execute("SELECT status FROM webhook_deliveries WHERE integration = ? AND invocation_id = ?",
                       (zendesk.INTEGRATION, invocation)).fetchone()
    return row is not None and row[0] not in UNFINISHED


def _remember(conn, invocation: str, ts: str, raw: bytes) -> int | None:
    """Store the raw delivery in the caller's transaction; None when this invocation is stored as handled already.
    A delivery left unfinished by an earlier attempt is taken again, its detail keeping the earlier error."""
    row = conn.execute(
        "INSERT INTO webhook_deliveries (integration, invocation_id, signature_ts, body, received_at) "
        "VALUES (?, ?, ?, ?, ?) ON CONFLICT(integration, invocation_id) DO UPDATE SET status = 'received', "
        "signature_ts = excluded.signature_ts, "
        "detail = substr('an earlier attempt failed: ' || coalesce(webhook_deliveries.detail, ''), 1, 2000) "
        f"WHERE webhook_deliveries.status IN {UNFINISHED_SQL} RETURNING id",
        (zendesk.INTEGRATION, invocation, ts, raw.decode("utf-8", "replace"), now())).fetchone()
    return row[0] if row else None


def _mark(conn, delivery_id: int, status: str, detail: str | None = None) -> None:
    with write(conn):
        conn.execute("UPDATE webhook_deliveries SET status = ?, detail = coalesce(?, detail) WHERE id = ?",
                     (status, None if detail is None else detail[:2000], delivery_id))


def _keep_failed(conn, invocation: str, ts: str, raw: bytes, error: str) -> None:
    """After a failed attempt (rolled back): keep the raw delivery as `error`, which a redelivery takes again.
    Best effort: when the database cannot take even this, nothing is kept, and a redelivery is handled too."""
    try:
        with write(conn):
            conn.execute(
                "INSERT INTO webhook_deliveries (integration, invocation_id, signature_ts, body, status, detail, "
                "received_at) VALUES (?, ?, ?, ?, 'error', ?, ?) ON CONFLICT(integration, invocation_id) DO UPDATE "
                f"SET status = 'error', detail = excluded.detail WHERE webhook_deliveries.status IN {UNFINISHED_SQL}",
                (zendesk.INTEGRATION, invocation, ts, raw.decode("utf-8", "replace"), error[:2000], now()))
    except sqlite3.Error as exc:
        current_app.logger.warning("zendesk webhook %s: the failed delivery could not be kept: %s", invocation, exc)


def _duplicate(invocation: str):
    return jsonify({"status": "duplicate", "invocation_id": invocation}), 200


def _store(conn, invocation: str, ts: str, raw: bytes, ticket, payload: dict):
    """Handle a verified, parsed delivery; each outcome is stored in one transaction with the delivery row."""
    zc = cfg()["zendesk"]
    if not zendesk.is_creation(payload):
        kind = zendesk.event_type(payload)
        reason = f"{kind} is not a ticket creation: no new suggestions and no note"
        with write(conn):
            delivery = _remember(conn, invocation, ts, raw)
            if delivery is None:
                return _duplicate(invocation)
            updated = intake.update_text(conn, ticket)
            _mark(conn, delivery, "ignored", reason + ("; the stored ticket text was updated" if updated else ""))
        return jsonify({"status": "ignored", "reason": reason, "ticket_updated": updated}), 200

    known = intake.load_ticket(conn, ticket.integration, ticket.external_id)
    if known and intake.latest_set(conn, known["id"]) is not None:
        # A second delivery of the creation (an event webhook and a trigger both set up, a redelivery under a
        # new invocation id, our own write-back echoing through a trigger): the ticket is handled already, and
        # its text may have moved on since, so the older creation text must not replace it.
        guard = zc["loop_guard_tag"] in ticket.tags
        reason = (f"loop guard: ticket already carries {zc['loop_guard_tag']} and has suggestions" if guard
                  else "ticket already handled: it has suggestions")
        with write(conn):
            delivery = _remember(conn, invocation, ts, raw)
            if delivery is None:
                return _duplicate(invocation)
            _mark(conn, delivery, "ignored", reason)
        return jsonify({"status": "ignored", "reason": reason}), 200

    result = intake.ticket_suggestions(conn, cfg(), ticket)   # before the transaction: the index reads committed data
    with write(conn):
        delivery = _remember(conn, invocation, ts, raw)
        if delivery is None:
            return _duplicate(invocation)
        intake.record(conn, cfg(), ticket, result)
        _mark(conn, delivery, "processed")
    return jsonify({"status": "accepted", "ticket": ticket.external_id, "taxonomy": result["taxonomy"],
                    "articles": len(result["articles"])}), 202


@bp.post("/zendesk")
def zendesk_webhook():
    """Zendesk event or trigger webhook (signed). 202 accepted, 200 duplicate or ignored, 503 failed (retry)."""
    zc = cfg()["zendesk"]
    raw = request.get_data(cache=True)  # 413 from MAX_CONTENT_LENGTH before anything else
    try:
        zendesk.verify(request.headers, raw, zc["webhook_secret"], zc["replay_window_s"])
    except zendesk.SignatureError as exc:
        abort(401, description=str(exc))
    try:
        payload = json.loads(raw)
    except ValueError:
        abort(400, description="the body is not JSON")
    try:
        ticket = zendesk.parse(payload)
    except zendesk.PayloadError as exc:
        abort(400, description=str(exc))

    conn = get_db()
    invocation = (request.headers.get("X-Zendesk-Webhook-Invocation-Id")
                  or "sha256:" + hashlib.sha256(raw).hexdigest())
    ts = request.headers.get("X-Zendesk-Webhook-Signature-Timestamp", "")
    if _handled(conn, invocation):
        return _duplicate(invocation)
    try:
        return _store(conn, invocation, ts, raw, ticket, payload)
    except Exception as exc:  # rolled back by write(): the delivery is not kept as handled
        current_app.logger.exception("zendesk webhook %s (ticket %s) failed", invocation, ticket.external_id)
        if conn.in_transaction:   # a failed COMMIT leaves the transaction open
            conn.rollback()
        _keep_failed(conn, invocation, ts, raw, f"{type(exc).__name__}: {exc}")
        resp = jsonify({"error": "processing_failed",
                        "message": f"the delivery could not be processed ({type(exc).__name__}: {str(exc)[:200]}); "
                                   "it is not kept as handled, so a redelivery is processed"})
        resp.status_code = 503
        resp.headers["Retry-After"] = str(RETRY_AFTER_S)
        return resp
