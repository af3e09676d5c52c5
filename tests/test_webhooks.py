"""Webhook intake: Zendesk's signature, replay window, redelivery, bad bodies, both payload shapes."""
from __future__ import annotations

import json
from datetime import UTC, datetime

import pytest
from conftest import TEST_SECRET, sign, ticket_event

from integrations.zendesk import webhook
from kb import mapping
from store import write

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
