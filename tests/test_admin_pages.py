"""The /admin pages in headless Chromium: every form does its job in a real browser."""
from __future__ import annotations

import json

import pytest
from conftest import known_ticket

from api_tokens import tokens
from tests.conftest import ADMIN_TOKEN, sign_in

pytestmark = pytest.mark.browser


def _sign_in(page, base: str, token: str = ADMIN_TOKEN, path: str = "/admin") -> None:
    sign_in(page, base + path, token)
    assert page.url == base + path


def test_mapping_rule_added_in_the_page_drives_suggest(client, admin, live_server, page):
    client.post("/api/articles/import", headers=admin, json={"articles": [
        {"external_id": "r1", "title": "Refund for a damaged parcel", "language": "en",
         "taxonomy": ["Orders", "Refunds"], "resolution": "Refund the damaged item."}]})
    ask = {"subject": "Hello", "description": "I have a question about my parcel", "tags": ["vip_customer"]}
    assert client.post("/api/suggest", json=ask, headers=admin).json["taxonomy"]["source"] != "rule"

    _sign_in(page, live_server.url, path="/admin/mappings")
    page.select_option("#rule-kind", "tag")
    page.fill("#rule-value", "vip_customer")
    page.fill("#rule-taxonomy", "Orders / Escalations")
    page.fill("#rule-priority", "150")
    page.click("#mapping-form button[type=submit]")
    page.wait_for_url("**/admin/mappings?done=rule")
    assert page.locator("#notice").inner_text() == "Mapping rule added."
    row = page.locator("#rules tbody tr").first
    assert row.locator("td").all_inner_texts()[:5] == ["150", "tag", "", "vip_customer", "Orders / Escalations"]

    answer = client.post("/api/suggest", json=ask, headers=admin).json["taxonomy"]
    assert answer["source"] == "rule" and answer["path"] == ["Orders", "Escalations"]

    # A bad rule shows the reason and keeps what was typed.
    page.select_option("#rule-kind", "field")
    page.fill("#rule-value", "login")
    page.fill("#rule-taxonomy", "Account / Login")
    page.click("#mapping-form button[type=submit]")
    assert "field_id" in page.locator("#form-error").inner_text()
    assert page.input_value("#rule-value") == "login"

    page.locator("#rules tbody tr", has_text="vip_customer").locator("button").click()
    page.wait_for_url("**/admin/mappings?done=deleted")
    assert page.locator("#rules", has_text="vip_customer").count() == 0
    assert client.post("/api/suggest", json=ask, headers=admin).json["taxonomy"]["source"] != "rule"


def test_taxonomy_articles_flags_tokens_pages(client, admin, db, live_server, page):
    client.post("/api/articles/import", headers=admin, json={"articles": [
        {"external_id": "p1", "title": "Password reset <b>email</b> missing", "language": "en",
         "taxonomy": ["Account", "Password"], "resolution": "Send a new link."}]})
    art = db.execute("SELECT id FROM articles WHERE external_id = 'p1'").fetchone()[0]
    known_ticket(db, "5")
    client.post("/api/tickets/zendesk/5/events", headers=admin,
                json={"kind": "flagged", "article_id": art, "reason": "<script>alert(1)</script> link moved"})
    _sign_in(page, live_server.url)
    assert "{{ticket.ticket_form_id}}" in page.locator("#trigger-body").inner_text()
    body = json.loads(page.locator("#trigger-body").inner_text())
    assert body["ticket"]["subject"] == "{{ticket.title}}"
    assert page.locator("#webhook-url").inner_text().endswith("/webhooks/zendesk")

    page.click("text=Taxonomy")
    page.fill("#node-path", "App / Notifications")
    page.click("#taxonomy-form button[type=submit]")
    page.wait_for_url("**/admin/taxonomy?done=node")
    assert page.locator("#taxonomy", has_text="Notifications").count() == 1
    page.fill("#node-path", "Заказы / ---")                      # an empty segment: refused, the input kept
    page.click("#taxonomy-form button[type=submit]")
    page.wait_for_load_state()
    assert page.locator("#node-path").input_value() == "Заказы / ---"

    page.click("text=Open flags")
    assert page.locator("#flags", has_text="<script>alert(1)</script> link moved").count() == 1
    assert page.dialogs == []

    page.click(".subnav >> text=Articles")
    row = page.locator(f"#articles tr[data-article-id='{art}']")
    assert row.locator("td").first.inner_text().startswith("Password reset <b>email</b> missing")
    row.locator("select").select_option("archived")
    row.locator("button").click()
    page.wait_for_url("**/admin/articles?done=state")
    assert page.locator(f"#articles tr[data-article-id='{art}'] select").input_value() == "archived"
    assert client.get(f"/api/articles/{art}", headers=admin).json["state"] == "archived"

    page.click("text=API tokens")
    page.fill("#token-form input[name=name]", "Dana (agent)")
    page.select_option("#token-form select[name=role]", "agent")
    page.click("#token-form button[type=submit]")
    token = page.locator("#new-token").inner_text().strip()
    assert {"name": "Dana (agent)", "role": "agent"}.items() <= tokens.lookup(db, token).items()


def test_forms_need_the_csrf_field_and_the_role(client, admin, db, live_server, page):
    _sign_in(page, live_server.url, path="/admin/taxonomy")
    forged = page.request.post(f"{live_server.url}/admin/taxonomy", form={"path": "Forged / Node"})
    assert forged.status == 403
    assert client.get("/api/taxonomy", headers=admin).json["nodes"] == []

    page.context.clear_cookies()
    publisher = tokens.create(db, "pat", "publisher")
    sign_in(page, f"{live_server.url}/admin/mappings", publisher)
    assert "needs the admin role" in page.content()
    page.goto(f"{live_server.url}/admin/articles")           # publishers may change article states
    assert page.locator("#article-filters").count() == 1
