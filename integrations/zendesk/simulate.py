"""A Zendesk-shaped, signed ticket.created event webhook, for trying the sidecar without Zendesk."""
from __future__ import annotations

import json
import secrets

from integrations.zendesk.webhook import expected_signature
from store import clock


def ticket_created(ticket_id: str, subject: str, description: str, tags=(), locale: str | None = None) -> bytes:
    stamp = clock.now()
    detail = {"id": str(ticket_id), "subject": subject, "description": description, "tags": list(tags),
              "status": "NEW", "priority": "NORMAL", "type": "QUESTION", "created_at": stamp, "updated_at": stamp,
              "requester_id": "1001", "submitter_id": "1001", "assignee_id": None, "group_id": None,
              "brand_id": None, "form_id": None, "organization_id": None, "external_id": None,
              "is_public": True, "via": {"channel": "web"}}
    if locale:
        detail["requester_locale"] = locale
    return json.dumps({"account_id": 1, "id": secrets.token_hex(16), "subject": f"zen:ticket:{ticket_id}",
                       "time": stamp, "type": "zen:event-type:ticket.created",
                       "zendesk_event_version": "2022-11-06", "event": {}, "detail": detail}).encode()


def signed_headers(raw: bytes, secret: str) -> dict:
    stamp = clock.now()
    return {"Content-Type": "application/json", "X-Zendesk-Webhook-Id": "simulated",
            "X-Zendesk-Webhook-Invocation-Id": secrets.token_hex(8),
            "X-Zendesk-Webhook-Signature-Timestamp": stamp,
            "X-Zendesk-Webhook-Signature": expected_signature(secret, stamp, raw)}
