"""Webhook deliveries that cannot be handled at once are never lost: text SQLite cannot store is cleaned, and a
delivery whose handling fails is not kept as handled, so Zendesk's redelivery (same invocation id) is processed.
Failures are real database failures (an SQLite trigger that aborts, a lock held by another connection)."""
from __future__ import annotations

import json

from conftest import sign, ticket_event

from store import connect
from web.db import get_db

ARTICLE = {"external_id": "refund-damaged", "title": "Refund for a parcel that arrived damaged",
           "body": "Open the order, choose Return, pick Damaged on arrival and select Refund to card.",
           "language": "en", "taxonomy": ["orders", "refunds"]}


def _counts(db) -> dict:
    return {table: db.execute(f"SELECT COUNT(*) FROM {table}").fetchone()[0]
            for table in ("tickets", "suggestion_sets", "outbox")}


def _delivery(db, invocation: str):
    return db.execute("SELECT status, detail, body FROM webhook_deliveries WHERE invocation_id = ?",
                      (invocation,)).fetchone()


def test_text_sqlite_cannot_store_is_cleaned_and_the_ticket_handled(client, admin, db):
    # JSON escapes as a sender may produce them: a lone surrogate, a NUL, a bell; signed, so it is Zendesk's.
    raw = (b'{"type": "zen:event-type:ticket.created", "detail": {"id": "77", "subject": "Refund \\ud800 please",'
           b' "description": "mug\\u0000 broken\\u0007", "tags": ["vip\\udc00"],'
           b' "custom_fields": [{"id": "360001", "value": "re\\ud800fund"}]}}')
    headers = sign(raw, invocation="inv-surrogate")
    resp = client.post("/webhooks/zendesk", data=raw, headers=headers)
    assert resp.status_code == 202, resp.get_json()
    ticket = client.get("/api/tickets/zendesk/77/suggestions", headers=admin).get_json()["ticket"]
    assert ticket["subject"] == "Refund \ufffd please"
    assert ticket["description"] == "mug broken"
    assert ticket["tags"] == ["vip\ufffd"]
    assert ticket["fields"] == {"360001": "re\ufffdfund"}
    assert _delivery(db, "inv-surrogate")[0] == "processed"
    again = client.post("/webhooks/zendesk", data=raw, headers=headers)
    assert again.status_code == 200 and again.get_json()["status"] == "duplicate"
    # Bytes that are not UTF-8 at all are the sender's mistake: a clear 400, nothing stored.
    latin1 = b'{"type": "zen:event-type:ticket.created", "detail": {"id": "78", "subject": "caf\xe9"}}'
    resp = client.post("/webhooks/zendesk", data=latin1, headers=sign(latin1))
    assert resp.status_code == 400 and "not JSON" in resp.get_json()["message"]
    assert db.execute("SELECT COUNT(*) FROM webhook_deliveries").fetchone()[0] == 1


def test_failed_delivery_is_kept_for_diagnosis_and_processed_on_redelivery(client, admin, db):
    client.post("/api/articles/import", json={"articles": [ARTICLE]}, headers=admin)
    # The database refuses suggestion sets (as a full disk or a broken constraint would), late in the handling:
    # the ticket row and the delivery are written before it in the same request.
    db.execute("CREATE TRIGGER refuse_sets BEFORE INSERT ON suggestion_sets "
               "BEGIN SELECT RAISE(ABORT, 'disk full while storing suggestions'); END")
    raw = ticket_event("601", "Parcel arrived damaged", "The mug is broken, I want a refund")
    resp = client.post("/webhooks/zendesk", data=raw, headers=sign(raw, invocation="inv-601"))
    assert resp.status_code == 503, resp.get_json()
    assert resp.headers["Retry-After"] == "10"
    assert "disk full while storing suggestions" in resp.get_json()["message"]
    # Nothing half-done is kept: no ticket, no set, no jobs; the raw delivery is kept as an error.
    assert _counts(db) == {"tickets": 0, "suggestion_sets": 0, "outbox": 0}
    status, detail, body = _delivery(db, "inv-601")
    assert status == "error" and "disk full while storing suggestions" in detail
    assert json.loads(body) == json.loads(raw)

    # Still failing: Zendesk's retry fails the same way, and the delivery stays an error (not "duplicate").
    retry = client.post("/webhooks/zendesk", data=raw, headers=sign(raw, invocation="inv-601"))
    assert retry.status_code == 503
    assert _delivery(db, "inv-601")[0] == "error"

    db.execute("DROP TRIGGER refuse_sets")
    redelivery = client.post("/webhooks/zendesk", data=raw, headers=sign(raw, invocation="inv-601"))
    assert redelivery.status_code == 202, redelivery.get_json()
    sug = client.get("/api/tickets/zendesk/601/suggestions", headers=admin).get_json()
    assert sug["articles"][0]["external_id"] == "refund-damaged"
    assert _counts(db)["suggestion_sets"] == 1
    assert db.execute("SELECT COUNT(*) FROM outbox WHERE kind = 'note'").fetchone()[0] == 1
    status, detail, _ = _delivery(db, "inv-601")
    assert status == "processed" and "earlier attempt failed" in detail and "disk full" in detail
    late = client.post("/webhooks/zendesk", data=raw, headers=sign(raw, invocation="inv-601"))
    assert late.status_code == 200 and late.get_json()["status"] == "duplicate"


def test_locked_database_answers_503_and_keeps_nothing(app, client, config):
    with app.app_context():
        # The request thread's own connection (web/db.py keeps it per thread) waits 0.2 s for a lock, not 10 s.
        get_db().execute("PRAGMA busy_timeout = 200")
    holder = connect(config["database"]).conn
    holder.execute("BEGIN EXCLUSIVE")          # another process writing for a long time
    raw = ticket_event("602", "Cannot log in", "Password reset mail never arrives")
    try:
        resp = client.post("/webhooks/zendesk", data=raw, headers=sign(raw, invocation="inv-602"))
        assert resp.status_code == 503 and resp.headers["Retry-After"] == "10"
        assert "database is locked" in resp.get_json()["message"]
    finally:
        holder.execute("ROLLBACK")
    # Not even the error could be written: nothing stands in the way of the redelivery.
    assert holder.execute("SELECT COUNT(*) FROM webhook_deliveries").fetchone()[0] == 0
    redelivery = client.post("/webhooks/zendesk", data=raw, headers=sign(raw, invocation="inv-602"))
    assert redelivery.status_code == 202, redelivery.get_json()
    assert holder.execute("SELECT status FROM webhook_deliveries").fetchall() == [("processed",)]
    assert holder.execute("SELECT COUNT(*) FROM suggestion_sets").fetchone()[0] == 1
    holder.close()
