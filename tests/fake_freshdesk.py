"""A real HTTP fake of the Freshdesk REST API v2 on 127.0.0.1 for the endpoints our write-back uses, and the webhook
an automation rule sends with our template (integrations/freshdesk/rule.py) rendered as Freshdesk renders it.

Shapes from developers.freshdesk.com/api (Authentication, Rate limit, Tickets, Conversations, Contacts):
  auth  basic auth <api key>:X                 else 401 {"code": "invalid_credentials", "message": …}
  GET   /api/v2/tickets/{id}                   -> the ticket: id, subject, description (HTML), description_text,
                                                  status (2 open … 5 closed), priority, tags, custom_fields, …
  PUT   /api/v2/tickets/{id}                   -> 200 the ticket; "tags" replace the ticket's tags, "custom_fields"
                                                  are merged; a field that is not a list of text: 400 Validation failed
  POST  /api/v2/tickets/{id}/notes {body, private} -> 201 the note (private defaults to true)
  GET   /api/v2/contacts/{id}                  -> the contact, with "language"
  unknown ticket or contact                    -> 404, empty body
Rate limit: fail_next(429, retry_after=…) answers as Freshdesk does past the plan's limit.
"""
from __future__ import annotations

import base64
import itertools
import json
import re
from datetime import UTC, datetime

from fake_http import FakeApi

from integrations.freshdesk.rule import RULE_BODY, SECRET_HEADER

API_KEY = "freshdesk-fake-api-key-42"
WEBHOOK_SECRET = "freshdesk-shared-secret-0123456789"
DOMAIN = "acme.freshdesk.com"
STATUS_NAMES = {2: "Open", 3: "Pending", 4: "Resolved", 5: "Closed"}

_TICKET = re.compile(r"^/api/v2/tickets/(\d+)$")
_NOTES = re.compile(r"^/api/v2/tickets/(\d+)/notes$")
_CONTACT = re.compile(r"^/api/v2/contacts/(\d+)$")
_PLACEHOLDER = re.compile(r"\{\{\s*([a-z_.]+)\s*\}\}")


def _stamp() -> str:
    return datetime.now(UTC).strftime("%Y-%m-%dT%H:%M:%SZ")


class FakeFreshdesk(FakeApi):
    def __init__(self):
        super().__init__()
        self.tickets: dict[int, dict] = {}
        self.notes: dict[int, list[dict]] = {}
        self.contacts: dict[int, dict] = {5001: {"id": 5001, "name": "Emily Adams", "email": "emily@example.com",
                                                 "language": "en", "active": True}}
        self._note_ids = itertools.count(700_000)

    def authorized(self, headers) -> bool:
        auth = headers.get("Authorization", "")
        return auth.startswith("Basic ") and base64.b64decode(auth[6:]).decode() == f"{API_KEY}:X"

    def unauthorized(self) -> tuple[int, object]:
        return 401, {"code": "invalid_credentials", "message": "You have to be logged in to perform this action."}

    # -- data --------------------------------------------------------------------------------
    def add_ticket(self, ticket_id: int, subject: str, description_html: str, tags=(), custom_fields=None,
                   status: int = 2) -> dict:
        stamp = _stamp()
        text = re.sub(r"<[^>]+>", " ", description_html)
        ticket = {"id": ticket_id, "subject": subject, "description": description_html,
                  "description_text": " ".join(text.split()), "status": status, "priority": 1, "source": 2,
                  "type": "Question", "requester_id": 5001, "responder_id": None, "group_id": None,
                  "company_id": None, "product_id": None, "email_config_id": None, "fr_escalated": False,
                  "spam": False, "is_escalated": False, "due_by": stamp, "fr_due_by": stamp, "cc_emails": [],
                  "fwd_emails": [], "reply_cc_emails": [], "to_emails": None, "tags": list(tags),
                  "custom_fields": dict(custom_fields or {}), "attachments": [], "created_at": stamp,
                  "updated_at": stamp}
        self.tickets[ticket_id] = ticket
        self.notes[ticket_id] = []
        return ticket

    # -- the webhook an automation rule sends ----------------------------------------------------
    def webhook(self, ticket_id: int, event: str = "{ticket_action:created}", secret: str = WEBHOOK_SECRET
                ) -> tuple[bytes, dict]:
        """(body, headers): the rule's Advanced JSON template with every placeholder rendered as text, and the
        custom header carrying the shared secret."""
        t = self.tickets[ticket_id]
        values = {"triggered_event": event, "ticket.id": t["id"], "ticket.subject": t["subject"],
                  "ticket.url": f"https://{DOMAIN}/helpdesk/tickets/{t['id']}", "ticket.ticket_type": t["type"],
                  "ticket.description": t["description"], "ticket.tags": ", ".join(t["tags"]),
                  "ticket.status": STATUS_NAMES.get(t["status"], str(t["status"])), "ticket.priority": "Low",
                  "ticket.requester.name": "Emily Adams", "ticket.requester.email": "emily@example.com"}
        raw = _PLACEHOLDER.sub(lambda m: json.dumps(str(values[m.group(1)]))[1:-1], RULE_BODY).encode()
        return raw, {"Content-Type": "application/json", SECRET_HEADER: secret}

    # -- the REST API --------------------------------------------------------------------------
    def route(self, method: str, path: str, query: dict, body) -> tuple[int, object]:
        if m := _TICKET.match(path):
            number = int(m.group(1))
            if number not in self.tickets:
                return 404, None
            if method == "GET":
                return 200, dict(self.tickets[number])
            if method == "PUT":
                return self._update(self.tickets[number], body if isinstance(body, dict) else {})
        if (m := _NOTES.match(path)) and method == "POST":
            number = int(m.group(1))
            if number not in self.tickets:
                return 404, None
            data = body if isinstance(body, dict) else {}
            if not isinstance(data.get("body"), str) or not data["body"].strip():
                return 400, {"description": "Validation failed", "errors": [
                    {"field": "body", "message": "It should not be blank", "code": "missing_field"}]}
            note = {"id": next(self._note_ids), "body": data["body"],
                    "body_text": re.sub(r"<[^>]+>", "\n", data["body"]),
                    "private": data.get("private", True), "incoming": False, "user_id": 9001, "ticket_id": number,
                    "created_at": _stamp(), "updated_at": _stamp(), "attachments": []}
            self.notes[number].append(note)
            return 201, note
        if (m := _CONTACT.match(path)) and method == "GET":
            contact = self.contacts.get(int(m.group(1)))
            return (200, dict(contact)) if contact else (404, None)
        return 404, None

    def _update(self, ticket: dict, data: dict) -> tuple[int, object]:
        if "tags" in data and (not isinstance(data["tags"], list) or not all(isinstance(t, str) for t in data["tags"])):
            return 400, {"description": "Validation failed",
                         "errors": [{"field": "tags", "message": "It should be an Array", "code": "datatype_mismatch"}]}
        if "tags" in data:
            ticket["tags"] = list(data["tags"])
        if isinstance(data.get("custom_fields"), dict):
            ticket["custom_fields"].update(data["custom_fields"])
        ticket["updated_at"] = _stamp()
        return 200, dict(ticket)


def freshdesk_config(fake: FakeFreshdesk) -> dict:
    """The freshdesk config section that points the sidecar at the fake."""
    return {"url": fake.url, "api_key": API_KEY, "webhook_secret": WEBHOOK_SECRET}
