"""A real HTTP fake of the Zendesk Support API on 127.0.0.1, for the endpoints our write-back uses.

zenpy talks to it through ZENPY_FORCE_SCHEME / ZENPY_FORCE_NETLOC (environment, not our code).
Every request is recorded (method, path, query, headers, JSON body). The next N answers can be
scripted: 429 with Retry-After, 500/503, 404, 409 ...

Shapes follow the Zendesk Tickets, Tags and Users API references:
  GET  /api/v2/tickets/{id}.json        -> {"ticket": {...}}
  PUT  /api/v2/tickets/{id}.json        -> {"ticket": {...}, "audit": {"events": [...]}}
  PUT  /api/v2/tickets/{id}/tags.json   -> {"tags": [...]}        (adds to the ticket's tags)
  GET  /api/v2/users/{id}.json          -> {"user": {...}}
  GET  /api/v2/ticket_fields.json       -> {"ticket_fields": [...]}
  GET  /api/v2/apps/{id}/public_key.pem -> the app's RSA public key, PEM text
Errors: 404 {"error": "RecordNotFound", "description": "Not found"}; 429 text with Retry-After.
"""
from __future__ import annotations

import base64
import copy
import itertools
import json
import re
import threading
import time
from datetime import UTC, datetime
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from urllib.parse import parse_qs, urlsplit

EMAIL = "agent@example.com"
API_TOKEN = "fake-api-token-123"
SUBDOMAIN = "acme"

_TICKET = re.compile(r"^/api/v2/tickets/(\d+)\.json$")
_TAGS = re.compile(r"^/api/v2/tickets/(\d+)/tags\.json$")
_USER = re.compile(r"^/api/v2/users/(\d+)\.json$")
_APP_KEY = re.compile(r"^/api/v2/apps/(\d+)/public_key\.pem$")


def _stamp() -> str:
    return datetime.now(UTC).strftime("%Y-%m-%dT%H:%M:%SZ")


class FakeZendesk:
    """State (tickets, users, fields), the request log and the scripted failures."""

    def __init__(self, subdomain: str = SUBDOMAIN):
        self.subdomain = subdomain
        self.tickets: dict[int, dict] = {}
        self.comments: dict[int, list[dict]] = {}
        self.users: dict[int, dict] = {}
        self.ticket_fields: list[dict] = []
        self.app_public_keys: dict[int, str] = {}     # app id -> PEM (Apps API: GET /api/v2/apps/{id}/public_key.pem)
        self.requests: list[dict] = []
        self._script: list[tuple[int, dict, bytes]] = []
        self.latency_s = 0.0  # simulated Zendesk response time (the server thread waits, never the test)
        self._lock = threading.Lock()
        self._ids = itertools.count(9_000_000)
        self.server = ThreadingHTTPServer(("127.0.0.1", 0), self._handler())
        self.server.daemon_threads = True
        self.port = self.server.server_address[1]
        self.netloc = f"127.0.0.1:{self.port}"
        self._thread = threading.Thread(target=self.server.serve_forever, args=(0.05,), daemon=True)

    # -- lifecycle -------------------------------------------------------------------------
    def start(self) -> FakeZendesk:
        self._thread.start()
        return self

    def stop(self) -> None:
        self.server.shutdown()
        self.server.server_close()
        self._thread.join(5)

    # -- data --------------------------------------------------------------------------------
    def add_user(self, user_id: int, locale: str = "en-US", name: str = "Requester") -> dict:
        user = {"id": user_id, "url": f"https://{self.subdomain}.zendesk.com/api/v2/users/{user_id}.json",
                "name": name, "email": f"user{user_id}@example.net", "locale": locale, "locale_id": 1,
                "role": "end-user", "active": True, "verified": True, "time_zone": "UTC",
                "created_at": _stamp(), "updated_at": _stamp(), "tags": [], "user_fields": {}}
        self.users[user_id] = user
        return user

    def add_ticket(self, ticket_id: int, subject: str = "", description: str = "", tags=(),
                   custom_fields: dict | None = None, ticket_form_id: int | None = 40,
                   requester_id: int | None = 1001, brand_id: int | None = 30) -> dict:
        fields = [{"id": int(k), "value": v} for k, v in (custom_fields or {}).items()]
        ticket = {
            "url": f"https://{self.subdomain}.zendesk.com/api/v2/tickets/{ticket_id}.json",
            "id": ticket_id, "external_id": None,
            "via": {"channel": "web", "source": {"from": {}, "to": {}, "rel": None}},
            "created_at": _stamp(), "updated_at": _stamp(), "generated_timestamp": 0,
            "type": "question", "subject": subject, "raw_subject": subject, "description": description,
            "priority": "normal", "status": "new", "recipient": None,
            "requester_id": requester_id, "submitter_id": requester_id, "assignee_id": None,
            "organization_id": None, "group_id": 20, "collaborator_ids": [], "follower_ids": [],
            "email_cc_ids": [], "forum_topic_id": None, "problem_id": None, "has_incidents": False,
            "is_public": True, "due_at": None, "tags": list(tags), "custom_fields": fields,
            "satisfaction_rating": None, "sharing_agreement_ids": [], "custom_status_id": 1,
            "fields": [dict(f) for f in fields], "followup_ids": [], "ticket_form_id": ticket_form_id,
            "brand_id": brand_id, "allow_channelback": False, "allow_attachments": True,
            "from_messaging_channel": False,
        }
        self.tickets[ticket_id] = ticket
        self.comments[ticket_id] = []
        return ticket

    # -- scripting ---------------------------------------------------------------------------
    def fail_next(self, status: int, count: int = 1, retry_after: str | int | None = None,
                  body: dict | str | None = None) -> None:
        """The next `count` requests (any endpoint) are answered with `status`."""
        headers = {}
        if retry_after is not None:
            headers["Retry-After"] = str(retry_after)
        if body is None:
            body = {404: {"error": "RecordNotFound", "description": "Not found"},
                    409: {"error": "Conflict", "description": "The ticket was updated by someone else"},
                    422: {"error": "RecordInvalid", "description": "Record validation errors"},
                    401: {"error": "Couldn't authenticate you"}}.get(status, "")
        raw = json.dumps(body).encode() if isinstance(body, dict) else str(body).encode()
        if status == 429 and not raw:
            raw = b"Rate limit for ticket updates exceeded, please wait before updating this ticket again"
        if status >= 500 and not raw:
            raw = b"<html><body>Service Unavailable</body></html>"
        with self._lock:
            self._script.extend([(status, headers, raw)] * count)

    # -- inspection --------------------------------------------------------------------------
    def calls(self, method: str | None = None, path: str | None = None) -> list[dict]:
        with self._lock:
            return [r for r in self.requests
                    if (method is None or r["method"] == method) and (path is None or r["path"] == path)]

    # -- serving -----------------------------------------------------------------------------
    def _handler(self):
        fake = self

        class Handler(BaseHTTPRequestHandler):
            protocol_version = "HTTP/1.1"

            def log_message(self, *args):  # keep pytest output quiet
                pass

            def _serve(self):
                parts = urlsplit(self.path)
                length = int(self.headers.get("Content-Length") or 0)
                raw = self.rfile.read(length) if length else b""
                try:
                    body = json.loads(raw) if raw else None
                except ValueError:
                    body = raw.decode("utf-8", "replace")
                auth = self.headers.get("Authorization", "")
                user = None
                if auth.startswith("Basic "):
                    user = base64.b64decode(auth[6:]).decode().split(":", 1)
                record = {"method": self.command, "path": parts.path, "query": parse_qs(parts.query),
                          "headers": dict(self.headers.items()), "auth": user, "json": body}
                with fake._lock:
                    fake.requests.append(record)
                    scripted = fake._script.pop(0) if fake._script else None
                if fake.latency_s:
                    time.sleep(fake.latency_s)
                if scripted:
                    status, headers, payload = scripted
                    ctype = "application/json" if payload.startswith(b"{") else "text/plain"
                    return self._send(status, payload, ctype, headers)
                if user != [f"{EMAIL}/token", API_TOKEN]:
                    return self._json(401, {"error": "Couldn't authenticate you"})
                status, answer = fake._route(self.command, parts.path, body)
                if isinstance(answer, str):
                    return self._send(status, answer.encode(), "application/x-pem-file", {})
                self._json(status, answer)

            def _json(self, status, obj):
                self._send(status, json.dumps(obj).encode(), "application/json; charset=utf-8", {})

            def _send(self, status, payload, ctype, headers):
                self.send_response(status)
                self.send_header("Content-Type", ctype)
                self.send_header("Content-Length", str(len(payload)))
                for k, v in headers.items():
                    self.send_header(k, v)
                self.end_headers()
                self.wfile.write(payload)

            do_GET = do_PUT = do_POST = do_DELETE = _serve

        return Handler

    def _route(self, method: str, path: str, body) -> tuple[int, dict]:
        not_found = (404, {"error": "RecordNotFound", "description": "Not found"})
        with self._lock:
            if m := _TICKET.match(path):
                ticket = self.tickets.get(int(m[1]))
                if ticket is None:
                    return not_found
                if method == "GET":
                    return 200, {"ticket": ticket}
                if method == "PUT":
                    return 200, self._update(ticket, copy.deepcopy((body or {}).get("ticket") or {}))
            if (m := _TAGS.match(path)) and method in ("PUT", "POST"):
                ticket = self.tickets.get(int(m[1]))
                if ticket is None:
                    return not_found
                new = list((body or {}).get("tags") or [])
                ticket["tags"] = new if method == "POST" else ticket["tags"] + [t for t in new
                                                                                if t not in ticket["tags"]]
                ticket["updated_at"] = _stamp()
                return 200, {"tags": ticket["tags"]}
            if (m := _USER.match(path)) and method == "GET":
                user = self.users.get(int(m[1]))
                return (200, {"user": user}) if user else not_found
            if (m := _APP_KEY.match(path)) and method == "GET":
                pem = self.app_public_keys.get(int(m[1]))
                return (200, pem) if pem else not_found
            if path == "/api/v2/ticket_fields.json" and method == "GET":
                return 200, {"ticket_fields": self.ticket_fields, "next_page": None, "previous_page": None,
                             "count": len(self.ticket_fields)}
        return 404, {"error": "InvalidEndpoint", "description": "Not found"}

    def _update(self, ticket: dict, change: dict) -> dict:
        events = []
        comment = change.pop("comment", None)
        if comment:
            event = {"id": next(self._ids), "type": "Comment", "author_id": 1, "body": comment.get("body", ""),
                     "html_body": comment.get("html_body") or f"<p>{comment.get('body', '')}</p>",
                     "public": comment.get("public", True), "attachments": [], "audit_id": None}
            self.comments[ticket["id"]].append(event)
            events.append(event)
        for key in ("custom_fields", "fields"):
            for f in change.pop(key, None) or []:
                current = {c["id"]: c for c in ticket["custom_fields"]}
                if int(f["id"]) in current:
                    current[int(f["id"])]["value"] = f.get("value")
                else:
                    ticket["custom_fields"].append({"id": int(f["id"]), "value": f.get("value")})
                ticket["fields"] = [dict(c) for c in ticket["custom_fields"]]
                events.append({"id": next(self._ids), "type": "Change", "field_name": str(f["id"]),
                               "value": f.get("value")})
        if "additional_tags" in change:
            ticket["tags"] += [t for t in change.pop("additional_tags") if t not in ticket["tags"]]
        for key, value in change.items():
            if key in ticket and key != "id":
                ticket[key] = value
        ticket["updated_at"] = _stamp()
        audit = {"id": next(self._ids), "ticket_id": ticket["id"], "created_at": _stamp(), "author_id": 1,
                 "metadata": {"system": {}, "custom": {}}, "via": {"channel": "api", "source": {}},
                 "events": events}
        return {"ticket": ticket, "audit": audit}


def serve(monkeypatch):
    """Generator behind the `fake_zendesk` fixture (tests/conftest.py): the fake on a random loopback port,
    zenpy pointed at it through its documented environment overrides."""
    fake = FakeZendesk().start()
    monkeypatch.setenv("ZENPY_FORCE_SCHEME", "http")
    monkeypatch.setenv("ZENPY_FORCE_NETLOC", fake.netloc)
    try:
        yield fake
    finally:
        fake.stop()


def zendesk_config(fake: FakeZendesk) -> dict:
    """The zendesk config section that makes the worker talk to the fake."""
    return {"subdomain": fake.subdomain, "email": EMAIL, "api_token": API_TOKEN}
