"""Write-backs to a ticket, carried out by the worker: the suggestion note, a reuse's link note, tags, the
taxonomy field, and fetching the ticket's fields (which may refine its suggestion set).

fetch_fields (the delivery carried no custom fields): fetch the ticket, store its fields, tags, form and
requester locale, and recompute the suggestion set (without queueing another write-back) when there is
no set yet, when the winning mapping rule differs from the one the latest set used, or when the locale
changed; otherwise the set stands and only the stored ticket is updated.

Each handler takes (conn, cfg, client, job) and returns a few words for the worker's log line; it raises only the
integration's typed errors (integrations.base). HANDLERS is what jobs/worker.py dispatches on.
"""
from __future__ import annotations

import sqlite3

from integrations.base import Ticket, WriteBack
from kb import mapping
from tickets import intake

NOTE_ARTICLES = 3


def note_body(articles: list[dict], taxonomy: list[str]) -> str:
    """The internal note: plain text (a Zendesk comment `body` is not HTML), agents only."""
    head = "Knowledge Sidecar suggests"
    if taxonomy:
        head += f" (issue: {' > '.join(taxonomy)})"
    lines = [head + ":"]
    for n, a in enumerate(articles[:NOTE_ARTICLES], start=1):
        line = f"{n}. {a['title']}"
        if a.get("snippet"):
            line += f" - {a['snippet']}"
        lines.append(line)
    lines.append("Open the Knowledge Sidecar app in this ticket's sidebar to reuse, link or flag an article.")
    return "\n".join(lines)


def link_body(payload: dict) -> str:
    """The internal note that links a reused article to the ticket (KCS: the link is the record of reuse)."""
    who = payload.get("agent") or "An agent"
    if payload.get("created"):
        return (f"Knowledge Sidecar: {who} created the article \"{payload.get('title', '')}\" "
                f"({payload.get('external_id', '')}) from this ticket; it is linked to it as its resolution.")
    return (f"Knowledge Sidecar: {who} linked the article \"{payload.get('title', '')}\" "
            f"({payload.get('external_id', '')}) to this ticket as its resolution.")


def _note_content(conn: sqlite3.Connection, job: dict) -> tuple[list[dict], list[str]]:
    """The ticket's latest suggestion set when it has articles (fetch_fields may have refined it after the
    note was queued), else what was queued."""
    ticket = intake.load_ticket(conn, job["integration"], job["ticket_external_id"])
    latest = intake.latest_set(conn, ticket["id"]) if ticket else None
    if latest and latest.get("articles"):
        return latest["articles"], latest["taxonomy"]["path"]
    return job["payload"].get("articles") or [], job["payload"].get("taxonomy") or []


def refresh_ticket(conn: sqlite3.Connection, cfg: dict, client: WriteBack, integration: str,
                   ticket_id: str) -> bool:
    """fetch_fields: store the ticket as the helpdesk has it; True when the suggestion set was recomputed."""
    remote = client.fetch_ticket(ticket_id)
    stored = intake.load_ticket(conn, integration, ticket_id) or {}
    t = Ticket(integration, str(ticket_id), subject=remote["subject"] or stored.get("subject", ""),
               description=remote["description"] or stored.get("description", ""), tags=remote["tags"],
               fields=remote["fields"], form_id=remote["form_id"] or stored.get("form_id"),
               brand_id=remote["brand_id"] or stored.get("brand_id"),
               locale=remote["locale"] or stored.get("locale"), requester_id=remote["requester_id"])
    latest = intake.latest_set(conn, stored["id"]) if stored else None
    rule = mapping.match(conn, t.fields, t.tags, t.form_id)
    changed = (latest is None
               or latest["taxonomy"].get("rule_id") != (rule["id"] if rule else None)
               or (t.locale or None) != (stored.get("locale") or None))
    if changed:
        intake.handle(conn, cfg, t, write_back=False)
    else:
        intake.save_ticket(conn, t)
    return changed


def _note(conn: sqlite3.Connection, cfg: dict, client: WriteBack, job: dict) -> str:
    articles, taxonomy = _note_content(conn, job)
    if not articles:
        return "nothing to note"
    client.add_internal_note(job["ticket_external_id"], note_body(articles, taxonomy))
    return f"internal note with {min(len(articles), NOTE_ARTICLES)} article(s)"


def _link(conn: sqlite3.Connection, cfg: dict, client: WriteBack, job: dict) -> str:
    client.add_internal_note(job["ticket_external_id"], link_body(job["payload"]))
    return f"linked article {job['payload'].get('external_id')!r}"


def _tags(conn: sqlite3.Connection, cfg: dict, client: WriteBack, job: dict) -> str:
    client.add_tags(job["ticket_external_id"], list(job["payload"].get("add") or []))
    return f"tags {job['payload'].get('add')}"


def _set_field(conn: sqlite3.Connection, cfg: dict, client: WriteBack, job: dict) -> str:
    payload = job["payload"]
    client.set_custom_field(job["ticket_external_id"], payload["field_id"], payload["value"])
    return f"field {payload['field_id']} = {payload['value']!r}"


def _fetch_fields(conn: sqlite3.Connection, cfg: dict, client: WriteBack, job: dict) -> str:
    again = refresh_ticket(conn, cfg, client, job["integration"], job["ticket_external_id"])
    return "fields fetched, suggestions recomputed" if again else "fields fetched, suggestions unchanged"


HANDLERS = {"note": _note, "link": _link, "tags": _tags, "set_field": _set_field, "fetch_fields": _fetch_fields}
