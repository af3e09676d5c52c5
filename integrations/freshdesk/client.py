"""Write-back to Freshdesk through its REST API v2: a private note, tags, one custom field, and reading a ticket.
integrations.base.WriteBack; errors typed by integrations.base.JsonApi (a 429's Retry-After goes to the worker's
one retry loop; nothing here sleeps).

Requests (developers.freshdesk.com/api: Authentication, Rate limit, Tickets "View a Ticket" / "Update a Ticket",
Conversations "Create a Note", Contacts "View a Contact"; checked against tests/fake_freshdesk.py):
  auth    basic auth, user = the API key, password = "X"
  note    POST /api/v2/tickets/{id}/notes   {"body": "<html>", "private": true}        -> 201 the note
  tags    GET  /api/v2/tickets/{id}, then PUT /api/v2/tickets/{id} {"tags": [...all tags...]} -> 200 the ticket
          (an update's tags replace the ticket's tags, so the tags it has are read first and kept; nothing is
          sent when every tag is there already)
  field   PUT  /api/v2/tickets/{id}   {"custom_fields": {"cf_issue": "Hardware/Printers"}}
  fetch   GET  /api/v2/tickets/{id}, then GET /api/v2/contacts/{requester_id} for the requester's language
Errors: 404 for an unknown ticket; 429 with Retry-After (seconds) past the plan's rate limit; 401 {"code":
"invalid_credentials"}; 400 {"description": "Validation failed", "errors": [...]}.

A note's body is HTML (Freshdesk renders it): our plain text is escaped and its lines joined with <br>.
Loop guard: add_tags adds freshdesk.loop_guard_tag; the rule that calls our webhook runs on ticket creation only,
or has the condition "Tags does not contain ks_suggested" (README: Other helpdesks).
"""
from __future__ import annotations

import html

from integrations.base import JsonApi, PermanentError, html_to_text

INTEGRATION = "freshdesk"


def _ticket_id(ticket_id) -> int:
    text = str(ticket_id).strip()
    if not text.isdigit():
        raise PermanentError(f"{ticket_id!r} is not a Freshdesk ticket id")
    return int(text)


def note_html(text: str) -> str:
    return "<br>".join(html.escape(line) for line in text.splitlines())


def _text(value) -> str | None:
    return None if value in (None, "") else str(value)


class FreshdeskClient:
    """integrations.base.WriteBack for Freshdesk."""

    integration = INTEGRATION

    def __init__(self, url: str, api_key: str, loop_guard_tag: str = "ks_suggested"):
        self.loop_guard_tag = loop_guard_tag
        self.api = JsonApi("freshdesk", url, auth=(api_key, "X"), credentials_hint="KS_FRESHDESK_API_KEY")

    def add_internal_note(self, ticket_id, body: str) -> None:
        self.api.call("POST", f"/api/v2/tickets/{_ticket_id(ticket_id)}/notes",
                      json={"body": note_html(body), "private": True})

    def add_tags(self, ticket_id, tags: list[str]) -> None:
        number = _ticket_id(ticket_id)
        have = list((self.api.call("GET", f"/api/v2/tickets/{number}") or {}).get("tags") or [])
        wanted = [t for t in dict.fromkeys([*have, *(str(t).strip() for t in tags), self.loop_guard_tag]) if t]
        if wanted != have:
            self.api.call("PUT", f"/api/v2/tickets/{number}", json={"tags": wanted})

    def set_custom_field(self, ticket_id, field_id, value) -> None:
        self.api.call("PUT", f"/api/v2/tickets/{_ticket_id(ticket_id)}",
                      json={"custom_fields": {str(field_id): value}})

    def fetch_ticket(self, ticket_id) -> dict:
        t = self.api.call("GET", f"/api/v2/tickets/{_ticket_id(ticket_id)}") or {}
        fields = {str(k): v for k, v in (t.get("custom_fields") or {}).items() if v not in (None, "", [])}
        locale = None
        if t.get("requester_id"):
            try:
                locale = (self.api.call("GET", f"/api/v2/contacts/{int(t['requester_id'])}") or {}).get("language")
            except PermanentError:
                locale = None     # requester not readable: the ticket's text decides the language
        description = t.get("description_text") or html_to_text(t.get("description") or "")
        return {"id": str(t.get("id", ticket_id)), "subject": t.get("subject") or "", "description": description,
                "tags": list(t.get("tags") or []), "fields": fields, "form_id": None, "brand_id": None,
                "requester_id": _text(t.get("requester_id")), "locale": locale}


def from_config(cfg: dict) -> FreshdeskClient | None:
    """The client, or None while freshdesk.url or freshdesk.api_key is not set (jobs then wait in the outbox)."""
    fc = cfg["freshdesk"]
    if not (fc["url"] and fc["api_key"]):
        return None
    return FreshdeskClient(fc["url"], fc["api_key"], fc["loop_guard_tag"])
