"""Write-back to Zammad through its REST API: an internal note (an article with internal: true), tags, one ticket
attribute, and reading a ticket. integrations.base.WriteBack; errors typed by integrations.base.JsonApi.

Requests (docs.zammad.org, zammad/zammad-documentation api/intro.rst, api/ticket/articles.rst, api/ticket/tags.rst,
api/ticket/index.rst; checked against tests/fake_zammad.py):
  auth    Authorization: Token token=<access token>   (HTTP Token Authentication; the agent needs ticket.agent)
  note    POST /api/v1/ticket_articles  {"ticket_id": 81, "subject": "Knowledge Sidecar", "body": "...",
                                         "content_type": "text/plain", "type": "note", "internal": true,
                                         "sender": "Agent"}                            -> 201 the article
  tags    POST /api/v1/tags/add         {"item": "ks_suggested", "object": "Ticket", "o_id": 81}   -> 201 true
          one call per tag (the endpoint takes one item); adding a tag the ticket has changes nothing
  field   PUT  /api/v1/tickets/81       {"<attribute>": "Hardware/Printers"}             -> 200 the ticket
  fetch   GET  /api/v1/tickets/81?expand=true, GET /api/v1/tags?object=Ticket&o_id=81 ({"tags": [...]}),
          GET  /api/v1/ticket_articles/by_ticket/81 (the first article is the description)
Errors: 404 {"error": "Couldn't find Ticket with 'id'=…"}; 401 {"error": "authentication failed"}.

Loop guard: every add_tags also adds zammad.loop_guard_tag; the trigger that calls our webhook should carry the
condition "Tags contains none of ks_suggested" and fire on "Action is created" (README: Other helpdesks).
"""
from __future__ import annotations

from integrations.base import JsonApi, PermanentError
from integrations.zammad.webhook import INTEGRATION, read

NOTE_SUBJECT = "Knowledge Sidecar"


def _ticket_id(ticket_id) -> int:
    text = str(ticket_id).strip()
    if not text.isdigit():
        raise PermanentError(f"{ticket_id!r} is not a Zammad ticket id")
    return int(text)


class ZammadClient:
    """integrations.base.WriteBack for Zammad."""

    integration = INTEGRATION

    def __init__(self, url: str, api_token: str, loop_guard_tag: str = "ks_suggested"):
        self.loop_guard_tag = loop_guard_tag
        self.api = JsonApi("zammad", url, headers={"Authorization": f"Token token={api_token}"},
                           credentials_hint="KS_ZAMMAD_API_TOKEN")

    def add_internal_note(self, ticket_id, body: str) -> None:
        self.api.call("POST", "/api/v1/ticket_articles", json={
            "ticket_id": _ticket_id(ticket_id), "subject": NOTE_SUBJECT, "body": body, "content_type": "text/plain",
            "type": "note", "internal": True, "sender": "Agent"})

    def add_tags(self, ticket_id, tags: list[str]) -> None:
        number = _ticket_id(ticket_id)
        wanted = [t for t in dict.fromkeys(str(t).strip() for t in [*tags, self.loop_guard_tag]) if t]
        for tag in wanted:
            self.api.call("POST", "/api/v1/tags/add", json={"item": tag, "object": "Ticket", "o_id": number})

    def set_custom_field(self, ticket_id, field_id, value) -> None:
        self.api.call("PUT", f"/api/v1/tickets/{_ticket_id(ticket_id)}", json={str(field_id): value})

    def fetch_ticket(self, ticket_id) -> dict:
        number = _ticket_id(ticket_id)
        ticket = self.api.call("GET", f"/api/v1/tickets/{number}", params={"expand": "true"}) or {}
        tags = (self.api.call("GET", "/api/v1/tags", params={"object": "Ticket", "o_id": number}) or {}).get("tags")
        articles = self.api.call("GET", f"/api/v1/ticket_articles/by_ticket/{number}") or []
        first = articles[0] if isinstance(articles, list) and articles and isinstance(articles[0], dict) else {}
        # The same reading as a webhook's creation: one place knows Zammad's shapes.
        delivery = read({"ticket": {**ticket, "article_count": 1, "tags": tags or []}, "article": first or {"id": 0}})
        t = delivery.ticket
        return {"id": t.external_id, "subject": t.subject, "description": t.description, "tags": t.tags,
                "fields": t.fields, "form_id": None, "brand_id": None, "requester_id": t.requester_id,
                "locale": None}


def from_config(cfg: dict) -> ZammadClient | None:
    """The client, or None while zammad.url or zammad.api_token is not set (jobs then wait in the outbox)."""
    zc = cfg["zammad"]
    if not (zc["url"] and zc["api_token"]):
        return None
    return ZammadClient(zc["url"], zc["api_token"], zc["loop_guard_tag"])
