"""Zendesk webhooks in: signature check and normalisation of both payload shapes to one Ticket.

Signature (Zendesk docs): X-Zendesk-Webhook-Signature = base64(HMAC-SHA256(signing secret,
X-Zendesk-Webhook-Signature-Timestamp + raw body)). The secret is used as the text Zendesk shows.

Shapes accepted:
- event webhooks: {"type": "zen:event-type:ticket.created", "detail": {"id": "123", "subject": …}, "event": {…}, …}.
  Every ticket event type has this shape, and its `detail` always carries the ticket as it is now (subject,
  description, tags …); `event` says what changed. Only ticket.created is a new ticket (`is_creation`); the
  others (ticket.status_changed, ticket.priority_changed, ticket.agent_assignment_changed,
  ticket.comment_added, ticket.tags_changed, ticket.subject_changed …) are later changes of a ticket.
- trigger webhooks with the JSON body in integrations/zendesk/trigger.py (placeholders rendered as strings:
  tags space-separated, ids as text, custom fields as {"<field id>": "<value>"}). The admin's trigger fires on
  creation (condition "Ticket is Created"), so this body counts as a creation.

Text that SQLite cannot store as UTF-8 (lone surrogates such as a JSON "\\ud800") becomes U+FFFD, and control
characters other than tab, newline and carriage return (NUL …) are dropped, so every signed ticket can be stored.
"""
from __future__ import annotations

import base64
import hashlib
import hmac
from collections.abc import Mapping
from datetime import UTC, datetime

from integrations.base import Delivery, PayloadError, SignatureError, Ticket
from integrations.zendesk import ticket_events
from store import clock
from store.values import storable

INTEGRATION = "zendesk"
CREATED = "zen:event-type:ticket.created"
EVENT_PREFIX = "zen:event-type:ticket."
LANGUAGE_NAMES = {"english": "en", "deutsch": "de", "german": "de", "polski": "pl", "polish": "pl",
                  "русский": "ru", "russian": "ru"}


def expected_signature(secret: str, timestamp: str, raw: bytes) -> str:
    mac = hmac.new(secret.encode("utf-8"), timestamp.encode("utf-8") + raw, hashlib.sha256)
    return base64.b64encode(mac.digest()).decode("ascii")


def verify(headers, raw: bytes, secret: str, window_s: int, now: datetime | None = None) -> None:
    """Raise SignatureError unless the signature matches and the timestamp is within the window."""
    if not secret:
        raise SignatureError("no webhook signing secret is configured (KS_ZENDESK_WEBHOOK_SECRET)")
    signature = headers.get("X-Zendesk-Webhook-Signature", "")
    timestamp = headers.get("X-Zendesk-Webhook-Signature-Timestamp", "")
    if not signature or not timestamp:
        raise SignatureError("missing X-Zendesk-Webhook-Signature or X-Zendesk-Webhook-Signature-Timestamp")
    if not hmac.compare_digest(expected_signature(secret, timestamp, raw).encode(), signature.strip().encode()):
        raise SignatureError("signature does not match")
    try:
        sent = datetime.fromisoformat(timestamp.replace("Z", "+00:00"))
    except ValueError:
        raise SignatureError("signature timestamp is not ISO 8601") from None
    if sent.tzinfo is None:
        sent = sent.replace(tzinfo=UTC)
    age = abs(((now or datetime.now(UTC)) - sent).total_seconds())
    if age > window_s:
        raise SignatureError(f"signature timestamp is {int(age)} s away from now (allowed {window_s} s): replay?")


def _clean(value):
    """A JSON value with every string in it made storable."""
    if isinstance(value, str):
        return storable(value)
    if isinstance(value, list):
        return [_clean(v) for v in value]
    if isinstance(value, dict):
        return {storable(str(k)): _clean(v) for k, v in value.items()}
    return value


def _text(value) -> str:
    return "" if value is None else storable(str(value))


def _id(value) -> str | None:
    text = _text(value).strip()
    return text or None


def _tags(value) -> list[str]:
    if value is None:
        return []
    if isinstance(value, str):
        return [t for t in storable(value).replace(",", " ").split() if t]
    if isinstance(value, list):
        return [_text(t).strip() for t in value if _text(t).strip()]
    raise PayloadError("tags must be a list or a space-separated string")


def _fields(value) -> dict:
    """Custom fields as {field id: value}, from a list of {"id", "value"} or a mapping."""
    if value in (None, ""):
        return {}
    if isinstance(value, dict):
        return {_text(k): _clean(v) for k, v in value.items()}
    if isinstance(value, list):
        out = {}
        for item in value:
            if not isinstance(item, dict) or "id" not in item:
                raise PayloadError("custom_fields items must be objects with id and value")
            out[_text(item["id"])] = _clean(item.get("value"))
        return out
    raise PayloadError("custom_fields must be a list or an object")


def _locale(value) -> str | None:
    text = _text(value).strip()
    if not text:
        return None
    return LANGUAGE_NAMES.get(text.casefold(), text)


def event_type(payload: dict) -> str:
    return str(payload.get("type") or "") if isinstance(payload, dict) else ""


def _is_event(payload: dict) -> bool:
    return "detail" in payload and str(payload.get("type", "")).startswith(EVENT_PREFIX)


def is_creation(payload: dict) -> bool:
    """Whether the delivery announces a new ticket: the ticket.created event, or the trigger body (the trigger
    fires on creation). Any other ticket event is a later change of a ticket."""
    return not _is_event(payload) or event_type(payload) == CREATED


def parse(payload) -> Ticket:
    """One Ticket from an event-webhook or trigger-webhook payload; PayloadError when neither."""
    if not isinstance(payload, dict):
        raise PayloadError("the body must be a JSON object")
    if _is_event(payload):
        data = payload["detail"]
        if not isinstance(data, dict):
            raise PayloadError("detail must be an object")
    elif isinstance(payload.get("ticket"), dict):
        data = payload["ticket"]
    else:
        raise PayloadError('expected a Zendesk event webhook ("type", "detail") or the trigger body {"ticket": {…}}')
    ticket_id = _id(data.get("id"))
    if ticket_id is None or not ticket_id.isdigit():
        raise PayloadError(f"ticket id must be a number, got {data.get('id')!r}")
    fields = _fields(data.get("custom_fields", data.get("fields")))
    return Ticket(
        integration=INTEGRATION, external_id=ticket_id,
        subject=_text(data.get("subject") or data.get("title")), description=_text(data.get("description")),
        tags=_tags(data.get("tags")), fields=fields,
        form_id=_id(data.get("form_id") or data.get("ticket_form_id")), brand_id=_id(data.get("brand_id")),
        locale=_locale(data.get("requester_locale") or data.get("locale")),
        requester_id=_id(data.get("requester_id")), needs_fields=not fields,
        source_updated_at=clock.parse(data.get("updated_at")),
        status=ticket_events.status_of(data.get("status")), group_id=ticket_events.id_of(data.get("group_id")),
        assignee_id=ticket_events.id_of(data.get("assignee_id")),
        source_created_at=clock.parse(data.get("created_at")))



# integrations.base.Receiver: what the webhook route and tickets.deliveries call.

def check(headers: Mapping[str, str], raw: bytes, cfg: dict) -> None:
    zc = cfg["zendesk"]
    verify(headers, raw, zc["webhook_secret"], zc["replay_window_s"])


def read(payload) -> Delivery:
    ticket = parse(payload)
    kind = event_type(payload) if _is_event(payload) else ""
    return Delivery(ticket=ticket, creation=is_creation(payload), event=kind,
                    change=ticket_events.change(payload, kind, fallback_id="trigger"))


def delivery_id(headers: Mapping[str, str], raw: bytes) -> str:
    """X-Zendesk-Webhook-Invocation-Id (the same on Zendesk's retries), else a digest of the body."""
    return headers.get("X-Zendesk-Webhook-Invocation-Id") or "sha256:" + hashlib.sha256(raw).hexdigest()


def signed_at(headers: Mapping[str, str]) -> str:
    return headers.get("X-Zendesk-Webhook-Signature-Timestamp", "")
