"""Who may open the sidebar: Zendesk's signed-URL JWT (HS256 shared secret), API tokens, the demo page."""
from __future__ import annotations

import json
import re
import time

import jwt
import pytest

import settings
from app import create_app
from integrations.base import Ticket
from integrations.zendesk.signed_url import sign_for_tests
from tickets import intake

SHARED = "app-shared-secret-for-tests-0123456789abcdef"
SUBDOMAIN = "acme"
ARTICLE = {"external_id": "printer-offline", "title": "Office printer shows offline after Windows update",
           "issue": "The printer is listed as offline for everyone.", "environment": "Windows 11, network printer",
           "resolution": "Restart the Print Spooler service, then remove and re-add the printer.",
           "cause": "The update resets the printer port.", "language": "en", "taxonomy": ["Hardware", "Printers"]}


@pytest.fixture
def config(tmp_path):
    return {"database": str(tmp_path / "sidecar.db"), "admin_token": "test-admin-token",
            "zendesk": {"subdomain": SUBDOMAIN, "app_shared_secret": SHARED, "webhook_secret": "whsec"},
            "server": {"session_secret": "test-session-secret-0123456789abcdef"}, "demo": {"enabled": True}}


@pytest.fixture
def ticket(client, admin, db, app):
    assert client.post("/api/articles/import", json={"articles": [ARTICLE]}, headers=admin).status_code == 200
    intake.handle(db, app.config["KS"], Ticket("zendesk", "501", subject="Printer offline since the update",
                                               description="Our office printer is offline after the Windows update."))
    return "501"


def boot_of(html: str) -> dict:
    m = re.search(r'<script type="application/json" id="ks-boot">(.*?)</script>', html, re.S)
    assert m, "the page carries its boot data"
    return json.loads(m.group(1))


def events(db, kind=None):
    sql = "SELECT kind, agent, article_id FROM events" + (" WHERE kind = ?" if kind else "") + " ORDER BY id"
    return db.execute(sql, (kind,) if kind else ()).fetchall()


def test_valid_signed_url_token_opens_widget_and_its_session_works(client, ticket, db):
    token = sign_for_tests(SHARED, SUBDOMAIN, user_id="7788")
    resp = client.post("/widget?origin=https://acme.zendesk.com&app_guid=abc", data={"token": token})
    assert resp.status_code == 200
    html = resp.get_data(as_text=True)
    boot = boot_of(html)
    assert boot["agent"] == "zendesk:acme:user:7788"
    assert boot["ticket"] is None                       # Zendesk's token carries no ticket: the ZAF client gives it
    assert token not in html                             # Zendesk's token is not echoed back
    assert "frame-ancestors 'self' https://acme.zendesk.com" in resp.headers["Content-Security-Policy"]
    assert resp.headers["Cache-Control"] == "no-store"
    session = {"Authorization": f"Bearer {boot['session']}"}
    panel = client.get(f"/widget/panel?integration=zendesk&ticket={ticket}", headers=session)
    assert panel.status_code == 200
    assert ARTICLE["title"] in panel.get_data(as_text=True)
    article_id = db.execute("SELECT id FROM articles").fetchone()[0]
    ev = client.post(f"/api/tickets/zendesk/{ticket}/events", json={"kind": "reused", "article_id": article_id},
                     headers=session)
    assert ev.status_code == 201
    assert events(db, "reused") == [("reused", "zendesk:acme:user:7788", article_id)]
    assert events(db, "viewed") == [("viewed", "zendesk:acme:user:7788", None)]


@pytest.mark.parametrize("case", ["expired", "wrong_secret", "missing", "other_account", "alg_none",
                                  "foreign_audience", "no_exp"])
def test_bad_signed_url_tokens_get_401(client, ticket, db, case):
    now = int(time.time())
    tokens = {
        "expired": sign_for_tests(SHARED, SUBDOMAIN, issued_at=now - 3600, lifetime_s=300),
        "wrong_secret": sign_for_tests("another-secret-another-secret-0123456789", SUBDOMAIN),
        "missing": "",
        "other_account": sign_for_tests(SHARED, "evilcorp"),
        "alg_none": jwt.encode({"iss": "acme.zendesk.com", "sub": "1", "iat": now, "exp": now + 300}, None,
                               algorithm="none"),
        "foreign_audience": jwt.encode({"iss": "acme.zendesk.com", "sub": "1", "iat": now, "exp": now + 300,
                                        "aud": "https://evil.example/api/v2/apps/installations/1.json"},
                                       SHARED, algorithm="HS256"),
        "no_exp": jwt.encode({"iss": "acme.zendesk.com", "sub": "1", "iat": now}, SHARED, algorithm="HS256"),
    }
    resp = client.post("/widget", data={"token": tokens[case]} if tokens[case] else {})
    assert resp.status_code == 401
    html = resp.get_data(as_text=True)
    assert "Sign-in needed" in html and "ks-boot" not in html      # a clear page, and no session handed out
    assert resp.headers["WWW-Authenticate"].startswith("Bearer")
    assert events(db) == []


def test_expired_token_message_says_what_happened(client, ticket):
    token = sign_for_tests(SHARED, SUBDOMAIN, issued_at=int(time.time()) - 3600)
    assert "has expired" in client.post("/widget", data={"token": token}).get_data(as_text=True)


def test_signed_urls_refused_when_no_shared_secret_is_configured(tmp_path):
    app = create_app({"database": str(tmp_path / "s.db"), "zendesk": {"subdomain": SUBDOMAIN}})
    resp = app.test_client().post("/widget", data={"token": sign_for_tests(SHARED, SUBDOMAIN)})
    assert resp.status_code == 401
    assert "app_shared_secret" in resp.get_data(as_text=True)


def test_get_with_api_token_renders_the_ticket_panel_server_side(client, admin, ticket, db):
    resp = client.get(f"/widget?ticket={ticket}&integration=zendesk", headers=admin)
    assert resp.status_code == 200
    html = resp.get_data(as_text=True)
    assert ARTICLE["title"] in html and "Hardware › Printers" in html
    assert ARTICLE["resolution"] in html                 # the steps are in the page without JavaScript
    boot = boot_of(html)
    assert boot["ticket"] == ticket and boot["session"] != "test-admin-token"
    claims = jwt.decode(boot["session"], options={"verify_signature": False})
    assert claims["role"] == "agent"                     # an admin's token opens the widget with agent rights only
    assert events(db, "viewed") == [("viewed", "bootstrap admin (KS_ADMIN_TOKEN)", None)]


def test_widget_without_credentials_is_401(client, ticket):
    resp = client.get(f"/widget?ticket={ticket}&integration=zendesk")
    assert resp.status_code == 401
    assert "Zendesk" in resp.get_data(as_text=True)
    assert client.get(f"/widget?ticket={ticket}", headers={"Authorization": "Bearer nope"}).status_code == 401
    assert client.get(f"/widget/panel?ticket={ticket}").status_code == 401


def test_unknown_integration_is_404(client, admin):
    assert client.get("/widget?ticket=1&integration=freshdesk", headers=admin).status_code == 404


def test_ticket_without_stored_set_gets_suggestions_computed(client, admin, db, app):
    assert client.post("/api/articles/import", json={"articles": [ARTICLE]}, headers=admin).status_code == 200
    from tickets.intake import save_ticket

    save_ticket(db, Ticket("zendesk", "777", subject="Printer offline", description="printer offline after update"))
    html = client.get("/widget?ticket=777&integration=zendesk", headers=admin).get_data(as_text=True)
    assert ARTICLE["title"] in html and "from the ticket text" in html
    assert db.execute("SELECT COUNT(*) FROM suggestion_sets").fetchone()[0] == 0


def test_unknown_ticket_shows_no_suggestions_and_a_search_box(client, admin):
    html = client.get("/widget?ticket=999&integration=zendesk", headers=admin).get_data(as_text=True)
    assert "No suggestions yet" in html and 'class="ks-search"' in html


def test_demo_page_answers_200_with_titles_in_raw_html(client, admin, ticket):
    resp = client.get(f"/demo/tickets/{ticket}", headers=admin)
    assert resp.status_code == 200
    html = resp.get_data(as_text=True)
    assert ARTICLE["title"] in html
    assert "Printer offline since the update" in html
    assert "demo_zaf.js" in html
    assert "frame-ancestors 'self'" in resp.headers["Content-Security-Policy"]


def test_demo_page_needs_a_signed_in_agent(app, client, ticket, db):
    from api_tokens import tokens

    anonymous = client.get(f"/demo/tickets/{ticket}")
    assert anonymous.status_code == 401
    html = anonymous.get_data(as_text=True)
    assert 'id="signin-form"' in html and "Printer offline since the update" not in html
    agent = tokens.create(db, "ann", "agent")
    assert client.post("/signin", data={"token": agent, "next": f"/demo/tickets/{ticket}"}).status_code == 303
    assert client.get(f"/demo/tickets/{ticket}").status_code == 200           # the session cookie now


def test_demo_is_off_unless_configured():
    assert settings.load(environ={})["demo"]["enabled"] is False


def test_demo_unknown_ticket_is_404_with_a_hint(client, admin):
    resp = client.get("/demo/tickets/4040", headers=admin)
    assert resp.status_code == 404
    assert "simulate-ticket" in resp.get_data(as_text=True)


def test_demo_is_404_when_disabled(tmp_path, config):
    config = dict(config, demo={"enabled": False})
    app = create_app(config)
    c = app.test_client()
    assert c.post("/api/articles/import", json={"articles": [ARTICLE]},
                  headers={"Authorization": "Bearer test-admin-token"}).status_code == 200
    from store import connect

    conn = connect(config["database"]).conn
    intake.handle(conn, app.config["KS"], Ticket("zendesk", "12", subject="Printer offline", description="x"))
    conn.close()
    assert c.get("/demo/tickets/12").status_code == 404
    assert c.get("/demo/tickets/12", headers={"Authorization": "Bearer test-admin-token"}).status_code == 404
