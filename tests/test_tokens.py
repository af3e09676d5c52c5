"""Tokens you can revoke (issue 13): a revoked or expired token, and every session and sign-in cookie made from it,
is refused at once; the bootstrap KS_ADMIN_TOKEN stays revoked across restarts; the last admin stays; signing out
needs the page's csrf field."""
from __future__ import annotations

import json
import logging
import re

from conftest import ADMIN_TOKEN, known_ticket, sign_in

from api_tokens import tokens
from app import create_app

BOOTSTRAP = "bootstrap admin (KS_ADMIN_TOKEN)"


def _bearer(token: str) -> dict:
    return {"Authorization": f"Bearer {token}"}


def _boot_session(resp) -> str:
    assert resp.status_code == 200, resp.get_data(as_text=True)[:300]
    html = resp.get_data(as_text=True)
    return json.loads(re.search(r'id="ks-boot">(.*?)</script>', html, re.S).group(1))["session"]


def _token_id(client, admin, name: str) -> int:
    return next(t["id"] for t in client.get("/api/tokens", headers=admin).json["tokens"] if t["name"] == name)


def _make(client, admin, name: str, role: str, **extra) -> tuple[str, int]:
    made = client.post("/api/tokens", headers=admin, json={"name": name, "role": role, **extra})
    assert made.status_code == 201, made.json
    return made.json["token"], _token_id(client, admin, name)


def _csrf(html: str) -> str:
    return re.search(r'class="whoami">\s*<input type="hidden" name="csrf" value="([0-9a-f]+)"', html).group(1)


def test_a_revoked_token_its_sessions_and_its_cookie_are_refused_at_once(client, admin, db):
    known_ticket(db, "7")
    agent, agent_id = _make(client, admin, "Ana (agent)", "agent")
    lead, lead_id = _make(client, admin, "Lena (lead)", "lead")
    widget = _boot_session(client.get("/widget?ticket=7&integration=zendesk", headers=_bearer(agent)))
    demo = _boot_session(client.get("/demo/tickets/7", headers=_bearer(agent)))
    reopened = _boot_session(client.get("/widget?ticket=7&integration=zendesk", headers=_bearer(widget)))
    for credential in (agent, widget, demo, reopened):
        assert client.post("/api/suggest", headers=_bearer(credential), json={"subject": "refund"}).status_code == 200
    assert client.post("/signin", data={"token": lead, "next": "/reports"}).status_code == 303
    assert client.get("/reports").status_code == 200                        # the page session cookie works

    assert client.delete(f"/api/tokens/{agent_id}", headers=admin).status_code == 204
    for credential in (agent, widget, demo, reopened):                      # the next request is refused
        assert client.post("/api/suggest", headers=_bearer(credential), json={"subject": "refund"}).status_code == 401
    assert client.get("/widget?ticket=7&integration=zendesk", headers=_bearer(widget)).status_code == 401
    assert client.post("/signin", data={"token": agent}).status_code == 401

    assert client.delete(f"/api/tokens/{lead_id}", headers=admin).status_code == 204
    gone = client.get("/reports")
    assert gone.status_code == 401 and 'id="signin-form"' in gone.get_data(as_text=True)

    listed = {t["id"]: t for t in client.get("/api/tokens", headers=admin).json["tokens"]}
    assert listed[agent_id]["status"] == "revoked" and listed[agent_id]["revoked_at"]
    assert {"id", "name", "role", "created_at", "revoked_at", "expires_at"} <= listed[agent_id].keys()
    first = listed[agent_id]["revoked_at"]
    assert client.delete(f"/api/tokens/{agent_id}", headers=admin).status_code == 204      # idempotent
    assert _token_listing(client, admin)[agent_id]["revoked_at"] == first
    assert client.delete("/api/tokens/999999", headers=admin).status_code == 404
    assert client.delete(f"/api/tokens/{10**20}", headers=admin).status_code == 404
    assert client.delete(f"/api/tokens/{lead_id}", headers=_bearer(lead)).status_code == 401
    publisher, _ = _make(client, admin, "Pat (publisher)", "publisher")
    assert client.delete(f"/api/tokens/{agent_id}", headers=_bearer(publisher)).status_code == 403


def _token_listing(client, admin) -> dict:
    return {t["id"]: t for t in client.get("/api/tokens", headers=admin).json["tokens"]}


def test_the_last_admin_cannot_revoke_themselves(client, admin, db):
    own = tokens.lookup(db, ADMIN_TOKEN)["id"]
    refused = client.delete(f"/api/tokens/{own}", headers=admin)
    assert refused.status_code == 409 and "must keep one admin" in refused.json["message"]
    assert client.get("/api/tokens", headers=admin).status_code == 200          # still an admin

    second, second_id = _make(client, admin, "Second admin", "admin")
    assert client.delete(f"/api/tokens/{second_id}", headers=_bearer(second)).status_code == 204   # own, not last
    assert client.get("/api/tokens", headers=_bearer(second)).status_code == 401
    # An expired admin token does not count as the one that stays.
    _, third_id = _make(client, admin, "Third admin", "admin")
    db.execute("UPDATE api_tokens SET expires_at = '2000-01-01T00:00:00Z' WHERE id = ?", (third_id,))
    assert client.delete(f"/api/tokens/{own}", headers=admin).status_code == 409


def test_the_bootstrap_token_once_revoked_stays_revoked_after_a_restart(config, caplog):
    first = create_app(config)
    client = first.test_client()
    assert client.get("/api/tokens", headers=_bearer(ADMIN_TOKEN)).status_code == 200
    create_app(config)                                                          # a restart keeps the one row
    assert [t["name"] for t in client.get("/api/tokens", headers=_bearer(ADMIN_TOKEN)).json["tokens"]] \
        == [BOOTSTRAP]

    operator, _ = _make(client, _bearer(ADMIN_TOKEN), "Olga (operator)", "admin")
    bootstrap_id = _token_id(client, _bearer(operator), BOOTSTRAP)
    assert client.delete(f"/api/tokens/{bootstrap_id}", headers=_bearer(operator)).status_code == 204
    with caplog.at_level(logging.WARNING, logger="api_tokens.tokens"):
        again = create_app(config).test_client()
    assert again.get("/api/tokens", headers=_bearer(ADMIN_TOKEN)).status_code == 401
    listed = again.get("/api/tokens", headers=_bearer(operator)).json["tokens"]
    assert [t["status"] for t in listed if t["name"] == BOOTSTRAP] == ["revoked"]
    said = " ".join(r.getMessage() for r in caplog.records)
    assert "was revoked" in said and "not re-created" in said and "create-token NAME --role admin" in said


def test_expiry_at_creation_and_an_expired_token_refused(client, admin, db):
    for bad in ({"expires_at": "2001-01-01"}, {"expires_at": "next week"}, {"expires_at": "２０９９-01-01"},
                {"expires_at": 20990101}, {"expires_in_days": 0}, {"expires_in_days": "7"},
                {"expires_in_days": True}, {"expires_at": "2099-01-01", "expires_in_days": 3},
                {"expires_at": "9999-12-31T23:59:59-14:00"}):
        resp = client.post("/api/tokens", headers=admin, json={"name": "x", "role": "agent", **bad})
        assert resp.status_code == 400 and "expires" in resp.json["message"], bad

    made = client.post("/api/tokens", headers=admin, json={"name": "Temp", "role": "agent",
                                                           "expires_at": "2099-01-01"})
    assert made.status_code == 201 and made.json["expires_at"] == "2099-01-01T00:00:00Z"
    temp_id = _token_id(client, admin, "Temp")
    in_days = client.post("/api/tokens", headers=admin, json={"name": "Month", "role": "agent",
                                                              "expires_in_days": 30})
    assert in_days.status_code == 201 and in_days.json["expires_at"] > "2026"
    assert client.post("/api/tokens", headers=admin, json={"name": "Zoned", "role": "agent",
                                                           "expires_at": "2099-01-01T02:00:00+02:00"}) \
        .json["expires_at"] == "2099-01-01T00:00:00Z"

    known_ticket(db, "8")
    temp = made.json["token"]
    session = _boot_session(client.get("/widget?ticket=8&integration=zendesk", headers=_bearer(temp)))
    for credential in (temp, session):
        assert client.post("/api/suggest", headers=_bearer(credential), json={"subject": "x"}).status_code == 200
    db.execute("UPDATE api_tokens SET expires_at = '2001-01-01T00:00:00Z' WHERE id = ?", (temp_id,))
    for credential in (temp, session):
        assert client.post("/api/suggest", headers=_bearer(credential), json={"subject": "x"}).status_code == 401
    assert _token_listing(client, admin)[temp_id]["status"] == "expired"

    # The tokens page takes a date from which the token stops working.
    page = client.post("/admin/tokens", headers=admin, data={"name": "Contractor", "role": "agent",
                                                             "expires_on": "2099-12-31"})
    assert page.status_code == 201 and "2099-12-31T00:00:00Z" in page.get_data(as_text=True)
    past = client.post("/admin/tokens", headers=admin, data={"name": "Late", "role": "agent",
                                                             "expires_on": "2001-12-31"})
    assert past.status_code == 400 and "in the future" in past.get_data(as_text=True)


def test_signing_out_needs_the_csrf_field(client, admin):
    lead, _ = _make(client, admin, "Lena (lead)", "lead")
    client.post("/signin", data={"token": lead, "next": "/reports"})
    page = client.get("/reports")
    assert page.status_code == 200
    forged = client.post("/signout")                                   # what another site's form would send
    assert forged.status_code == 403
    assert client.post("/signout", data={"csrf": "0" * 32}).status_code == 403
    assert client.get("/reports").status_code == 200                  # still signed in
    out = client.post("/signout", data={"csrf": _csrf(page.get_data(as_text=True))})
    assert out.status_code == 303
    assert client.get("/reports").status_code == 401
    assert client.post("/signout").status_code == 303                 # nothing left to forget

    client.post("/signin", data={"token": ADMIN_TOKEN, "next": "/admin"})
    html = client.get("/admin/tokens").get_data(as_text=True)
    assert client.post("/signout", data={"csrf": _csrf(html)}).status_code == 303


def test_in_the_browser_a_revoked_tokens_cookie_shows_the_sign_in_form(client, admin, db, live_server, page,
                                                                        browser):
    lead, lead_id = _make(client, admin, "Lena (lead)", "lead")
    sign_in(page, f"{live_server.url}/reports", lead)
    assert page.locator("#signin-form").count() == 0 and page.locator("#total-with-suggestions").count() == 1
    assert client.delete(f"/api/tokens/{lead_id}", headers=admin).status_code == 204
    again = page.reload()
    assert again.status == 401 and page.locator("#signin-form").count() == 1

    # The Revoke button on the tokens page: an admin ends another admin's page session.
    other, other_id = _make(client, admin, "Omar (admin)", "admin")
    second = browser.new_context()
    try:
        omar = second.new_page()
        sign_in(omar, f"{live_server.url}/admin/tokens", other)
        assert omar.locator("#tokens").count() == 1
        page.context.clear_cookies()
        sign_in(page, f"{live_server.url}/admin/tokens", ADMIN_TOKEN)
        assert "cannot be undone" in page.locator("main").inner_text()
        assert page.locator(f"#tokens tr[data-token-id='{lead_id}'] button").count() == 0   # revoked: no button
        page.click(f"#tokens tr[data-token-id='{other_id}'] button")
        page.wait_for_url("**/admin/tokens?done=revoked")
        assert page.locator(f"#tokens tr[data-token-id='{other_id}'] .token-status").inner_text().startswith(
            "revoked")
        assert omar.reload().status == 401 and omar.locator("#signin-form").count() == 1

        own = tokens.lookup(db, ADMIN_TOKEN)["id"]                         # the last admin: refused, said why
        page.click(f"#tokens tr[data-token-id='{own}'] button")
        page.wait_for_load_state()
        assert "must keep one admin" in page.locator("#form-error").inner_text()
        assert page.locator("#tokens").count() == 1                          # still signed in
        page.click("form.whoami button[type=submit]")                      # sign out carries the csrf field
        assert page.locator("#signin-form").count() == 1
    finally:
        second.close()
