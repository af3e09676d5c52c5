"""Events only on real tickets, and the account's live ticket fields, against the fake Zendesk on loopback."""
from __future__ import annotations

import json
import re

import pytest
from conftest import APP_INSTALLATION
from fake_zendesk import zendesk_config

from app import create_app

ARTICLE = {"external_id": "printer-offline", "title": "Office printer shows offline after Windows update",
           "resolution": "Restart the Print Spooler service.", "language": "en", "taxonomy": ["Hardware", "Printers"]}


@pytest.fixture
def config(tmp_path, app_key):
    return {"database": str(tmp_path / "sidecar.db"), "admin_token": "test-admin-token",
            "zendesk": {"subdomain": "acme", "app_public_key": app_key.public_pem,
                        "app_installation_id": APP_INSTALLATION, "webhook_secret": "whsec", "write_back": "off"},
            "server": {"session_secret": "test-session-secret-0123456789abcdef"}}


@pytest.fixture
def zendesk_app(config, fake_zendesk):
    config["zendesk"].update(zendesk_config(fake_zendesk))
    fake_zendesk.add_user(1001, name="Maria Lopez")
    fake_zendesk.add_user(4242, name="Sam Agent")
    fake_zendesk.add_ticket(901, "Printer offline", "The office printer shows offline.")
    app = create_app(config)
    client = app.test_client()
    assert client.post("/api/articles/import", json={"articles": [ARTICLE]},
                       headers={"Authorization": "Bearer test-admin-token"}).status_code == 200
    return app


def zendesk_session(client, app_key) -> dict:
    page = client.post("/widget", data={"token": app_key.token("acme", user_id="4242")}).get_data(as_text=True)
    boot = json.loads(re.search(r'id="ks-boot">(.*?)</script>', page, re.S).group(1))
    return {"Authorization": f"Bearer {boot['session']}"}


def article_id(db) -> int:
    return db.execute("SELECT id FROM articles").fetchone()[0]


def tickets(db) -> list:
    return db.execute("SELECT external_id, subject FROM tickets ORDER BY id").fetchall()


def test_an_api_token_cannot_record_on_a_ticket_the_sidecar_never_received(client, admin, db):
    client.post("/api/articles/import", json={"articles": [ARTICLE]}, headers=admin)
    resp = client.post("/api/tickets/zendesk/424242424/events", headers=admin,
                       json={"kind": "reused", "article_id": article_id(db)})
    assert resp.status_code == 404 and "has not received zendesk ticket 424242424" in resp.json["message"]
    assert tickets(db) == [] and db.execute("SELECT COUNT(*) FROM events").fetchone()[0] == 0
    assert client.post("/api/tickets/demo/1/events", headers=admin,
                       json={"kind": "searched", "query": "vpn"}).status_code == 404


def test_a_zendesk_signed_session_records_after_zendesk_confirms_the_ticket(zendesk_app, fake_zendesk, app_key, db):
    client = zendesk_app.test_client()
    session = zendesk_session(client, app_key)
    resp = client.post("/api/tickets/zendesk/901/events", headers=session,
                       json={"kind": "reused", "article_id": article_id(db)})
    assert resp.status_code == 201, resp.json
    assert tickets(db) == [("901", "Printer offline")]                 # Zendesk's text, read through its API
    assert db.execute("SELECT agent, json_extract(data, '$.agent_name') FROM events").fetchall() == [
        ("zendesk:acme:user:4242", "Sam Agent")]
    again = client.post("/api/tickets/zendesk/901/events", headers=session, json={"kind": "searched", "query": "x"})
    assert again.status_code == 201
    assert len(fake_zendesk.calls("GET", "/api/v2/tickets/901.json")) == 1          # known from then on


def test_an_invented_ticket_id_is_refused_even_in_a_zendesk_session(zendesk_app, app_key, db):
    client = zendesk_app.test_client()
    session = zendesk_session(client, app_key)
    resp = client.post("/api/tickets/zendesk/999999/events", headers=session,
                       json={"kind": "reused", "article_id": article_id(db)})
    assert resp.status_code == 404 and "zendesk has no ticket 999999" in resp.json["message"]
    assert tickets(db) == [] and db.execute("SELECT COUNT(*) FROM events").fetchone()[0] == 0


def test_zendesk_down_answers_503_and_stores_nothing(zendesk_app, fake_zendesk, app_key, db):
    client = zendesk_app.test_client()
    session = zendesk_session(client, app_key)
    fake_zendesk.fail_next(503)
    resp = client.post("/api/tickets/zendesk/901/events", headers=session,
                       json={"kind": "reused", "article_id": article_id(db)})
    assert resp.status_code == 503 and "try again" in resp.json["message"]
    assert tickets(db) == []


def test_without_api_credentials_a_zendesk_session_cannot_vouch_for_unknown_tickets(client, admin, app_key, db):
    client.post("/api/articles/import", json={"articles": [ARTICLE]}, headers=admin)
    session = zendesk_session(client, app_key)
    resp = client.post("/api/tickets/zendesk/901/events", headers=session,
                       json={"kind": "reused", "article_id": article_id(db)})
    assert resp.status_code == 404 and "API is not configured" in resp.json["message"]
    # The sidebar still opens on such a ticket; the opening is shown, not recorded.
    assert client.get("/widget/panel?integration=zendesk&ticket=901", headers=session).status_code == 200
    assert db.execute("SELECT COUNT(*) FROM events").fetchone()[0] == 0


FIELDS = [{"id": 360001, "type": "tagger", "title": "Topic", "active": True,
           "custom_field_options": [{"id": 1, "name": "Billing", "value": "billing", "default": False},
                                    {"id": 2, "name": "Shipping", "value": "shipping", "default": False}]},
          {"id": 360002, "type": "multiselect", "title": "Products", "active": True,
           "custom_field_options": [{"id": 3, "name": "Mug", "value": "mug"}]},
          {"id": 20, "type": "priority", "title": "Priority", "active": True,
           "system_field_options": [{"name": "Low", "value": "low"}, {"name": "High", "value": "high"}]}]


def test_live_ticket_fields_are_listed_cached_and_refreshed(zendesk_app, fake_zendesk, db):
    fake_zendesk.ticket_fields = FIELDS
    client, admin = zendesk_app.test_client(), {"Authorization": "Bearer test-admin-token"}
    first = client.get("/api/zendesk/ticket-fields", headers=admin)
    assert first.status_code == 200 and first.json["stale"] is False
    topic = first.json["fields"][0]
    assert topic == {"id": "360001", "type": "tagger", "title": "Topic", "active": True, "tag": None,
                     "options": [{"name": "Billing", "value": "billing"}, {"name": "Shipping", "value": "shipping"}]}
    assert first.json["fields"][2]["options"] == [{"name": "Low", "value": "low"}, {"name": "High", "value": "high"}]
    fake_zendesk.ticket_fields = FIELDS[:1]
    assert len(client.get("/api/zendesk/ticket-fields", headers=admin).json["fields"]) == 3     # from the cache
    assert len(fake_zendesk.calls("GET", "/api/v2/ticket_fields.json")) == 1
    refreshed = client.get("/api/zendesk/ticket-fields?refresh=1", headers=admin)
    assert len(refreshed.json["fields"]) == 1
    fake_zendesk.fail_next(503)
    stale = client.get("/api/zendesk/ticket-fields?refresh=1", headers=admin)
    assert stale.status_code == 200 and stale.json["stale"] is True and len(stale.json["fields"]) == 1


def test_ticket_fields_need_an_admin_and_a_configured_account(client, admin, db):
    from api_tokens import tokens

    lead = {"Authorization": f"Bearer {tokens.create(db, 'lee', 'lead')}"}
    assert client.get("/api/zendesk/ticket-fields", headers=lead).status_code == 403
    resp = client.get("/api/zendesk/ticket-fields", headers=admin)
    assert resp.status_code == 503 and "not configured" in resp.json["message"]
