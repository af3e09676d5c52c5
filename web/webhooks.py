"""Helpdesk webhooks: verify the signature, read the body, hand it to tickets.deliveries, answer its outcome.

202 accepted (a new ticket's suggestions are stored), 200 recorded (a later change of a ticket), duplicate or
ignored, 401 unsigned or stale, 400 a body
the integration cannot read, 404 an integration that takes no webhooks, 503 with Retry-After when handling
failed (nothing half-stored; the helpdesk's retry is processed).
"""
from __future__ import annotations

import json

from flask import Blueprint, abort, jsonify, request

from integrations import registry
from integrations.base import PayloadError, SignatureError
from tickets import deliveries
from web.db import cfg, get_db

bp = Blueprint("webhooks", __name__, url_prefix="/webhooks")
RETRY_AFTER_S = 10          # Zendesk retries a 503 whose Retry-After is under 60 s
STATUS = {"accepted": 202, "recorded": 200, "duplicate": 200, "ignored": 200, "failed": 503}


def _not_here(name: str):
    abort(404, description=f"no webhook for {name!r}; webhooks: "
                           f"{[i.webhook_path for i in registry.INTEGRATIONS.values() if i.receiver]}")


@bp.post("/<integration>")
def receive(integration: str):
    """A helpdesk's signed webhook (Zendesk: event or trigger webhook; Zammad: trigger webhook with X-Hub-Signature;
    Freshdesk: automation rule with the shared secret header). 202 accepted, 200 duplicate or ignored, 503 failed
    (retry)."""
    source = registry.get(integration)
    if source is None or source.receiver is None or source.generic:
        _not_here(integration)
    return _receive(source)


@bp.post("/generic/<source>")
def receive_generic(source: str):
    """Any tool's JSON webhook, for a source configured in generic.sources_file (its shared-secret or HMAC-SHA256
    signature header, and JSON paths to the ticket's id, subject, description, tags, fields, locale, status). 202
    accepted, 200 duplicate or ignored, 401 unsigned, 400 unreadable, 503 failed (retry)."""
    integration = registry.get(source)
    if integration is None or not integration.generic:
        _not_here(f"generic/{source}")
    return _receive(integration)


def _receive(source: registry.Integration):
    receiver = source.receiver
    raw = request.get_data(cache=True)  # 413 from MAX_CONTENT_LENGTH before anything else
    try:
        receiver.check(request.headers, raw, cfg())
    except SignatureError as exc:
        abort(401, description=str(exc))
    try:
        payload = json.loads(raw)
    except ValueError:
        abort(400, description="the body is not JSON")
    try:
        delivery = receiver.read(payload)
    except PayloadError as exc:
        abort(400, description=str(exc))
    incoming = deliveries.Incoming(integration=source.name, delivery_id=receiver.delivery_id(request.headers, raw),
                                   signed_at=receiver.signed_at(request.headers), raw=raw, delivery=delivery)
    outcome = deliveries.accept(get_db(), cfg(), incoming)
    resp = jsonify(outcome.body)
    resp.status_code = STATUS[outcome.status]
    if outcome.status == "failed":
        resp.headers["Retry-After"] = str(RETRY_AFTER_S)
    return resp
