"""Freshdesk automation-rule webhooks in: the shared secret checked in constant time, the body of
integrations/freshdesk/rule.py read into one Ticket (sources: see rule.py).

- Proof of origin: Freshdesk does not sign webhooks; the rule sends freshdesk.webhook_secret in the custom header
  X-KS-Webhook-Secret (compared with hmac.compare_digest). Use HTTPS: the header is the only secret.
- Dedupe key: Freshdesk sends no delivery id, so it is the SHA-256 of the body; a redelivery of the same body is a
  duplicate.
- {{ticket.description}} is HTML: reduced to text. Tags arrive as "a, b". The template carries no custom fields or
  requester language, so every ticket asks the worker to read them (fetch_fields: GET /api/v2/tickets/{id}).
- triggered_event "{ticket_action:created}" is a creation; "{status:{from:2,to:4}}" a status change (2 open,
  3 pending, 4 resolved → solved, 5 closed; a custom status keeps its number); "{note_type:private|public}" an
  internal note or public reply; anything else a change of kind other. Freshdesk gives no event time, so a change
  is dated when it arrives.
"""
from __future__ import annotations

import hashlib
import hmac
import json
import re
from collections.abc import Mapping

from integrations.base import Change, Delivery, PayloadError, SignatureError, Ticket, html_to_text
from integrations.freshdesk.rule import SECRET_HEADER
from store import clock
from store.values import storable

INTEGRATION = "freshdesk"
STATUS_NUMBERS = {"2": "open", "3": "pending", "4": "solved", "5": "closed"}
STATUS_NAMES = {"resolved": "solved", "waiting on customer": "pending", "waiting on third party": "pending"}
EVENT_RE = re.compile(r"\{\s*(?P<key>\w+)\s*:\s*(?P<rest>.*)\}\s*$", re.S)
MOVE_RE = re.compile(r"\{\s*from\s*:\s*(?P<from>[^,}]*),\s*to\s*:\s*(?P<to>[^,}]*)\}")


def check(headers: Mapping[str, str], raw: bytes, cfg: dict) -> None:
    secret = cfg["freshdesk"]["webhook_secret"]
    if not secret:
        raise SignatureError("no Freshdesk webhook secret is configured (KS_FRESHDESK_WEBHOOK_SECRET)")
    sent = headers.get(SECRET_HEADER, "")
    if not sent:
        raise SignatureError(f"missing {SECRET_HEADER} (add it as a custom header in the automation rule)")
    if not hmac.compare_digest(secret.encode("utf-8"), sent.strip().encode("utf-8", "replace")):
        raise SignatureError(f"{SECRET_HEADER} does not match")


def _text(value) -> str:
    return "" if value is None or isinstance(value, dict | list) else storable(str(value))


def status_name(value) -> str | None:
    text = _text(value).strip().lower()
    return (STATUS_NUMBERS.get(text) or STATUS_NAMES.get(text, text))[:40] or None


def parse_event(text: str) -> tuple[str, str, str | None, str | None]:
    """'{ticket_action:created}' → ('ticket_action', 'created', None, None);
    '{status:{from:2,to:4}}' → ('status', '', '2', '4'); '' → ('', '', None, None)."""
    m = EVENT_RE.match(text.strip())
    if not m:
        return "", "", None, None
    rest = m.group("rest").strip()
    move = MOVE_RE.match(rest)
    if move:
        return m.group("key"), "", move.group("from").strip(), move.group("to").strip()
    return m.group("key"), rest.strip(" {}"), None, None


def read(payload) -> Delivery:
    data = payload.get("freshdesk_webhook") if isinstance(payload, dict) else None
    if not isinstance(data, dict):
        raise PayloadError('expected the automation rule\'s body {"freshdesk_webhook": {...}} '
                           "(see /admin/integrations)")
    ticket_id = _text(data.get("ticket_id")).strip()
    if not ticket_id.isdigit():
        raise PayloadError(f"freshdesk_webhook.ticket_id must be a number, got {data.get('ticket_id')!r}")
    event = _text(data.get("triggered_event")).strip()
    key, value, previous, current = parse_event(event)
    creation = (key, value) == ("ticket_action", "created")
    status = status_name(data.get("ticket_status"))
    tags = [t.strip() for t in _text(data.get("ticket_tags")).split(",") if t.strip()]
    ticket = Ticket(integration=INTEGRATION, external_id=ticket_id, subject=_text(data.get("ticket_subject")).strip(),
                    description=html_to_text(_text(data.get("ticket_description"))), tags=tags, status=status,
                    needs_fields=True)
    now = clock.now()
    event_id = "sha256:" + hashlib.sha256(json.dumps(payload, sort_keys=True).encode()).hexdigest()
    if creation:
        change = Change("created", "created", now, current=status or "open")
    elif key == "status":
        change = Change("status", event_id, now, previous=status_name(previous),
                        current=status_name(current) or status)
    elif key == "note_type":
        change = Change("private_note" if value == "private" else "public_reply", event_id, now)
    else:
        change = Change("other", event_id, now)
    return Delivery(ticket=ticket, creation=creation, event=event[:200], change=change)


def delivery_id(headers: Mapping[str, str], raw: bytes) -> str:
    return "sha256:" + hashlib.sha256(raw).hexdigest()


def signed_at(headers: Mapping[str, str]) -> str:
    return ""
