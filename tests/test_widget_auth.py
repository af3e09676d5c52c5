"""Who may open the sidebar: Zendesk's signed-URL JWT (RS256, the app's key), API tokens, the demo page."""
from __future__ import annotations

import json
import re
import time
from html import unescape

import jwt
import pytest
from conftest import APP_INSTALLATION
from fake_zendesk import zendesk_config

import settings
from app import create_app
from integrations.base import Ticket
from integrations.zendesk.signed_url import sign_for_tests
from tickets import intake

SUBDOMAIN = "acme"
DEV_SECRET = "dev-only-hs256-secret-0123456789abcdef"
ARTICLE = {"external_id": "printer-offline", "title": "Office printer shows offline after Windows update",
           "issue": "The printer is listed as offline for everyone.", "environment": "Windows 11, network printer",
           "resolution": "Restart the Print Spooler service, then remove and re-add the printer.",
           "cause": "The update resets the printer port.", "language": "en", "taxonomy": ["Hardware", "Printers"]}


@pytest.fixture
def config(tmp_path, app_key):
    return {"database": str(tmp_path / "sidecar.db"), "admin_token": "test-admin-token",
            "zendesk": {"subdomain": SUBDOMAIN, "app_public_key": app_key.public_pem,
                        "app_installation_id": APP_INSTALLATION, "webhook_secret": "whsec"},
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


def test_zendesk_rs256_token_opens_widget_and_its_session_works(client, ticket, db, app_key):
    token = app_key.token(SUBDOMAIN, user_id="7788")
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


@pytest.mark.parametrize("case", ["expired", "wrong_key", "missing", "other_account", "wrong_issuer", "alg_none",
                                  "other_installation", "no_exp", "hs256_not_enabled", "future_iat"])
def test_bad_signed_url_tokens_get_401_with_the_reason(client, ticket, db, app_key, other_key, case):
    now = int(time.time())
    tokens = {
        "expired": (app_key.token(SUBDOMAIN, issued_at=now - 3600, lifetime_s=300), "has expired"),
        "wrong_key": (other_key.token(SUBDOMAIN), "signature does not match"),
        "missing": ("", "no signed-URL token"),
        "other_account": (app_key.token("evilcorp"), "another app installation"),
        "wrong_issuer": (app_key.token(SUBDOMAIN, issuer="evilcorp.zendesk.com"), "issued by 'evilcorp.zendesk.com'"),
        "alg_none": (jwt.encode({"iss": "acme.zendesk.com", "sub": "1", "iat": now, "exp": now + 300}, None,
                                algorithm="none"), "'none'"),
        "other_installation": (app_key.token(SUBDOMAIN, installation_id=999), "another app installation"),
        "no_exp": (jwt.encode({"iss": "acme.zendesk.com", "sub": "https://acme.zendesk.com/api/v2/users/1.json",
                               "iat": now, "aud": f"https://acme.zendesk.com/api/v2/apps/installations/"
                                                  f"{APP_INSTALLATION}.json"}, app_key.private, algorithm="RS256"),
                   '"exp"'),
        "hs256_not_enabled": (sign_for_tests(DEV_SECRET, SUBDOMAIN, installation_id=APP_INSTALLATION,
                                             algorithm="HS256"), "HS256"),
        "future_iat": (app_key.token(SUBDOMAIN, issued_at=now + 3600), "in the future"),
    }
    token, reason = tokens[case]
    resp = client.post("/widget", data={"token": token} if token else {})
    assert resp.status_code == 401
    html = resp.get_data(as_text=True)
    assert "Sign-in needed" in html and "ks-boot" not in html      # a clear page, and no session handed out
    assert reason in unescape(html), html                                    # ... that says why
    assert resp.headers["WWW-Authenticate"].startswith("Bearer")
    assert events(db) == []


def test_signed_urls_refused_until_the_installation_is_configured(tmp_path, app_key):
    app = create_app({"database": str(tmp_path / "s.db"),
                      "zendesk": {"subdomain": SUBDOMAIN, "app_public_key": app_key.public_pem}})
    resp = app.test_client().post("/widget", data={"token": app_key.token(SUBDOMAIN)})
    assert resp.status_code == 401
    assert "app_installation_id" in resp.get_data(as_text=True)


def test_signed_urls_refused_when_no_key_is_configured(tmp_path, app_key):
    app = create_app({"database": str(tmp_path / "s.db"),
                      "zendesk": {"subdomain": SUBDOMAIN, "app_installation_id": APP_INSTALLATION}})
    resp = app.test_client().post("/widget", data={"token": app_key.token(SUBDOMAIN)})
    assert resp.status_code == 401
    assert "app_public_key" in resp.get_data(as_text=True)


def test_hs256_is_a_development_option_only(tmp_path, config):
    token = sign_for_tests(DEV_SECRET, SUBDOMAIN, user_id="55", installation_id=APP_INSTALLATION, algorithm="HS256")
    config["zendesk"]["dev_signed_url_secret"] = DEV_SECRET
    resp = create_app(config).test_client().post("/widget", data={"token": token})
    assert resp.status_code == 200
    assert boot_of(resp.get_data(as_text=True))["agent"] == "zendesk:acme:user:55"
    assert settings.load(environ={})["zendesk"]["dev_signed_url_secret"] == ""      # off by default


def test_public_key_from_a_file_path(tmp_path, config, app_key):
    pem = tmp_path / "app.pem"
    pem.write_text(app_key.public_pem)
    config["zendesk"]["app_public_key"] = str(pem)
    resp = create_app(config).test_client().post("/widget", data={"token": app_key.token(SUBDOMAIN)})
    assert resp.status_code == 200


def test_a_key_that_is_not_a_public_key_stops_start_up(tmp_path, config):
    bad = tmp_path / "bad.pem"
    bad.write_text("-----BEGIN PUBLIC KEY-----\nnot a key\n-----END PUBLIC KEY-----\n")
    for value in (str(bad), str(tmp_path / "missing.pem")):
        config["zendesk"]["app_public_key"] = value
        with pytest.raises(SystemExit, match="zendesk.app_public_key"):
            create_app(config)


def test_public_key_fetched_once_through_the_apps_api_and_agent_named_by_zendesk(tmp_path, config, app_key,
                                                                                 fake_zendesk, db):
    fake_zendesk.app_public_keys[77] = app_key.public_pem
    fake_zendesk.add_user(7788, name="Sam Agent")
    config["zendesk"].update(zendesk_config(fake_zendesk), app_public_key="", app_id=77)
    client = create_app(config).test_client()
    for _ in range(2):
        resp = client.post("/widget", data={"token": app_key.token(SUBDOMAIN, user_id="7788")})
        assert resp.status_code == 200
    assert len(fake_zendesk.calls("GET", "/api/v2/apps/77/public_key.pem")) == 1        # fetched once, cached
    assert len(fake_zendesk.calls("GET", "/api/v2/users/7788.json")) == 1
    boot = boot_of(resp.get_data(as_text=True))
    assert boot["agent_name"] == "Sam Agent"
    claims = jwt.decode(boot["session"], options={"verify_signature": False})
    assert claims["name"] == "Sam Agent" and claims["src"] == "zendesk"
    # A token signed with another key is still refused, and the cached key is not replaced.
    assert client.post("/widget", data={"token": app_key.token(SUBDOMAIN, installation_id=1)}).status_code == 401


def test_events_record_the_verified_identity_not_what_the_browser_says(client, ticket, db, app_key):
    boot = boot_of(client.post("/widget", data={"token": app_key.token(SUBDOMAIN, user_id="7788")})
                   .get_data(as_text=True))
    session = {"Authorization": f"Bearer {boot['session']}"}
    article_id = db.execute("SELECT id FROM articles").fetchone()[0]
    forged = client.post(f"/api/tickets/zendesk/{ticket}/events", headers=session,
                         json={"kind": "reused", "article_id": article_id, "agent": "zendesk:acme:user:1"})
    assert forged.status_code == 400                     # a session cannot name another agent
    ev = client.post(f"/api/tickets/zendesk/{ticket}/events", headers=session,
                     json={"kind": "reused", "article_id": article_id, "agent_name": "The CEO"})
    assert ev.status_code == 201
    data = db.execute("SELECT agent, data FROM events WHERE kind = 'reused'").fetchone()
    assert data[0] == "zendesk:acme:user:7788" and "The CEO" not in data[1]


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
    assert client.get("/widget?ticket=1&integration=kayako", headers=admin).status_code == 404


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
