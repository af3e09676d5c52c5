"""A real HTTP fake of the Zammad REST API on 127.0.0.1 for the endpoints our write-back uses, and Zammad's trigger
webhook as Zammad sends it (body, X-Hub-Signature, X-Zammad-Delivery).

Shapes from Zammad's documentation (zammad/zammad-documentation api/intro.rst, api/ticket/articles.rst,
api/ticket/tags.rst, api/ticket/index.rst; zammad/zammad-admin-documentation manage/webhook/payload.rst) and code
(zammad/zammad lib/user_agent.rb, app/jobs/trigger_webhook_job.rb):
  auth  Authorization: Token token=<token>                 else 401 {"error": "authentication failed"}
  POST  /api/v1/ticket_articles {ticket_id, subject, body, content_type, type, internal, sender} -> 201 the article
  POST  /api/v1/tags/add {item, object: "Ticket", o_id}     -> 201 true
  GET   /api/v1/tags?object=Ticket&o_id={id}                -> {"tags": [...]}
  GET   /api/v1/tickets/{id}[?expand=true]                  -> the ticket (expand: state, group ... as names)
  PUT   /api/v1/tickets/{id} {attribute: value}             -> 200 the ticket
  GET   /api/v1/ticket_articles/by_ticket/{id}              -> [articles]
  unknown ticket                                            -> 404 {"error": "Couldn't find Ticket with 'id'=…"}
"""
from __future__ import annotations

import hashlib
import hmac
import itertools
import json
import re
import uuid
from datetime import UTC, datetime

from fake_http import FakeApi

API_TOKEN = "zammad-fake-token-0123456789"
WEBHOOK_SECRET = "zammad-hmac-signature-token"

_TICKET = re.compile(r"^/api/v1/tickets/(\d+)$")
_BY_TICKET = re.compile(r"^/api/v1/ticket_articles/by_ticket/(\d+)$")
AGENT = {"id": 3, "login": "chris@chrispresso.com", "firstname": "Christopher", "lastname": "Miller",
         "email": "chris@chrispresso.com", "active": True, "roles": ["Admin", "Agent"], "role_ids": [1, 2]}
CUSTOMER = {"id": 8, "login": "emily@example.com", "firstname": "Emily", "lastname": "Adams",
            "email": "emily@example.com", "active": True, "roles": ["Customer"], "role_ids": [3],
            "organization": "Awesome Customer Inc.", "organization_id": 3}


def _stamp() -> str:
    return datetime.now(UTC).strftime("%Y-%m-%dT%H:%M:%S.000Z")


class FakeZammad(FakeApi):
    def __init__(self):
        super().__init__()
        self.tickets: dict[int, dict] = {}
        self.articles: dict[int, list[dict]] = {}
        self.tags: dict[int, list[str]] = {}
        self._article_ids = itertools.count(104)

    def authorized(self, headers) -> bool:
        return headers.get("Authorization") == f"Token token={API_TOKEN}"

    # -- data --------------------------------------------------------------------------------
    def add_ticket(self, ticket_id: int, title: str, body: str, tags=(), **attributes) -> dict:
        """A ticket created by its customer with one web article (HTML), as Zammad stores it."""
        stamp = _stamp()
        ticket = {"id": ticket_id, "number": str(10000 + ticket_id), "title": title, "group_id": 3,
                  "priority_id": 2, "state_id": 1, "state": "new", "priority": "2 normal", "owner_id": 1,
                  "customer_id": CUSTOMER["id"], "organization_id": 3, "created_by_id": CUSTOMER["id"],
                  "updated_by_id": CUSTOMER["id"], "create_article_type_id": 11, "create_article_sender_id": 2,
                  "create_article_type": "web", "create_article_sender": "Customer", "article_count": 1,
                  "created_at": stamp, "updated_at": stamp, "last_contact_at": stamp,
                  "last_contact_customer_at": stamp, "note": None, **attributes}
        self.tickets[ticket_id] = ticket
        article = {"id": next(self._article_ids), "ticket_id": ticket_id, "type": "web", "sender": "Customer",
                   "from": f"{CUSTOMER['firstname']} {CUSTOMER['lastname']} <{CUSTOMER['email']}>",
                   "to": "Service Desk", "subject": title, "body": body, "content_type": "text/html",
                   "internal": False, "created_by_id": CUSTOMER["id"], "origin_by_id": CUSTOMER["id"],
                   "created_at": stamp, "updated_at": stamp, "attachments": []}
        self.articles[ticket_id] = [article]
        self.tags[ticket_id] = list(tags)
        ticket["article_ids"] = [article["id"]]
        return ticket

    def add_reply(self, ticket_id: int, body: str, internal: bool = False) -> dict:
        """An agent's article on the ticket (what an update trigger then carries)."""
        stamp = _stamp()
        article = {"id": next(self._article_ids), "ticket_id": ticket_id, "type": "note" if internal else "email",
                   "sender": "Agent", "body": body, "content_type": "text/html", "internal": internal,
                   "created_by_id": AGENT["id"], "created_at": stamp, "updated_at": stamp, "attachments": []}
        self.articles[ticket_id].append(article)
        ticket = self.tickets[ticket_id]
        ticket["article_ids"].append(article["id"])
        ticket.update(article_count=len(self.articles[ticket_id]), updated_at=stamp)
        return article

    # -- the webhook Zammad sends --------------------------------------------------------------
    def webhook(self, ticket_id: int, article: dict | None = None, secret: str = WEBHOOK_SECRET,
                delivery: str | None = None) -> tuple[bytes, dict]:
        """(body, headers) of a trigger webhook for the ticket and its latest article (or `article`): the default
        payload's shape, with the ticket's associations resolved and null values left out, signed as Zammad signs."""
        ticket = {k: v for k, v in self.tickets[ticket_id].items() if v is not None}
        ticket.update(tags=list(self.tags[ticket_id]), customer=dict(CUSTOMER), owner={},
                      created_by=dict(CUSTOMER), updated_by=dict(CUSTOMER),
                      group={"id": 3, "name": "Service Desk", "active": True},
                      priority={"id": 2, "name": "2 normal", "active": True},
                      organization={"id": 3, "name": "Awesome Customer Inc.", "active": True})
        body = dict(article or self.articles[ticket_id][-1])
        body["created_by"] = dict(AGENT if body.get("sender") == "Agent" else CUSTOMER)
        raw = json.dumps({"ticket": ticket, "article": body}).encode()
        return raw, self.sign(raw, secret, delivery)

    @staticmethod
    def sign(raw: bytes, secret: str = WEBHOOK_SECRET, delivery: str | None = None) -> dict:
        return {"Content-Type": "application/json; charset=utf-8", "User-Agent": "Zammad User Agent",
                "X-Zammad-Trigger": "Knowledge Sidecar", "X-Zammad-Delivery": delivery or str(uuid.uuid4()),
                "X-Hub-Signature": "sha1=" + hmac.new(secret.encode(), raw, hashlib.sha1).hexdigest()}

    # -- the REST API --------------------------------------------------------------------------
    def route(self, method: str, path: str, query: dict, body) -> tuple[int, object]:
        if path == "/api/v1/ticket_articles" and method == "POST":
            return self._create_article(body or {})
        if path == "/api/v1/tags/add" and method == "POST":
            data = body or {}
            number = int(data.get("o_id") or 0)
            if data.get("object") != "Ticket" or not data.get("item"):
                return 422, {"error": "Need object, o_id and item"}
            if number not in self.tickets:
                return self._not_found(number)
            if data["item"] not in self.tags[number]:
                self.tags[number].append(data["item"])
            return 201, True
        if path == "/api/v1/tags" and method == "GET":
            number = int((query.get("o_id") or ["0"])[0])
            return (200, {"tags": list(self.tags[number])}) if number in self.tickets else self._not_found(number)
        if m := _TICKET.match(path):
            number = int(m.group(1))
            if number not in self.tickets:
                return self._not_found(number)
            if method == "PUT":
                self.tickets[number].update(body or {})
                self.tickets[number]["updated_at"] = _stamp()
            if method in ("GET", "PUT"):
                return 200, dict(self.tickets[number])
        if (m := _BY_TICKET.match(path)) and method == "GET":
            number = int(m.group(1))
            return (200, list(self.articles[number])) if number in self.tickets else self._not_found(number)
        return 404, {"error": "No route matches"}

    def _create_article(self, data: dict) -> tuple[int, object]:
        number = int(data.get("ticket_id") or 0)
        if number not in self.tickets:
            return self._not_found(number)
        if not data.get("body"):
            return 422, {"error": "Need at least article: body"}
        stamp = _stamp()
        article = {"id": next(self._article_ids), "ticket_id": number, "from": "Christopher Miller",
                   "created_by_id": AGENT["id"], "created_at": stamp, "updated_at": stamp, "attachments": [],
                   **{k: data.get(k) for k in ("subject", "body", "content_type", "type", "internal", "sender")}}
        self.articles[number].append(article)
        self.tickets[number]["article_ids"].append(article["id"])
        self.tickets[number]["article_count"] = len(self.articles[number])
        return 201, article

    @staticmethod
    def _not_found(number: int) -> tuple[int, dict]:
        return 404, {"error": f"Couldn't find Ticket with 'id'={number}",
                     "error_human": f"Couldn't find Ticket with 'id'={number}"}


def zammad_config(fake: FakeZammad) -> dict:
    """The zammad config section that points the sidecar at the fake."""
    return {"url": fake.url, "api_token": API_TOKEN, "webhook_secret": WEBHOOK_SECRET}
