"""Webhook intake: Zendesk's signature, replay window, redelivery, bad bodies, both payload shapes."""
from __future__ import annotations

import json
from datetime import UTC, datetime

import pytest
from conftest import TEST_SECRET, sign, ticket_event

from integrations.zendesk import webhook
from kb import mapping
from store import connect, write

ARTICLE = {"external_id": "refund-damaged", "title": "Refund for a parcel that arrived damaged",
           "body": "Open the order, choose Return, pick Damaged on arrival and select Refund to card.",
           "language": "en", "taxonomy": ["orders", "refunds"]}


def test_zendesk_documented_signature_vector():
    got = webhook.expected_signature(TEST_SECRET, "2021-03-25T05:09:27Z", b'{"ticket_id":"1"}')
    assert got == "UAeDeshQcnvuHreb8fTIl5TJQ/dBMDhA8RKLCmIhLb4="
    headers = {"X-Zendesk-Webhook-Signature": got, "X-Zendesk-Webhook-Signature-Timestamp": "2021-03-25T05:09:27Z"}
    webhook.verify(headers, b'{"ticket_id":"1"}', TEST_SECRET, 300,
                   now=datetime(2021, 3, 25, 5, 10, tzinfo=UTC))
    with pytest.raises(webhook.SignatureError, match="replay"):
        webhook.verify(headers, b'{"ticket_id":"1"}', TEST_SECRET, 300,
                       now=datetime(2021, 3, 25, 5, 20, tzinfo=UTC))


def test_signed_event_webhook_creates_suggestions(client, admin):
    client.post("/api/articles/import", json={"articles": [ARTICLE]}, headers=admin)
    raw = ticket_event("501", "Parcel arrived damaged", "The mug is broken, I want a refund")
    resp = client.post("/webhooks/zendesk", data=raw, headers=sign(raw))
    assert resp.status_code == 202, resp.get_json()
    assert resp.get_json()["status"] == "accepted"
    sug = client.get("/api/tickets/zendesk/501/suggestions", headers=admin).get_json()
    assert sug["articles"][0]["external_id"] == "refund-damaged"
    assert sug["ticket"]["subject"] == "Parcel arrived damaged"
    assert sug["taxonomy"]["path"] == ["orders", "refunds"]


def test_bad_and_missing_signature_are_401(client, db):
    raw = ticket_event("502", "Hello", "World")
    bad = sign(raw)
    bad["X-Zendesk-Webhook-Signature"] = "AAAA" + bad["X-Zendesk-Webhook-Signature"][4:]
    assert client.post("/webhooks/zendesk", data=raw, headers=bad).status_code == 401
    resp = client.post("/webhooks/zendesk", data=raw, headers={"Content-Type": "application/json"})
    assert resp.status_code == 401 and "missing" in resp.get_json()["message"]
    wrong_secret = sign(raw, secret="another-secret")
    assert client.post("/webhooks/zendesk", data=raw, headers=wrong_secret).status_code == 401
    assert db.execute("SELECT COUNT(*) FROM webhook_deliveries").fetchone()[0] == 0


def test_old_timestamp_is_refused_as_replay(client):
    raw = ticket_event("503", "Hello", "World")
    resp = client.post("/webhooks/zendesk", data=raw, headers=sign(raw, ts="2021-03-25T05:09:27Z"))
    assert resp.status_code == 401
    assert "replay" in resp.get_json()["message"]


def test_redelivery_is_deduplicated(client, db):
    raw = ticket_event("504", "Cannot log in", "Password reset mail never arrives")
    headers = sign(raw, invocation="inv-1")
    assert client.post("/webhooks/zendesk", data=raw, headers=headers).status_code == 202
    again = client.post("/webhooks/zendesk", data=raw, headers=headers)
    assert again.status_code == 200 and again.get_json()["status"] == "duplicate"
    assert db.execute("SELECT COUNT(*) FROM webhook_deliveries").fetchone()[0] == 1
    assert db.execute("SELECT COUNT(*) FROM suggestion_sets").fetchone()[0] == 1


@pytest.mark.parametrize("raw, message", [
    (b"{not json", "not JSON"),
    (b"[1, 2]", "JSON object"),
    (json.dumps({"type": "zen:event-type:ticket.created", "detail": {"id": "abc"}}).encode(), "number"),
    (json.dumps({"hello": "world"}).encode(), "expected"),
])
def test_malformed_bodies_are_400(client, raw, message):
    resp = client.post("/webhooks/zendesk", data=raw, headers=sign(raw))
    assert resp.status_code == 400
    assert message in resp.get_json()["message"]


def test_oversized_body_is_413(config):
    from app import create_app

    config["server"]["max_body_bytes"] = 2048
    client = create_app(config).test_client()
    raw = ticket_event("505", "Big", "x" * 5000)
    resp = client.post("/webhooks/zendesk", data=raw, headers=sign(raw))
    assert resp.status_code == 413
    assert resp.get_json()["error"]


def test_trigger_webhook_body_with_rendered_placeholders(client, admin, db):
    client.post("/api/articles/import", json={"articles": [ARTICLE]}, headers=admin)
    with write(db):
        mapping.add_rule(db, "field", "refund", ["orders", "refunds"], field_id="360001")
    raw = json.dumps({"ticket": {"id": "777", "subject": "Damaged parcel", "description": "Broken mug, refund?",
                                 "tags": "vip web_form", "locale": "English", "form_id": "", "brand_id": "30",
                                 "custom_fields": {"360001": "refund"}}}).encode()
    resp = client.post("/webhooks/zendesk", data=raw, headers=sign(raw))
    assert resp.status_code == 202
    sug = client.get("/api/tickets/zendesk/777/suggestions", headers=admin).get_json()
    assert sug["ticket"]["tags"] == ["vip", "web_form"]
    assert sug["language"] == "en"
    assert sug["taxonomy"]["source"] == "rule"
    # Custom fields came with the delivery: no fetch job is queued.
    assert db.execute("SELECT COUNT(*) FROM outbox WHERE kind = 'fetch_fields'").fetchone()[0] == 0


def test_event_webhook_without_fields_queues_a_fetch_and_write_back(client, db):
    raw = ticket_event("506", "Invoice is wrong", "The VAT number on my invoice is missing")
    assert client.post("/webhooks/zendesk", data=raw, headers=sign(raw)).status_code == 202
    kinds = [r[0] for r in db.execute("SELECT kind FROM outbox ORDER BY id")]
    assert "fetch_fields" in kinds and "tags" in kinds


def test_loop_guard_ignores_our_own_update(client, db):
    raw = ticket_event("507", "Sync fails", "The app does not sync")
    assert client.post("/webhooks/zendesk", data=raw, headers=sign(raw)).status_code == 202
    echo = ticket_event("507", "Sync fails", "The app does not sync", tags=["ks_suggested"])
    resp = client.post("/webhooks/zendesk", data=echo, headers=sign(echo))
    assert resp.status_code == 200 and resp.get_json()["status"] == "ignored"
    assert db.execute("SELECT COUNT(*) FROM suggestion_sets").fetchone()[0] == 1


def test_unconfigured_secret_refuses_everything(config):
    from app import create_app

    config["zendesk"]["webhook_secret"] = ""
    client = create_app(config).test_client()
    raw = ticket_event("508", "x", "y")
    resp = client.post("/webhooks/zendesk", data=raw, headers=sign(raw))
    assert resp.status_code == 401
    assert "KS_ZENDESK_WEBHOOK_SECRET" in resp.get_json()["message"]


def _event(kind: str, ticket_id: str, subject: str, description: str, tags=(), **detail) -> bytes:
    """A Zendesk ticket event of another type than created: same envelope, `detail` is the ticket as it is now."""
    body = json.loads(ticket_event(ticket_id, subject, description, tags=tags))
    body["type"] = f"zen:event-type:ticket.{kind}"
    body["detail"].update(detail)
    return json.dumps(body).encode()


def _notes(db) -> int:
    return db.execute("SELECT COUNT(*) FROM outbox WHERE kind = 'note'").fetchone()[0]


@pytest.mark.parametrize("kind", ["status_changed", "priority_changed", "agent_assignment_changed",
                                  "comment_added", "tags_changed", "custom_field_changed"])
def test_later_ticket_events_make_no_new_suggestions_or_note(client, admin, db, kind):
    client.post("/api/articles/import", json={"articles": [ARTICLE]}, headers=admin)
    created = ticket_event("520", "Parcel arrived damaged", "The mug is broken, I want a refund")
    assert client.post("/webhooks/zendesk", data=created, headers=sign(created)).status_code == 202
    later = _event(kind, "520", "Parcel arrived damaged", "The mug is broken, I want a refund",
                   status="OPEN", priority="HIGH", assignee_id="2002")
    resp = client.post("/webhooks/zendesk", data=later, headers=sign(later))
    assert resp.status_code == 200, resp.get_json()
    assert resp.get_json()["status"] == "recorded" and kind in resp.get_json()["event"]
    assert resp.get_json()["ticket_updated"] is False          # same text: nothing to store
    assert resp.get_json()["remapped"] is False
    assert db.execute("SELECT COUNT(*) FROM suggestion_sets").fetchone()[0] == 1
    assert _notes(db) == 1
    assert db.execute("SELECT status FROM webhook_deliveries ORDER BY id").fetchall() == [("processed",),
                                                                                         ("processed",)]


def test_later_event_updates_the_stored_ticket_text_only(client, admin, db):
    client.post("/api/articles/import", json={"articles": [ARTICLE]}, headers=admin)
    created = ticket_event("521", "Parcel arrived damaged", "The mug is broken")
    assert client.post("/webhooks/zendesk", data=created, headers=sign(created)).status_code == 202
    changed = _event("subject_changed", "521", "Damaged parcel: refund to card", "The mug is broken",
                     tags=["vip"])
    resp = client.post("/webhooks/zendesk", data=changed, headers=sign(changed))
    assert resp.status_code == 200
    assert {k: resp.get_json()[k] for k in ("status", "ticket_updated", "remapped")} == {
        "status": "recorded", "ticket_updated": True, "remapped": False}
    sug = client.get("/api/tickets/zendesk/521/suggestions", headers=admin).get_json()
    assert sug["ticket"]["subject"] == "Damaged parcel: refund to card" and sug["ticket"]["tags"] == ["vip"]
    assert db.execute("SELECT COUNT(*) FROM suggestion_sets").fetchone()[0] == 1
    assert _notes(db) == 1
    # A signed change of a ticket we never saw created (made before the sidecar was installed) keeps the ticket and
    # its timeline, and makes no suggestion set and no note for it.
    unknown = _event("status_changed", "522", "Printer offline", "It shows offline")
    resp = client.post("/webhooks/zendesk", data=unknown, headers=sign(unknown))
    assert resp.status_code == 200 and resp.get_json()["ticket_updated"] is True
    assert db.execute("SELECT COUNT(*) FROM tickets WHERE external_id = '522'").fetchone()[0] == 1
    assert db.execute("SELECT COUNT(*) FROM suggestion_sets").fetchone()[0] == 1
    assert _notes(db) == 1


def test_our_write_back_brings_no_second_note(config, fake_zendesk):
    """The whole loop: the created event, our note and tags written to Zendesk by the worker, then what Zendesk
    sends back about that update (comment and tag events, and a trigger fired on update), and a second creation
    delivery (event webhook and trigger both set up). One note on the ticket, ever."""
    from fake_zendesk import zendesk_config

    from app import create_app
    from integrations.zendesk import client as zendesk
    from jobs.worker import drain

    config["zendesk"].update(zendesk_config(fake_zendesk))
    app = create_app(config)
    client, cfg = app.test_client(), app.config["KS"]
    admin = {"Authorization": "Bearer test-admin-token"}
    client.post("/api/articles/import", json={"articles": [ARTICLE]}, headers=admin)
    fake_zendesk.add_user(1001)
    fake_zendesk.add_ticket(530, "Parcel arrived damaged", "The mug is broken, I want a refund")
    created = ticket_event("530", "Parcel arrived damaged", "The mug is broken, I want a refund")
    assert client.post("/webhooks/zendesk", data=created, headers=sign(created)).status_code == 202
    trigger = json.dumps({"ticket": {"id": "530", "subject": "Parcel arrived damaged",
                                     "description": "The mug is broken, I want a refund", "tags": "",
                                     "locale": "English", "custom_fields": {}}}).encode()
    # The trigger's delivery of the same creation, before our note reached the ticket: already handled.
    again = client.post("/webhooks/zendesk", data=trigger, headers=sign(trigger))
    assert again.status_code == 200 and again.get_json()["reason"] == "ticket already handled: it has suggestions"

    conn = connect(config["database"]).conn
    try:
        drain(conn, cfg, zendesk.from_config(cfg))
        ticket = fake_zendesk.tickets[530]
        assert "ks_suggested" in ticket["tags"]
        tags = " ".join(ticket["tags"])
        echoes = [_event("comment_added", "530", ticket["subject"], ticket["description"], tags=ticket["tags"]),
                  _event("tags_changed", "530", ticket["subject"], ticket["description"], tags=ticket["tags"]),
                  json.dumps({"ticket": {"id": "530", "subject": ticket["subject"], "tags": tags,
                                         "description": ticket["description"]}}).encode()]
        for echo in echoes:
            resp = client.post("/webhooks/zendesk", data=echo, headers=sign(echo))
            assert resp.status_code == 200, resp.get_json()
            assert resp.get_json()["status"] in ("ignored", "recorded") and not resp.get_json().get("remapped")
        drain(conn, cfg, zendesk.from_config(cfg))
        notes = [c for c in fake_zendesk.comments[530] if not c["public"]]
        assert len(notes) == 1 and "Refund for a parcel" in notes[0]["body"]
        assert _notes(conn) == 1
    finally:
        conn.close()


def test_a_late_creation_delivery_does_not_bring_back_older_text(client, admin, db):
    created = ticket_event("540", "Printer shows error E1", "It stopped this morning")
    assert client.post("/webhooks/zendesk", data=created, headers=sign(created)).status_code == 202
    changed = json.loads(ticket_event("540", "Scanner jams on page 2", "It stopped this morning"))
    changed["type"] = "zen:event-type:ticket.subject_changed"
    body = json.dumps(changed).encode()
    assert client.post("/webhooks/zendesk", data=body, headers=sign(body)).get_json()["ticket_updated"] is True
    late = client.post("/webhooks/zendesk", data=created, headers=sign(created, invocation="another-invocation"))
    assert late.status_code == 200 and late.get_json()["status"] == "ignored"
    assert db.execute("SELECT subject FROM tickets WHERE external_id = '540'").fetchone()[0] == "Scanner jams on page 2"
    assert db.execute("SELECT count(*) FROM suggestion_sets").fetchone()[0] == 1


def test_a_change_delivered_late_does_not_replace_newer_text(client, db):
    def event(kind: str, subject: str, updated_at: str) -> bytes:
        body = json.loads(ticket_event("550", subject, "It stopped this morning"))
        body["type"], body["detail"]["updated_at"] = f"zen:event-type:ticket.{kind}", updated_at
        return json.dumps(body).encode()

    for body in (event("created", "Printer shows error E1", "2026-05-01T10:00:00Z"),
                 event("subject_changed", "Scanner jams on page 2", "2026-05-01T10:05:00Z")):
        assert client.post("/webhooks/zendesk", data=body, headers=sign(body)).status_code in (200, 202)
    late = event("status_changed", "Printer shows error E1", "2026-05-01T12:01:00+02:00")     # 10:01 UTC
    resp = client.post("/webhooks/zendesk", data=late, headers=sign(late))
    assert resp.status_code == 200 and resp.get_json()["ticket_updated"] is False
    row = db.execute("SELECT subject, source_updated_at FROM tickets WHERE external_id = '550'").fetchone()
    assert row == ("Scanner jams on page 2", "2026-05-01T10:05:00Z")
    newer = event("status_changed", "Scanner fixed", "2026-05-01T10:07:00Z")
    assert client.post("/webhooks/zendesk", data=newer, headers=sign(newer)).get_json()["ticket_updated"] is True
