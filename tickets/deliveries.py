"""Helpdesk webhook deliveries: deduplicated, stored raw, and turned into a suggestion set.

Suggestions are computed from the delivery's own text (a few milliseconds) so they exist even when the helpdesk
API is unreachable; everything that talks back to the helpdesk goes to the outbox.

A delivery is stored in the same transaction as what it causes (the ticket, its suggestion set, its outbox
jobs): it is kept as handled only together with its effects. When handling fails, all of it is rolled back and
only the raw delivery is kept, with status `error` and the reason, for diagnosis; the outcome is `failed` (the
webhook answers 503 with Retry-After, which helpdesks retry), and a redelivery with the same id is handled again.

Only a ticket's creation gets suggestions and a note. Any other ticket event is `recorded`: its change goes on the
ticket's timeline (tickets/lifecycle.py: status, group, assignee, public replies), the stored ticket text follows
(subject, description, tags, fields; never replaced by older text), and a field, tag or form change that moves
the ticket to another taxonomy node refreshes its suggestion set (no note). A change of the sidecar's own
taxonomy field, or a tag it added, never re-maps a ticket: our write-backs do not re-trigger us.

Owns the table webhook_deliveries.
"""
from __future__ import annotations

import logging
import sqlite3
from dataclasses import dataclass, field

from integrations import registry
from integrations.base import Change, Delivery, Ticket
from store import now, write
from tickets import intake, lifecycle

log = logging.getLogger("ks.webhooks")
# A delivery stored but not handled: "error" (failed, rolled back), or "received" (left by an older version that
# committed the delivery before handling it, when its process died in between). A redelivery takes both again.
UNFINISHED_SQL = "('error', 'received')"


@dataclass
class Incoming:
    """A verified webhook delivery: who sent it, its id and signature time, its raw body and what it says."""
    integration: str
    delivery_id: str
    signed_at: str
    raw: bytes
    delivery: Delivery


@dataclass
class Outcome:
    """What became of a delivery: accepted (a new ticket's suggestions stored), recorded (a later change of a
    ticket kept), duplicate (handled before), ignored (nothing to do; `body` says why) or failed (rolled back; a
    redelivery is handled)."""
    status: str
    body: dict = field(default_factory=dict)


def _handled(conn: sqlite3.Connection, d: Incoming) -> bool:
    """Whether this delivery is stored as handled (processed or ignored): a redelivery to answer "duplicate"."""
    row = conn.execute("SELECT status FROM webhook_deliveries WHERE integration = ? AND invocation_id = ?",
                       (d.integration, d.delivery_id)).fetchone()
    return row is not None and row[0] not in ("error", "received")


def _remember(conn: sqlite3.Connection, d: Incoming) -> int | None:
    """Store the raw delivery in the caller's transaction; None when it is stored as handled already.
    A delivery left unfinished by an earlier attempt is taken again, its detail keeping the earlier error."""
    row = conn.execute(
        "INSERT INTO webhook_deliveries (integration, invocation_id, signature_ts, body, received_at) "
        "VALUES (?, ?, ?, ?, ?) ON CONFLICT(integration, invocation_id) DO UPDATE SET status = 'received', "
        "signature_ts = excluded.signature_ts, "
        "detail = substr('an earlier attempt failed: ' || coalesce(webhook_deliveries.detail, ''), 1, 2000) "
        f"WHERE webhook_deliveries.status IN {UNFINISHED_SQL} RETURNING id",
        (d.integration, d.delivery_id, d.signed_at, d.raw.decode("utf-8", "replace"), now())).fetchone()
    return row[0] if row else None


def _mark(conn: sqlite3.Connection, delivery_row: int, status: str, detail: str | None = None) -> None:
    with write(conn):
        conn.execute("UPDATE webhook_deliveries SET status = ?, detail = coalesce(?, detail) WHERE id = ?",
                     (status, None if detail is None else detail[:2000], delivery_row))


def _keep_failed(conn: sqlite3.Connection, d: Incoming, error: str) -> None:
    """After a failed attempt (rolled back): keep the raw delivery as `error`, which a redelivery takes again.
    Best effort: when the database cannot take even this, nothing is kept, and a redelivery is handled too."""
    try:
        with write(conn):
            conn.execute(
                "INSERT INTO webhook_deliveries (integration, invocation_id, signature_ts, body, status, detail, "
                "received_at) VALUES (?, ?, ?, ?, 'error', ?, ?) ON CONFLICT(integration, invocation_id) DO UPDATE "
                f"SET status = 'error', detail = excluded.detail WHERE webhook_deliveries.status IN {UNFINISHED_SQL}",
                (d.integration, d.delivery_id, d.signed_at, d.raw.decode("utf-8", "replace"), error[:2000], now()))
    except sqlite3.Error as exc:
        log.warning("%s webhook %s: the failed delivery could not be kept: %s", d.integration, d.delivery_id, exc)


def _duplicate(d: Incoming) -> Outcome:
    return Outcome("duplicate", {"status": "duplicate", "invocation_id": d.delivery_id})


def _handle(conn: sqlite3.Connection, cfg: dict, d: Incoming) -> Outcome:
    """Handle a verified, parsed delivery; each outcome is stored in one transaction with the delivery row."""
    ticket = d.delivery.ticket
    if not d.delivery.creation:
        return _later_change(conn, cfg, d)

    known = intake.load_ticket(conn, ticket.integration, ticket.external_id)
    if known and intake.latest_set(conn, known["id"]) is not None:
        # A second delivery of the creation (an event webhook and a trigger both set up, a redelivery under a
        # new invocation id, our own write-back echoing through a trigger): the ticket is handled already, and
        # its text may have moved on since, so the older creation text must not replace it.
        guard_tag = registry.write_back_settings(cfg, ticket.integration).loop_guard_tag
        reason = (f"loop guard: ticket already carries {guard_tag} and has suggestions" if guard_tag in ticket.tags
                  else "ticket already handled: it has suggestions")
        with write(conn):
            row = _remember(conn, d)
            if row is None:
                return _duplicate(d)
            if d.delivery.change:
                lifecycle.record(conn, known["id"], d.delivery.change)
            _mark(conn, row, "ignored", reason)
        return Outcome("ignored", {"status": "ignored", "reason": reason})

    result = intake.ticket_suggestions(conn, cfg, ticket)   # before the transaction: the index reads committed data
    with write(conn):
        row = _remember(conn, d)
        if row is None:
            return _duplicate(d)
        ticket_row = intake.record(conn, cfg, ticket, result)
        if d.delivery.change:
            lifecycle.record(conn, ticket_row, d.delivery.change)
        _mark(conn, row, "processed")
    return Outcome("accepted", {"status": "accepted", "ticket": ticket.external_id, "taxonomy": result["taxonomy"],
                                "articles": len(result["articles"])})


def _with_change(t: Ticket, stored: dict | None, change: Change | None) -> Ticket:
    """The ticket as it stands after the change: an event's snapshot carries no custom fields, so the fields we
    hold stand, and a field change is applied to them."""
    if stored is None:
        return t
    fields = {**stored["fields"], **t.fields}
    if change is not None and change.kind == "field" and change.field_id not in (None, "form"):
        if change.value in (None, "", []):
            fields.pop(change.field_id, None)
        else:
            fields[change.field_id] = change.value
    return Ticket(**{**t.as_dict(), "fields": fields, "needs_fields": False})


def _later_change(conn: sqlite3.Connection, cfg: dict, d: Incoming) -> Outcome:
    """A change of a ticket after its creation (see the module's docstring)."""
    change = d.delivery.change
    stored = intake.load_ticket(conn, d.delivery.ticket.integration, d.delivery.ticket.external_id)
    ticket = _with_change(d.delivery.ticket, stored, change)
    own = registry.write_back_settings(cfg, d.delivery.ticket.integration).taxonomy_field
    own_field = change is not None and change.kind == "field" and own is not None and change.field_id == str(own)
    older = bool(stored and ticket.source_updated_at and stored["source_updated_at"]
                 and ticket.source_updated_at < stored["source_updated_at"])
    fresh = None
    if change is not None and change.kind in ("tags", "field") and not own_field and not older:
        fresh = intake.remapped(conn, cfg, ticket, stored)    # before the transaction: ranking reads committed data
    with write(conn):
        row = _remember(conn, d)
        if row is None:
            return _duplicate(d)
        if stored is None:        # signed by the helpdesk, so a real ticket: kept, with no suggestions yet
            ticket_row, updated = intake.save_ticket(conn, ticket), True
        else:
            ticket_row, updated = stored["id"], intake.update_text(conn, ticket)
        on_timeline = lifecycle.record(conn, ticket_row, change) if change else False
        if fresh is not None:
            intake.store_remap(conn, cfg, ticket, fresh)
        detail = (f"{d.delivery.event or 'change'}: timeline {'+1' if on_timeline else 'unchanged'}, "
                  f"text {'updated' if updated else 'unchanged'}, {'re-mapped' if fresh else 'node unchanged'}")
        _mark(conn, row, "processed", detail)
    body = {"status": "recorded", "event": d.delivery.event, "ticket": ticket.external_id,
            "timeline_added": on_timeline, "ticket_updated": updated, "remapped": fresh is not None}
    if fresh is not None:
        body["taxonomy"] = fresh["taxonomy"]
    return Outcome("recorded", body)


def accept(conn: sqlite3.Connection, cfg: dict, d: Incoming) -> Outcome:
    """Take one verified delivery. Never raises for a failure of its own handling: that is the `failed` outcome,
    with everything rolled back and the raw delivery kept as `error` for the redelivery."""
    if _handled(conn, d):
        return _duplicate(d)
    try:
        return _handle(conn, cfg, d)
    except Exception as exc:  # rolled back by write(): the delivery is not kept as handled
        log.exception("%s webhook %s (ticket %s) failed", d.integration, d.delivery_id,
                      d.delivery.ticket.external_id)
        if conn.in_transaction:   # a failed COMMIT leaves the transaction open
            conn.rollback()
        _keep_failed(conn, d, f"{type(exc).__name__}: {exc}")
        return Outcome("failed", {
            "error": "processing_failed",
            "message": f"the delivery could not be processed ({type(exc).__name__}: {str(exc)[:200]}); "
                       "it is not kept as handled, so a redelivery is processed"})


def integrations_overview(conn: sqlite3.Connection, cfg: dict) -> list[dict]:
    """For the admin's integrations page: every helpdesk that can send webhooks, whether its webhook and its
    write-back are configured, its last delivery (when, status, detail), the last delivery that failed and why, and
    the latest write-back error still on an outbox job (read only; the outbox is store/outbox.py's)."""
    last = {r[0]: {"received_at": r[1], "status": r[2], "detail": r[3], "invocation_id": r[4]} for r in conn.execute(
        "SELECT integration, received_at, status, detail, invocation_id FROM webhook_deliveries w "
        "WHERE id = (SELECT MAX(id) FROM webhook_deliveries WHERE integration = w.integration)")}
    failed = {r[0]: {"received_at": r[1], "detail": r[2]} for r in conn.execute(
        "SELECT integration, received_at, detail FROM webhook_deliveries w WHERE id = (SELECT MAX(id) FROM "
        "webhook_deliveries WHERE integration = w.integration AND status = 'error')")}
    counts = dict(conn.execute("SELECT integration, COUNT(*) FROM webhook_deliveries GROUP BY integration").fetchall())
    write_errors = {r[0]: {"kind": r[1], "state": r[2], "error": r[3], "ticket": r[4]} for r in conn.execute(
        "SELECT integration, kind, state, last_error, ticket_external_id FROM outbox o WHERE id = (SELECT MAX(id) "
        "FROM outbox WHERE integration = o.integration AND last_error IS NOT NULL AND state != 'done')")}
    public = cfg["server"]["public_url"].rstrip("/")
    out = []
    for source in registry.INTEGRATIONS.values():
        if source.receiver is None:
            continue
        client = source.client(cfg) if source.client else None
        settings = registry.write_back_settings(cfg, source.name)
        out.append({"name": source.name, "title": source.title, "generic": source.generic,
                    "webhook_url": public + source.webhook_path,
                    "webhook_configured": registry.webhook_configured(cfg, source.name),
                    "writes_back": source.client is not None, "write_back_configured": client is not None,
                    "write_back": settings.mode if source.client else "none",
                    "deliveries": counts.get(source.name, 0), "last_delivery": last.get(source.name),
                    "last_failed_delivery": failed.get(source.name), "write_back_error": write_errors.get(source.name)})
    return out
