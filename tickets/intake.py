"""One ticket in: map it to the taxonomy, rank knowledge for it, remember the set, queue the write-back."""
from __future__ import annotations

import json
import sqlite3

from integrations import registry
from integrations.base import PermanentError, Ticket, TransientError
from kb import mapping, taxonomy
from store import now, outbox, write
from suggest import index
from suggest.language import resolve
from suggest.rank import Query, suggest
from tickets import lifecycle


def suggestions(conn: sqlite3.Connection, cfg: dict, *, subject: str, description: str = "",
                language: str | None = None, locale: str | None = None, fields: dict | None = None,
                tags: list | None = None, form_id=None, limit: int | None = None,
                min_confidence: float | None = None) -> dict:
    """The contract's suggestion answer (stateless): rule first, else inference. Suggestions below
    `min_confidence` (default suggest.min_confidence) are left out, so the answer may hold none."""
    sc = cfg["suggest"]
    rule = mapping.match(conn, fields, tags, form_id)
    lang = resolve(language, locale, f"{subject}\n{description}", sc["default_language"])
    q = Query(subject=subject, description=description, language=lang, default_language=sc["default_language"],
              node_id=rule["node_id"] if rule else None, limit=limit or sc["limit"], macro_limit=sc["macro_limit"],
              min_inferred_confidence=sc["min_inferred_confidence"],
              min_confidence=sc["min_confidence"] if min_confidence is None else min_confidence,
              semantic=sc["semantic_weight"] if sc["semantic"] else 0.0)
    result = suggest(conn, q)
    if rule:
        result["taxonomy"]["rule_id"] = rule["id"]
    return result


def save_ticket(conn: sqlite3.Connection, t: Ticket) -> int:
    stamp = now()
    with write(conn):
        conn.execute("""
            INSERT INTO tickets (integration, external_id, subject, description, tags, fields, form_id, brand_id,
                                 locale, source_updated_at, status, group_id, assignee_id, source_created_at,
                                 created_at, updated_at)
            VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)
            ON CONFLICT(integration, external_id) DO UPDATE SET
                subject = excluded.subject, description = excluded.description, tags = excluded.tags,
                fields = CASE WHEN excluded.fields = '{}' THEN tickets.fields ELSE excluded.fields END,
                form_id = COALESCE(excluded.form_id, tickets.form_id),
                brand_id = COALESCE(excluded.brand_id, tickets.brand_id),
                locale = COALESCE(excluded.locale, tickets.locale),
                source_updated_at = COALESCE(excluded.source_updated_at, tickets.source_updated_at),
                source_created_at = COALESCE(tickets.source_created_at, excluded.source_created_at),
                updated_at = excluded.updated_at""",
                     (t.integration, t.external_id, t.subject, t.description, json.dumps(t.tags),
                      json.dumps(t.fields), t.form_id, t.brand_id, t.locale, t.source_updated_at, t.status,
                      t.group_id, t.assignee_id, t.source_created_at, stamp, stamp))
        ticket_id = conn.execute("SELECT id FROM tickets WHERE integration = ? AND external_id = ?",
                                 (t.integration, t.external_id)).fetchone()[0]
        index.ticket_changed(conn, ticket_id)      # reuse evidence follows the ticket's text
        return ticket_id


class UnknownTicket(LookupError):
    """The sidecar holds no such ticket, and the helpdesk could not vouch for it."""


class HelpdeskUnavailable(RuntimeError):
    """The helpdesk could not be asked now (unreachable, rate limited): try again later."""


def ticket_from_helpdesk(conn: sqlite3.Connection, cfg: dict, integration: str, external_id: str) -> int:
    """A ticket the sidecar never received, read from the helpdesk's API and kept (no suggestion set): its row
    id. UnknownTicket when the helpdesk has no such ticket or cannot be asked; HelpdeskUnavailable when it is
    unreachable. Called for sidebar sessions the helpdesk signed, never for a bare ticket id from the browser."""
    source = registry.get(integration)
    client = source.client(cfg) if source and source.client else None
    if client is None:
        raise UnknownTicket(f"the sidecar has not received {integration} ticket {external_id} and cannot ask "
                            f"{integration} (its API is not configured)")
    try:
        remote = client.fetch_ticket(external_id)
    except TransientError as exc:
        raise HelpdeskUnavailable(f"{integration} could not be asked about ticket {external_id}: {exc}") from None
    except PermanentError as exc:
        raise UnknownTicket(f"{integration} has no ticket {external_id} ({exc})") from None
    return save_ticket(conn, Ticket(integration, str(external_id), subject=remote["subject"],
                                    description=remote["description"], tags=remote["tags"], fields=remote["fields"],
                                    form_id=remote["form_id"], brand_id=remote["brand_id"], locale=remote["locale"],
                                    requester_id=remote["requester_id"]))


def load_ticket(conn: sqlite3.Connection, integration: str, external_id: str) -> dict | None:
    cur = conn.execute("SELECT * FROM tickets WHERE integration = ? AND external_id = ?", (integration, external_id))
    row = cur.fetchone()
    if row is None:
        return None
    t = dict(zip([c[0] for c in cur.description], row))
    t["tags"], t["fields"] = json.loads(t["tags"]), json.loads(t["fields"])
    return t


def latest_set(conn: sqlite3.Connection, ticket_id: int) -> dict | None:
    row = conn.execute("SELECT payload, created_at FROM suggestion_sets WHERE ticket_id = ? ORDER BY id DESC LIMIT 1",
                       (ticket_id,)).fetchone()
    if row is None:
        return None
    payload = json.loads(row[0])
    payload["computed_at"] = row[1]
    return payload


def stored_suggestions(conn: sqlite3.Connection, integration: str, external_id: str) -> dict | None:
    """The ticket's latest suggestion set with the ticket (`ticket`: text, status, timeline, outcome), or None."""
    ticket = load_ticket(conn, integration, external_id)
    result = latest_set(conn, ticket["id"]) if ticket else None
    if result is None:
        return None
    entries = lifecycle.timeline(conn, ticket["id"])
    result["ticket"] = {k: ticket[k] for k in ("external_id", "subject", "description", "tags", "fields", "locale",
                                               "language", "status", "group_id", "assignee_id", "created_at",
                                               "updated_at")}
    result["ticket"].update(integration=integration, timeline=entries,
                            outcome=lifecycle.outcome(entries, ticket["source_created_at"]))
    return result


def ticket_suggestions(conn: sqlite3.Connection, cfg: dict, t: Ticket) -> dict:
    """The ticket's suggestion set, not stored. Call it outside a transaction: the search index catches up
    only on committed changes."""
    return suggestions(conn, cfg, subject=t.subject, description=t.description, locale=t.locale,
                       fields=t.fields, tags=t.tags, form_id=t.form_id)


def handle(conn: sqlite3.Connection, cfg: dict, t: Ticket, write_back: bool = True) -> dict:
    """Compute the ticket's suggestion set, then store ticket, set and jobs (`record`). Returns the set."""
    result = ticket_suggestions(conn, cfg, t)
    record(conn, cfg, t, result, write_back)
    return result


def record(conn: sqlite3.Connection, cfg: dict, t: Ticket, result: dict, write_back: bool = True) -> int:
    """Store the ticket, its suggestion set and its write-back jobs in one transaction (or in the caller's):
    all of them or, when anything fails, none. Returns the ticket's row id."""
    node_id = taxonomy.find(conn, result["taxonomy"]["path"]) if result["taxonomy"]["path"] else None
    with write(conn):
        ticket_id = save_ticket(conn, t)
        first = not conn.execute("SELECT 1 FROM suggestion_sets WHERE ticket_id = ? LIMIT 1", (ticket_id,)).fetchone()
        conn.execute("INSERT INTO suggestion_sets (ticket_id, node_id, payload, created_at) VALUES (?, ?, ?, ?)",
                     (ticket_id, node_id, json.dumps(result), now()))
        conn.execute("UPDATE tickets SET language = ?, node_id = ? WHERE id = ?",
                     (result["language"], node_id, ticket_id))
        if t.needs_fields:
            outbox.enqueue(conn, t.integration, t.external_id, "fetch_fields", {})
        if write_back:
            queue_write_back(conn, cfg, t, result, note=first)
    return ticket_id


def update_text(conn: sqlite3.Connection, t: Ticket) -> bool:
    """A later change of a ticket we already hold (a helpdesk event other than its creation): store its current
    subject, description, tags and fields when they differ, nothing more (no new suggestion set, no note).
    True when stored; False when the ticket is unknown here, unchanged, older than the text we hold (by
    the helpdesk's own updated_at), or the change carries no ticket text."""
    stored = load_ticket(conn, t.integration, t.external_id)
    if stored is None or not (t.subject or t.description):
        return False
    if t.source_updated_at and stored["source_updated_at"] and t.source_updated_at < stored["source_updated_at"]:
        return False                    # delivered late: the text we hold is newer
    if (t.subject, t.description, t.tags) == (stored["subject"], stored["description"], stored["tags"]) \
            and (not t.fields or t.fields == stored["fields"]) \
            and (t.form_id or stored["form_id"]) == stored["form_id"]:
        return False
    save_ticket(conn, t)
    return True


def remapped(conn: sqlite3.Connection, cfg: dict, t: Ticket, stored: dict | None) -> dict | None:
    """After a field, tag or form of a handled ticket changed: its new suggestion set when the change moves it
    to another taxonomy node, else None. Call it outside a transaction (it ranks)."""
    latest = latest_set(conn, stored["id"]) if stored else None
    if latest is None:
        return None
    rule = mapping.match(conn, t.fields, t.tags, t.form_id)
    if (rule["id"] if rule else None) == latest["taxonomy"].get("rule_id"):
        return None
    result = ticket_suggestions(conn, cfg, t)
    return result if result["taxonomy"]["path"] != latest["taxonomy"]["path"] else None


def store_remap(conn: sqlite3.Connection, cfg: dict, t: Ticket, result: dict) -> None:
    """Keep a re-mapped ticket's new suggestion set (in the caller's transaction); no note and no tags go back,
    only the taxonomy field when one is configured (a change of our own field never re-maps: see
    tickets/deliveries.py)."""
    node_id = taxonomy.find(conn, result["taxonomy"]["path"]) if result["taxonomy"]["path"] else None
    with write(conn):
        ticket_id = conn.execute("SELECT id FROM tickets WHERE integration = ? AND external_id = ?",
                                 (t.integration, t.external_id)).fetchone()[0]
        conn.execute("INSERT INTO suggestion_sets (ticket_id, node_id, payload, created_at) VALUES (?, ?, ?, ?)",
                     (ticket_id, node_id, json.dumps(result), now()))
        conn.execute("UPDATE tickets SET language = ?, node_id = ? WHERE id = ?",
                     (result["language"], node_id, ticket_id))
        ws = registry.write_back_settings(cfg, t.integration)
        if ws.mode != "off" and ws.taxonomy_field and result["taxonomy"]["path"]:
            outbox.enqueue(conn, t.integration, t.external_id, "set_field",
                           {"field_id": ws.taxonomy_field, "value": "/".join(result["taxonomy"]["path"])})


def queue_write_back(conn: sqlite3.Connection, cfg: dict, t: Ticket, result: dict, note: bool = True) -> None:
    """Queue the write-back of a suggestion set. The note goes only with a ticket's first set (`note`): a second
    delivery of its creation (an event webhook and a trigger both set up, a redelivery under a new invocation
    id, a trigger fired before our note's loop-guard tag reached the ticket) refreshes the set, adds no note.
    What goes back is the ticket's integration's (integrations.registry.write_back_settings)."""
    ws = registry.write_back_settings(cfg, t.integration)
    mode = ws.mode
    if mode == "off":
        return
    if note and mode in ("note", "note_and_tags") and result["articles"]:
        outbox.enqueue(conn, t.integration, t.external_id, "note", {
            "articles": [{"id": a["id"], "title": a["title"], "snippet": a["snippet"]} for a in result["articles"][:3]],
            "taxonomy": result["taxonomy"]["path"]})
    if mode in ("tags", "note_and_tags"):
        outbox.enqueue(conn, t.integration, t.external_id, "tags", {"add": [ws.loop_guard_tag]})
    if ws.taxonomy_field and result["taxonomy"]["path"]:
        outbox.enqueue(conn, t.integration, t.external_id, "set_field",
                       {"field_id": ws.taxonomy_field, "value": "/".join(result["taxonomy"]["path"])})
