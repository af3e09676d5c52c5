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
        self.help_center = HelpCenter(self)          # Help Center (Guide): sections, articles, translations
        self.macros = FakeMacros(self)               # Macros API: list, create, show, update
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
                if parts.path.startswith(HC_PREFIX):
                    status, answer = fake.help_center.route(self.command, parts.path, parse_qs(parts.query), body)
                    return self._json(status, answer)
                if parts.path.startswith(MACROS_PREFIX):
                    status, answer = fake.macros.route(self.command, parts.path, parse_qs(parts.query), body)
                    return self._json(status, answer)
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


# -- Help Center (Guide) -------------------------------------------------------------------------------------------
# Shapes follow the Help Center API reference (sections, articles, translations; cursor and offset pagination):
#   GET  /api/v2/help_center[/{locale}]/sections                       -> {"sections": [...]}
#   GET  /api/v2/help_center[/{locale}]/articles[?label_names=a,b]     -> {"articles": [...]}  (all labels must match)
#   GET  /api/v2/help_center[/{locale}]/sections/{id}/articles         -> {"articles": [...]}
#   GET  /api/v2/help_center[/{locale}]/articles/{id}                  -> {"article": {...}}
#   POST /api/v2/help_center[/{locale}]/sections/{id}/articles         {"article": {...}, "notify_subscribers": b}
#   GET|POST /api/v2/help_center/articles/{id}/translations            -> {"translations": [...]} | {"translation"}
#   GET|PUT  /api/v2/help_center/articles/{id}/translations/{locale}   -> {"translation": {...}}
# Lists: with page[size] cursor pagination (meta.has_more, meta.after_cursor, links.next; page[size] capped at
# page_size_cap), without it offset pagination (page, per_page, next_page, count).
HC_PREFIX = "/api/v2/help_center/"
_HC_PATH = re.compile(r"^/api/v2/help_center(?:/(?P<locale>[a-z]{2}(?:-[a-z0-9]{2,4})?))?(?P<rest>/.*?)(?:\.json)?$")
_HC_ROUTES = [(name, re.compile(rx)) for name, rx in (
    ("sections", r"^/sections$"), ("section_articles", r"^/sections/(\d+)/articles$"), ("articles", r"^/articles$"),
    ("article", r"^/articles/(\d+)$"), ("translations", r"^/articles/(\d+)/translations$"),
    ("translation", r"^/articles/(\d+)/translations/([A-Za-z0-9-]+)$"))]
_HC_ARTICLE_KEYS = ("author_id", "comments_disabled", "content_tag_ids", "label_names", "permission_group_id",
                    "position", "promoted", "user_segment_id", "user_segment_ids")


class HelpCenter:
    """The fake's Help Center: sections, articles (metadata) and their translations (title, body, draft per locale).
    Requests are recorded with every other request in FakeZendesk.requests."""

    def __init__(self, fake: FakeZendesk):
        self.fake = fake
        self.sections: dict[int, dict] = {}
        self.articles: dict[int, dict] = {}                  # id -> metadata (title/body live in translations)
        self.translations: dict[int, dict[str, dict]] = {}   # article id -> locale -> translation
        self.page_size_cap = 100                             # Zendesk's largest page[size]; tests lower it
        self.cursor_pagination = True                        # False: page[size] ignored, offset pages only
        self.lost_answers = 0                                # next N writes are done but answered 500
        self._ids = itertools.count(360_000_000_001)

    # -- data --------------------------------------------------------------------------------
    def _url(self, kind: str, locale: str, obj_id: int, name: str) -> str:
        slug = re.sub(r"[^a-z0-9]+", "-", name.lower()).strip("-")
        return f"https://{self.fake.subdomain}.zendesk.com/hc/{locale}/{kind}/{obj_id}-{slug}"

    def add_section(self, name: str, parent_section_id: int | None = None, locale: str = "en-us",
                    category_id: int = 360_000_000_000, section_id: int | None = None) -> dict:
        sid = section_id or next(self._ids)
        section = {"id": sid, "url": f"https://{self.fake.subdomain}.zendesk.com/api/v2/help_center/{locale}/"
                                     f"sections/{sid}.json", "html_url": self._url("sections", locale, sid, name),
                   "category_id": category_id, "parent_section_id": parent_section_id, "name": name,
                   "description": "", "locale": locale, "source_locale": locale, "outdated": False,
                   "position": len(self.sections), "sorting": "manual", "theme_template": "section_page",
                   "created_at": _stamp(), "updated_at": _stamp()}
        with self.fake._lock:
            self.sections[sid] = section
        return section

    def add_article(self, section_id: int, title: str, body: str, locale: str = "en-us",
                    user_segment_id: int | None = None, draft: bool = False, label_names=(),
                    translations: dict | None = None, permission_group_id: int = 7001) -> dict:
        """An article with its source translation, and more translations {locale: {"title", "body", "draft"?}}."""
        with self.fake._lock:
            art = self._create(section_id, {"title": title, "body": body, "locale": locale, "draft": draft,
                                            "user_segment_id": user_segment_id, "label_names": list(label_names),
                                            "permission_group_id": permission_group_id})
            for loc, t in (translations or {}).items():
                self._translate(art["id"], {"locale": loc, **t})
            return self._render(art["id"])

    def edit_translation(self, article_id: int, locale: str, **change) -> dict:
        """Change title / body / draft of one translation as an editor in Guide would."""
        with self.fake._lock:
            t = self.translations[article_id][locale]
            t.update(change, updated_at=_stamp())
            self.articles[article_id]["edited_at"] = self.articles[article_id]["updated_at"] = _stamp()
            return dict(t)

    def article(self, article_id: int, locale: str | None = None) -> dict:
        with self.fake._lock:
            return self._render(article_id, locale)

    def lose_answers(self, count: int = 1) -> None:
        """The next `count` Help Center writes are carried out but answered 500 (the answer lost on the way)."""
        with self.fake._lock:
            self.lost_answers += count

    def _create(self, section_id: int, data: dict) -> dict:
        aid, locale = next(self._ids), data["locale"]
        meta = {"id": aid, "url": f"https://{self.fake.subdomain}.zendesk.com/api/v2/help_center/{locale}/articles/"
                                  f"{aid}.json", "section_id": section_id, "source_locale": locale, "author_id": 1,
                "comments_disabled": False, "content_tag_ids": [], "label_names": [], "position": 0,
                "promoted": False, "user_segment_id": None, "user_segment_ids": [], "permission_group_id": None,
                "vote_sum": 0, "vote_count": 0, "outdated_locales": [], "created_at": _stamp(),
                "updated_at": _stamp(), "edited_at": _stamp()}
        meta.update({k: copy.deepcopy(data[k]) for k in _HC_ARTICLE_KEYS if k in data})
        if meta["user_segment_id"] is not None and not meta["user_segment_ids"]:
            meta["user_segment_ids"] = [meta["user_segment_id"]]
        self.articles[aid] = meta
        self.translations[aid] = {}
        self._translate(aid, data)
        return meta

    def _translate(self, article_id: int, data: dict) -> dict:
        locale = data["locale"]
        t = {"id": next(self._ids), "url": f"https://{self.fake.subdomain}.zendesk.com/api/v2/help_center/articles/"
                                           f"{article_id}/translations/{locale}.json",
             "html_url": self._url("articles", locale, article_id, data.get("title") or ""),
             "source_id": article_id, "source_type": "Article", "locale": locale, "title": data.get("title") or "",
             "body": data.get("body") or "", "outdated": False, "draft": bool(data.get("draft", False)),
             "created_at": _stamp(), "updated_at": _stamp(), "created_by_id": 1, "updated_by_id": 1}
        self.translations[article_id][locale] = t
        return t

    def _render(self, article_id: int, locale: str | None = None) -> dict:
        meta = self.articles[article_id]
        ts = self.translations[article_id]
        t = ts.get(locale or meta["source_locale"]) or ts[meta["source_locale"]]
        return {**copy.deepcopy(meta), "locale": t["locale"], "title": t["title"], "body": t["body"],
                "draft": t["draft"], "outdated": t["outdated"], "html_url": t["html_url"]}

    # -- serving -----------------------------------------------------------------------------
    def route(self, method: str, path: str, query: dict, body) -> tuple[int, dict]:
        m = _HC_PATH.match(path)
        name, ids = None, ()
        for route_name, rx in _HC_ROUTES:
            if m and (r := rx.match(m["rest"])):
                name, ids = route_name, r.groups()
                break
        if name is None:
            return 404, {"error": "InvalidEndpoint", "description": "Not found"}
        locale = m["locale"]
        with self.fake._lock:
            status, answer = self._serve(name, method, [int(i) if i.isdigit() else i for i in ids], locale,
                                         query, body if isinstance(body, dict) else {}, path)
            if method in ("POST", "PUT") and status < 300 and self.lost_answers:
                self.lost_answers -= 1
                return 500, {"error": "InternalError", "description": "answer lost (scripted)"}
        return status, answer

    def _serve(self, name, method, ids, locale, query, body, path) -> tuple[int, dict]:
        not_found = (404, {"error": "RecordNotFound", "description": "Not found"})
        if name == "sections" and method == "GET":
            return 200, self._page([dict(s) for s in self.sections.values()], "sections", query, path)
        if name == "articles" and method == "GET":
            labels = {x for v in query.get("label_names", []) for x in v.split(",") if x}
            found = [self._render(a, locale) for a, meta in self.articles.items()
                     if labels <= set(meta["label_names"])]
            return 200, self._page(found, "articles", query, path)
        if name == "section_articles":
            if ids[0] not in self.sections:
                return not_found
            if method == "GET":
                found = [self._render(a, locale) for a, meta in self.articles.items() if meta["section_id"] == ids[0]]
                return 200, self._page(found, "articles", query, path)
            if method == "POST":
                return self._post_article(ids[0], body, locale)
        if ids and ids[0] not in self.articles:
            return not_found
        if name == "article" and method == "GET":
            return 200, {"article": self._render(ids[0], locale)}
        if name == "translations" and method == "GET":
            return 200, self._page([dict(t) for t in self.translations[ids[0]].values()], "translations", query, path)
        if name == "translations" and method == "POST":
            data = body.get("translation") or {}
            if not data.get("locale") or not data.get("title"):
                return _invalid("locale and title are required")
            if data["locale"] in self.translations[ids[0]]:
                return _invalid(f"translation {data['locale']} already exists")
            self.articles[ids[0]]["updated_at"] = _stamp()
            return 201, {"translation": dict(self._translate(ids[0], data))}
        if name == "translation":
            t = self.translations[ids[0]].get(ids[1])
            if t is None:
                return not_found
            if method == "GET":
                return 200, {"translation": dict(t)}
            if method == "PUT":
                change = {k: v for k, v in (body.get("translation") or {}).items() if k in ("title", "body", "draft")}
                t.update(change, updated_at=_stamp())
                self.articles[ids[0]]["updated_at"] = self.articles[ids[0]]["edited_at"] = _stamp()
                return 200, {"translation": dict(t)}
        return 404, {"error": "InvalidEndpoint", "description": "Not found"}

    def _post_article(self, section_id: int, body: dict, locale: str | None) -> tuple[int, dict]:
        data = dict(body.get("article") or {})
        data.setdefault("locale", locale)
        missing = [k for k in ("title", "locale", "permission_group_id") if not data.get(k)]
        if "user_segment_id" not in data and "user_segment_ids" not in data:
            missing.append("user_segment_id")
        if missing:
            return _invalid(f"{', '.join(missing)} must be given")
        return 201, {"article": self._render(self._create(section_id, data)["id"])}

    def _page(self, items: list[dict], key: str, query: dict, path: str) -> dict:
        base = f"https://{self.fake.subdomain}.zendesk.com{path}"
        if "page[size]" in query and self.cursor_pagination:
            size = max(1, min(int(query["page[size]"][-1]), self.page_size_cap))
            start = int((query.get("page[after]") or ["0"])[-1].removeprefix("c") or 0)
            chunk, more = items[start:start + size], start + size < len(items)
            after = f"c{start + size}" if more else None
            return {key: chunk, "meta": {"has_more": more, "after_cursor": after, "before_cursor": f"c{start}"},
                    "links": {"next": f"{base}?page[size]={size}&page[after]={after}" if more else None,
                              "prev": None}}
        per_page = max(1, min(int((query.get("per_page") or ["30"])[-1]), self.page_size_cap))
        page = max(1, int((query.get("page") or ["1"])[-1]))
        chunk = items[(page - 1) * per_page:page * per_page]
        more = page * per_page < len(items)
        return {key: chunk, "page": page, "per_page": per_page, "count": len(items),
                "page_count": -(-len(items) // per_page), "sort_by": "position", "sort_order": "asc",
                "next_page": f"{base}?page={page + 1}&per_page={per_page}" if more else None,
                "previous_page": f"{base}?page={page - 1}&per_page={per_page}" if page > 1 else None}


def _invalid(description: str) -> tuple[int, dict]:
    return 400, {"error": "RecordInvalid", "description": "Record validation errors",
                 "details": {"base": [{"description": description}]}}


MACROS_PREFIX = "/api/v2/macros"
_MACRO = re.compile(r"^/api/v2/macros/(\d+)\.json$")


class FakeMacros:
    """Macros, as the Zendesk Macros API answers (business-rules/macros reference):
      GET  /api/v2/macros.json?page=&per_page=        -> {"macros": [...], "next_page": url | null, "previous_page",
                                                          "count"}   (offset pagination, by id, per_page <= 100)
      POST /api/v2/macros.json {"macro": {...}}       -> 201 {"macro": {...}}  (422 without a title or actions)
      GET  /api/v2/macros/{id}.json                   -> {"macro": {...}}      (404 when deleted)
      PUT  /api/v2/macros/{id}.json {"macro": {...}}  -> {"macro": {...}}      (404 when deleted)
    `items` holds them by id; `add` makes one as an admin would in Zendesk, `items.pop(id)` deletes one there."""

    FIELDS = ("title", "active", "actions", "description", "restriction")

    def __init__(self, fake: FakeZendesk):
        self.fake = fake
        self.items: dict[int, dict] = {}
        self._ids = itertools.count(360_000_001)

    def add(self, title: str, actions: list[dict], active: bool = True, description: str | None = None) -> dict:
        with self.fake._lock:
            return self._create({"title": title, "actions": actions, "active": active, "description": description})

    def _create(self, data: dict) -> dict:
        macro_id = next(self._ids)
        macro = {"url": f"https://{self.fake.subdomain}.zendesk.com/api/v2/macros/{macro_id}.json", "id": macro_id,
                 "title": "", "raw_title": "", "active": True, "actions": [], "description": None,
                 "position": 10_000 + len(self.items), "default": False, "restriction": None,
                 "created_at": _stamp(), "updated_at": _stamp()}
        self._apply(macro, data)
        self.items[macro_id] = macro
        return macro

    def _apply(self, macro: dict, data: dict) -> None:
        for key in self.FIELDS:
            if key in data:
                macro[key] = copy.deepcopy(data[key])
        macro["raw_title"] = macro["title"]
        macro["updated_at"] = _stamp()

    @staticmethod
    def _invalid(data) -> dict | None:
        if not isinstance(data, dict):
            return {"macro": [{"description": "Macro: is missing"}]}
        details = {}
        if "title" in data and not (isinstance(data["title"], str) and data["title"].strip()):
            details["title"] = [{"description": "Title: cannot be blank"}]
        actions = data.get("actions", [])
        if not isinstance(actions, list) or not all(isinstance(a, dict) and "field" in a for a in actions):
            details["actions"] = [{"description": "Actions: must be a list of {field, value}"}]
        return details or None

    def route(self, method: str, path: str, query: dict, body) -> tuple[int, dict]:
        data = (body or {}).get("macro") if isinstance(body, dict) else None
        with self.fake._lock:
            if path == "/api/v2/macros.json" and method == "GET":
                return self._list(query)
            if path == "/api/v2/macros.json" and method == "POST":
                problem = self._invalid(data) or (None if data.get("title") and data.get("actions") else
                                                  {"macro": [{"description": "Title and actions are required"}]})
                if problem:
                    return 422, {"error": "RecordInvalid", "description": "Record validation errors",
                                 "details": problem}
                return 201, {"macro": self._create(data)}
            if m := _MACRO.match(path):
                macro = self.items.get(int(m[1]))
                if macro is None:
                    return 404, {"error": "RecordNotFound", "description": "Not found"}
                if method == "GET":
                    return 200, {"macro": macro}
                if method == "PUT":
                    problem = self._invalid(data)
                    if problem:
                        return 422, {"error": "RecordInvalid", "description": "Record validation errors",
                                     "details": problem}
                    self._apply(macro, data)
                    return 200, {"macro": macro}
        return 404, {"error": "InvalidEndpoint", "description": "Not found"}

    def _list(self, query: dict) -> tuple[int, dict]:
        try:
            page = int((query.get("page") or ["1"])[0])
            per_page = int((query.get("per_page") or ["100"])[0])
        except ValueError:
            return 400, {"error": "InvalidPaginationParameter", "description": "page and per_page are numbers"}
        if page < 1 or not 1 <= per_page <= 100:
            return 400, {"error": "InvalidPaginationParameter", "description": "per_page is 1 to 100, page from 1"}
        ordered = [self.items[k] for k in sorted(self.items)]
        chunk = ordered[(page - 1) * per_page: page * per_page]
        base = f"https://{self.fake.subdomain}.zendesk.com/api/v2/macros.json"
        return 200, {"macros": chunk, "count": len(ordered),
                     "next_page": f"{base}?page={page + 1}&per_page={per_page}" if page * per_page < len(ordered)
                     else None,
                     "previous_page": f"{base}?page={page - 1}&per_page={per_page}" if page > 1 else None}


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
