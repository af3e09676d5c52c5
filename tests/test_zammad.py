"""Zammad end to end: its signed trigger webhook in (redelivery included), suggestions through the API and the
widget, reuses recorded both ways, and the write-back requests the fake Zammad API on 127.0.0.1 received."""
from __future__ import annotations

import json
import re

import pytest
from fake_zammad import API_TOKEN, WEBHOOK_SECRET, FakeZammad, zammad_config

from integrations.base import PermanentError, TransientError
from integrations.zammad import client as zammad
from integrations.zammad import webhook
from jobs.worker import drain

ARTICLES = [
    {"external_id": "printer-jam", "title": "Printer jams on every page", "language": "en",
     "body": "Open the rear tray, remove the crumpled paper and reseat the printer drum.",
     "taxonomy": ["Hardware", "Printers"]},
    {"external_id": "printer-offline", "title": "Printer shows offline after a driver update", "language": "en",
     "body": "Reinstall the printer driver and set the printer port back to the network address.",
     "taxonomy": ["Hardware", "Printers"]},
    {"external_id": "vpn-drops", "title": "VPN drops every few minutes", "language": "en",
     "body": "Switch the VPN client to TCP and disable power saving on the wireless adapter.",
     "taxonomy": ["Network", "VPN"]},
]
TITLE = "Printer jams and shows offline"
BODY = "<div>Our office printer jams on every page</div><div>and since the driver update it shows offline.</div>"


@pytest.fixture
def fake_zammad():
    fake = FakeZammad().start()
    yield fake
    fake.stop()


@pytest.fixture
def config(config, fake_zammad):
    config["zammad"] = zammad_config(fake_zammad)
    return config


def _article_id(db, external_id: str) -> int:
    return db.execute("SELECT id FROM articles WHERE external_id = ?", (external_id,)).fetchone()[0]


def _widget_session(client, admin, ticket: str) -> dict:
    page = client.get(f"/widget?integration=zammad&ticket={ticket}", headers=admin)
    assert page.status_code == 200
    html = page.get_data(as_text=True)
    assert "Printer jams on every page" in html
    boot = json.loads(re.search(r'id="ks-boot">(.*?)</script>', html, re.S).group(1))
    return {"Authorization": f"Bearer {boot['session']}"}


def test_signed_trigger_webhook_suggestions_reuse_and_write_back(client, admin, db, app, fake_zammad):
    assert client.post("/api/articles/import", json={"articles": ARTICLES}, headers=admin).status_code == 200
    fake_zammad.add_ticket(81, TITLE, BODY, tags=["vip"])
    raw, headers = fake_zammad.webhook(81, delivery="9e1b7c2a-delivery")

    first = client.post("/webhooks/zammad", data=raw, headers=headers)
    assert first.status_code == 202, first.get_json()
    again = client.post("/webhooks/zammad", data=raw, headers=headers)               # Zammad's retry
    assert again.status_code == 200 and again.get_json()["status"] == "duplicate"
    assert db.execute("SELECT integration, invocation_id, status FROM webhook_deliveries").fetchall() == [
        ("zammad", "9e1b7c2a-delivery", "processed")]

    sug = client.get("/api/tickets/zammad/81/suggestions", headers=admin).get_json()
    assert sug["ticket"]["subject"] == TITLE and sug["ticket"]["tags"] == ["vip"]
    assert sug["ticket"]["description"] == ("Our office printer jams on every page\n"
                                            "and since the driver update it shows offline.")
    assert sug["ticket"]["status"] == "new" and sug["taxonomy"]["path"] == ["Hardware", "Printers"]
    assert {a["external_id"] for a in sug["articles"][:2]} == {"printer-jam", "printer-offline"}

    jam, offline = _article_id(db, "printer-jam"), _article_id(db, "printer-offline")
    assert client.post("/api/tickets/zammad/81/events", headers=admin,
                       json={"kind": "reused", "article_id": jam, "agent_name": "Chris Miller"}).status_code == 201
    session = _widget_session(client, admin, "81")
    resp = client.post("/api/tickets/zammad/81/events", headers=session,
                       json={"kind": "reused", "article_id": offline, "agent_name": "typed in the browser"})
    assert resp.status_code == 201, resp.get_json()

    cfg = app.config["KS"]
    assert drain(db, cfg, zammad.from_config(cfg), integration="zammad") == {
        "done": 6, "retry": 0, "failed": 0, "held": 0}
    writes = fake_zammad.writes()
    assert [(m, p) for m, p, _ in writes] == [
        ("POST", "/api/v1/ticket_articles"), ("POST", "/api/v1/tags/add"),
        ("POST", "/api/v1/ticket_articles"), ("POST", "/api/v1/tags/add"), ("POST", "/api/v1/tags/add"),
        ("POST", "/api/v1/ticket_articles"), ("POST", "/api/v1/tags/add"), ("POST", "/api/v1/tags/add")]
    note = writes[0][2]
    assert {k: note[k] for k in ("ticket_id", "content_type", "type", "internal", "sender")} == {
        "ticket_id": 81, "content_type": "text/plain", "type": "note", "internal": True, "sender": "Agent"}
    assert "Printer jams on every page" in note["body"] and "Hardware > Printers" in note["body"]
    assert writes[1][2] == {"item": "ks_suggested", "object": "Ticket", "o_id": 81}
    assert writes[2][2]["body"].startswith('Knowledge Sidecar: Chris Miller linked the article "Printer jams on ev')
    # a widget session opened with an API token has no helpdesk-vouched name: the browser's is not taken
    assert writes[5][2]["body"].startswith('Knowledge Sidecar: An agent linked the article "Printer shows offline')
    assert [w[2]["item"] for w in writes if w[1] == "/api/v1/tags/add"] == [
        "ks_suggested", "ks_reused", "ks_suggested", "ks_reused", "ks_suggested"]
    assert all(c["headers"]["Authorization"] == f"Token token={API_TOKEN}" for c in fake_zammad.calls())
    # Zammad's side: three internal notes after the customer's article, the loop guard beside the ticket's own tag
    assert [(a["internal"], a["type"]) for a in fake_zammad.articles[81]] == [(False, "web")] + [(True, "note")] * 3
    assert fake_zammad.tags[81] == ["vip", "ks_suggested", "ks_reused"]

    # Our own note echoes through an update trigger: a later change, no new suggestions, no second note.
    raw, headers = fake_zammad.webhook(81)
    echo = client.post("/webhooks/zammad", data=raw, headers=headers)
    assert echo.status_code == 200 and echo.get_json()["status"] == "recorded"
    assert db.execute("SELECT COUNT(*) FROM suggestion_sets").fetchone()[0] == 1
    assert db.execute("SELECT COUNT(*) FROM outbox WHERE state = 'pending'").fetchone()[0] == 0
    assert client.get("/api/tickets/zammad/81/suggestions", headers=admin).get_json()["ticket"]["description"]


def test_customer_reply_is_a_public_reply_on_the_timeline(client, admin, fake_zammad):
    fake_zammad.add_ticket(83, TITLE, BODY)
    raw, headers = fake_zammad.webhook(83)
    assert client.post("/webhooks/zammad", data=raw, headers=headers).status_code == 202
    fake_zammad.add_reply(83, "<p>We are on it: please restart the printer.</p>")
    raw, headers = fake_zammad.webhook(83)
    resp = client.post("/webhooks/zammad", data=raw, headers=headers)
    assert resp.status_code == 200 and resp.get_json()["timeline_added"] is True
    timeline = client.get("/api/tickets/zammad/83/suggestions", headers=admin).get_json()["ticket"]["timeline"]
    assert [(e["kind"], e["actor"]) for e in timeline] == [("created", None), ("public_reply", "3")]


@pytest.mark.parametrize("change", ["wrong secret", "tampered body", "no header"])
def test_bad_signature_is_401_and_stores_nothing(client, admin, db, fake_zammad, change):
    fake_zammad.add_ticket(82, TITLE, BODY)
    raw, headers = fake_zammad.webhook(82, secret="not-the-token" if change == "wrong secret" else WEBHOOK_SECRET)
    if change == "tampered body":
        raw = raw.replace(b"Printer jams", b"Printer jamz")
    if change == "no header":
        del headers["X-Hub-Signature"]
    resp = client.post("/webhooks/zammad", data=raw, headers=headers)
    assert resp.status_code == 401
    assert db.execute("SELECT COUNT(*) FROM webhook_deliveries").fetchone()[0] == 0
    assert db.execute("SELECT COUNT(*) FROM tickets").fetchone()[0] == 0
    assert client.get("/api/tickets/zammad/82/suggestions", headers=admin).status_code == 404


def test_unconfigured_token_refuses_and_bad_bodies_are_400(config, fake_zammad):
    from app import create_app

    fake_zammad.add_ticket(84, TITLE, BODY)
    raw, headers = fake_zammad.webhook(84)
    config["zammad"]["webhook_secret"] = ""
    resp = create_app(config).test_client().post("/webhooks/zammad", data=raw, headers=headers)
    assert resp.status_code == 401 and "KS_ZAMMAD_WEBHOOK_SECRET" in resp.get_json()["message"]
    config["zammad"]["webhook_secret"] = WEBHOOK_SECRET
    client = create_app(config).test_client()
    for body, message in ((b'{"ticket": {"id": "abc"}}', "number"), (b'{"article": {}}', "expected a Zammad")):
        resp = client.post("/webhooks/zammad", data=body, headers=FakeZammad.sign(body))
        assert resp.status_code == 400 and message in resp.get_json()["message"]


def test_signature_vector_and_payload_reading():
    # RFC 2104 HMAC-SHA1 with the well-known key/message pair, in Zammad's "sha1=<hex>" form
    assert webhook.expected_signature("key", b"The quick brown fox jumps over the lazy dog") == \
        "sha1=de7c9b85b8b78aa6bc8a7a36f70a90701c9db4d9"
    fake = FakeZammad()
    fake.add_ticket(7, "Kein Netz", "<p>VPN bricht ab</p>", tags=["de"], issue_type="network", vip=True)
    delivery = webhook.read(json.loads(fake.webhook(7)[0]))
    fake.server.server_close()
    assert delivery.creation and delivery.ticket.external_id == "7" and delivery.ticket.description == "VPN bricht ab"
    assert delivery.ticket.fields == {"issue_type": "network"}        # custom attributes; Zammad's own left out
    assert delivery.ticket.assignee_id is None and delivery.ticket.group_id == "3"


def test_client_typed_errors_and_fetch(fake_zammad):
    client = zammad.ZammadClient(fake_zammad.url, API_TOKEN)
    fake_zammad.add_ticket(90, TITLE, BODY, tags=["vip"], issue_type="printer")
    fetched = client.fetch_ticket("90")
    assert (fetched["subject"], fetched["tags"], fetched["fields"]) == (TITLE, ["vip"], {"issue_type": "printer"})
    assert fetched["description"].startswith("Our office printer jams")
    with pytest.raises(PermanentError, match="404"):
        client.add_internal_note("999", "hello")
    fake_zammad.fail_next(503, retry_after=30)
    with pytest.raises(TransientError) as hit:
        client.add_tags("90", ["x"])
    assert hit.value.retry_after == 30.0
    with pytest.raises(TransientError, match="KS_ZAMMAD_API_TOKEN"):
        zammad.ZammadClient(fake_zammad.url, "wrong").add_tags("90", ["x"])
    client.set_custom_field("90", "issue_type", "Hardware/Printers")
    assert fake_zammad.tickets[90]["issue_type"] == "Hardware/Printers"
