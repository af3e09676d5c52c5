"""Zammad trigger webhooks in: X-Hub-Signature checked, the ticket and article read into one Ticket.

Sources (Zammad's own documentation and code):
- admin-docs.zammad.org, manage/webhook/payload.rst (zammad/zammad-admin-documentation): the headers of every
  webhook POST (User-Agent "Zammad User Agent", X-Zammad-Trigger: the trigger's name, X-Zammad-Delivery: a unique
  id, X-Hub-Signature when the webhook has an "HMAC SHA1 Signature Token") and the default payload
  {"ticket": {...}, "article": {...}}: the ticket's attributes (id, number, title, state, group_id, owner_id,
  customer_id, created_at, updated_at, article_count, article_ids, custom object attributes ...) with its
  associations resolved (state and priority as names, group, owner, customer, organization as objects), and the
  article that fired the trigger (id, body, content_type text/html or text/plain, internal, sender, type,
  created_by_id, created_at). Empty and null values are left out.
- zammad/zammad lib/user_agent.rb set_signature: X-Hub-Signature = "sha1=" + hex(HMAC-SHA1(token, request body));
  app/jobs/trigger_webhook_job.rb: X-Zammad-Delivery is the job id, the same on each of Zammad's retries (up to
  four), so it is the dedupe key.

Reading: the ticket id is Zammad's internal id (what the REST API takes, not the displayed number); the subject is
the title; the description is the article's body (HTML reduced to text) when the delivery announces the ticket's
creation, i.e. its article is the ticket's first (article_count 1). A later delivery (an update trigger) carries the
newest article, not the description: it is read as a change (public reply, internal note, or other) with no ticket
text, so the text kept at creation stands. Custom object attributes (top-level scalar attributes that are not
Zammad's own) become the ticket's fields, so mapping rules can name them. Owner id 1 is Zammad's "nobody".
Zammad's signature has no timestamp, so there is no replay window: the dedupe key stops replays of a delivery.
"""
from __future__ import annotations

import hashlib
import hmac
from collections.abc import Mapping

from integrations.base import Change, Delivery, PayloadError, SignatureError, Ticket, html_to_text
from store import clock
from store.values import storable

INTEGRATION = "zammad"
SIGNATURE_HEADER = "X-Hub-Signature"
DELIVERY_HEADER = "X-Zammad-Delivery"
NOBODY = "1"
STATES = {"pending reminder": "pending", "pending close": "pending", "merged": "closed", "removed": "closed"}
# Zammad's own ticket attributes; any other top-level scalar attribute is a custom object attribute (a field).
OWN = {"id", "number", "title", "note", "type", "state", "priority", "group", "owner", "customer", "organization",
       "created_by", "updated_by", "create_article_type", "create_article_sender", "article_count",
       "time_unit", "preferences", "tags", "checklist_id", "escalation_at", "pending_time", "close_at"}
OWN_SUFFIXES = ("_id", "_at", "_in_min", "_diff_in_min", "_ids")


def expected_signature(secret: str, raw: bytes) -> str:
    return "sha1=" + hmac.new(secret.encode("utf-8"), raw, hashlib.sha1).hexdigest()


def check(headers: Mapping[str, str], raw: bytes, cfg: dict) -> None:
    secret = cfg["zammad"]["webhook_secret"]
    if not secret:
        raise SignatureError("no Zammad webhook signature token is configured (KS_ZAMMAD_WEBHOOK_SECRET)")
    sent = headers.get(SIGNATURE_HEADER, "").strip()
    if not sent:
        raise SignatureError(f"missing {SIGNATURE_HEADER} (set the webhook's HMAC SHA1 Signature Token in Zammad)")
    if not hmac.compare_digest(expected_signature(secret, raw).encode(), sent.encode("utf-8", "replace")):
        raise SignatureError(f"{SIGNATURE_HEADER} does not match")


def _text(value) -> str:
    return "" if value is None or isinstance(value, dict | list) else storable(str(value))


def _id(value) -> str | None:
    if isinstance(value, dict):
        value = value.get("id")
    text = _text(value).strip()
    return text[:100] or None


def _status(value) -> str | None:
    if isinstance(value, dict):
        value = value.get("name")
    text = _text(value).strip().lower()
    return STATES.get(text, text)[:40] or None


def _tags(value) -> list[str]:
    if isinstance(value, str):
        return [t for t in storable(value).replace(",", " ").split() if t]
    if isinstance(value, list):
        return [t for t in (_text(v).strip() for v in value) if t]
    return []


def _fields(ticket: dict) -> dict:
    return {storable(k): (storable(v) if isinstance(v, str) else v) for k, v in ticket.items()
            if k not in OWN and not k.endswith(OWN_SUFFIXES) and v not in (None, "")
            and isinstance(v, str | int | float) and not isinstance(v, bool)}


def _body(article: dict) -> str:
    body = _text(article.get("body"))
    return html_to_text(body) if "html" in _text(article.get("content_type")).lower() else body.strip()


def read(payload) -> Delivery:
    if not isinstance(payload, dict) or not isinstance(payload.get("ticket"), dict):
        raise PayloadError('expected a Zammad webhook body {"ticket": {...}, "article": {...}}')
    data = payload["ticket"]
    article = payload.get("article") if isinstance(payload.get("article"), dict) else {}
    ticket_id = _id(data.get("id"))
    if ticket_id is None or not ticket_id.isdigit():
        raise PayloadError(f"ticket.id must be a number, got {data.get('id')!r}")
    count = data.get("article_count")
    first = not isinstance(count, int) or isinstance(count, bool) or count <= 1
    creation = first and bool(article)
    created_at, updated_at = clock.parse(data.get("created_at")), clock.parse(data.get("updated_at"))
    owner = _id(data.get("owner_id"))
    status = _status(data.get("state"))
    ticket = Ticket(
        integration=INTEGRATION, external_id=ticket_id,
        subject=_text(data.get("title")).strip() if creation else "",
        description=_body(article) if creation else "",
        tags=_tags(data.get("tags")), fields=_fields(data), locale=None,
        requester_id=_id(data.get("customer_id")), source_updated_at=updated_at, status=status,
        group_id=_id(data.get("group_id")), assignee_id=None if owner == NOBODY else owner,
        source_created_at=created_at)
    at = clock.parse(article.get("created_at")) or updated_at or clock.now()
    if creation:
        change = Change("created", "created", created_at or at, current=status or "new")
        event = "created"
    elif article and _id(article.get("id")):
        internal = article.get("internal") in (True, "true")
        change = Change("private_note" if internal else "public_reply", f"article:{_id(article.get('id'))}", at,
                        actor=_id(article.get("created_by_id")))
        event = "article"
    else:
        change = Change("other", f"update:{updated_at or at}", at)
        event = "update"
    return Delivery(ticket=ticket, creation=creation, event=event, change=change)


def delivery_id(headers: Mapping[str, str], raw: bytes) -> str:
    """X-Zammad-Delivery (the same on Zammad's retries), else a digest of the body."""
    own = headers.get(DELIVERY_HEADER, "").strip()
    return storable(own)[:200] if own else "sha256:" + hashlib.sha256(raw).hexdigest()


def signed_at(headers: Mapping[str, str]) -> str:
    return ""
