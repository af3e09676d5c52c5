"""Helpdesk webhooks: verified, deduplicated, stored raw, then turned into a suggestion set.

Suggestions are computed here from the delivery's own text (a few milliseconds) so they exist even
when the helpdesk API is unreachable; everything that talks back to the helpdesk goes to the outbox.
"""
from __future__ import annotations

import hashlib
import json

from flask import Blueprint, abort, jsonify, request

from integrations.zendesk import webhook as zendesk
from store import now, write
from tickets import intake
from web.db import cfg, get_db

bp = Blueprint("webhooks", __name__, url_prefix="/webhooks")


def _remember(conn, invocation: str, ts: str, raw: bytes) -> int | None:
    """Store the raw delivery; None when this invocation was stored before (a redelivery)."""
    with write(conn):
        cur = conn.execute("INSERT INTO webhook_deliveries (integration, invocation_id, signature_ts, body, "
                           "received_at) VALUES (?, ?, ?, ?, ?) ON CONFLICT(integration, invocation_id) DO NOTHING",
                           (zendesk.INTEGRATION, invocation, ts, raw.decode("utf-8", "replace"), now()))
        return cur.lastrowid if cur.rowcount else None


def _mark(conn, delivery_id: int, status: str, detail: str = "") -> None:
    with write(conn):
        conn.execute("UPDATE webhook_deliveries SET status = ?, detail = ? WHERE id = ?",
                     (status, detail[:2000], delivery_id))


@bp.post("/zendesk")
def zendesk_webhook():
    """Zendesk event or trigger webhook (signed). 202 accepted, 200 duplicate or ignored."""
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
    delivery = _remember(conn, invocation, request.headers.get("X-Zendesk-Webhook-Signature-Timestamp", ""), raw)
    if delivery is None:
        return jsonify({"status": "duplicate", "invocation_id": invocation}), 200

    kind = zendesk.event_type(payload)
    if kind and kind != zendesk.CREATED and not ticket.subject and not ticket.description:
        _mark(conn, delivery, "ignored", f"event {kind} carries no ticket text")
        return jsonify({"status": "ignored", "reason": f"{kind} carries no ticket text"}), 200
    known = intake.load_ticket(conn, ticket.integration, ticket.external_id)
    if known and zc["loop_guard_tag"] in ticket.tags and intake.latest_set(conn, known["id"]) is not None:
        _mark(conn, delivery, "ignored", "loop guard: ticket already handled")
        return jsonify({"status": "ignored", "reason": "loop guard: ticket already carries "
                        f"{zc['loop_guard_tag']} and has suggestions"}), 200
    try:
        result = intake.handle(conn, cfg(), ticket)
    except Exception as exc:
        _mark(conn, delivery, "error", repr(exc))
        raise
    _mark(conn, delivery, "processed")
    return jsonify({"status": "accepted", "ticket": ticket.external_id, "taxonomy": result["taxonomy"],
                    "articles": len(result["articles"])}), 202
