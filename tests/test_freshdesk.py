"""Freshdesk end to end: the automation rule's webhook with its shared-secret header (redelivery included),
suggestions through the API and the widget, reuses, the write-back requests the fake Freshdesk API on 127.0.0.1
received (429 + Retry-After honoured by the worker's retry loop), and the Freshworks sidebar app."""
from __future__ import annotations

import json
import re
from datetime import UTC, datetime, timedelta

import pytest
from fake_freshdesk import API_KEY, WEBHOOK_SECRET, FakeFreshdesk, freshdesk_config

from integrations.base import PermanentError, TransientError
from integrations.freshdesk import app_package, webhook
from integrations.freshdesk import client as freshdesk
from integrations.freshdesk.rule import RULE_BODY, SECRET_HEADER
from jobs.worker import drain

ARTICLES = [
    {"external_id": "refund-damaged", "title": "Refund for a parcel that arrived damaged", "language": "en",
     "body": "Open the order, choose Return, pick Damaged on arrival and select Refund to card.",
     "taxonomy": ["Orders", "Refunds"]},
    {"external_id": "refund-status", "title": "Where is my refund for a returned parcel", "language": "en",
     "body": "A refund reaches the card five days after the returned parcel is scanned at the warehouse.",
     "taxonomy": ["Orders", "Refunds"]},
    {"external_id": "vpn-drops", "title": "VPN drops every few minutes", "language": "en",
     "body": "Switch the VPN client to TCP and disable power saving on the wireless adapter.",
     "taxonomy": ["Network", "VPN"]},
]
SUBJECT = "Parcel arrived damaged, I want a refund"
DESCRIPTION = "<div>The mug in my parcel is broken.</div><div>Please refund the damaged parcel &amp; order.</div>"


@pytest.fixture
def fake_freshdesk():
    fake = FakeFreshdesk().start()
    yield fake
    fake.stop()


@pytest.fixture
def config(config, fake_freshdesk):
    config["freshdesk"] = freshdesk_config(fake_freshdesk)
    config["worker"] = {"backoff_base_s": 5.0}
    return config


def _article_id(db, external_id: str) -> int:
    return db.execute("SELECT id FROM articles WHERE external_id = ?", (external_id,)).fetchone()[0]


def _make_due(db) -> None:
    db.execute("UPDATE outbox SET next_attempt_at = '2000-01-01T00:00:00Z' WHERE state = 'pending'")


def test_rule_webhook_suggestions_reuse_and_write_back_with_a_429(client, admin, db, app, fake_freshdesk):
    assert client.post("/api/articles/import", json={"articles": ARTICLES}, headers=admin).status_code == 200
    fake_freshdesk.add_ticket(11, SUBJECT, DESCRIPTION, tags=["vip", "web form"], custom_fields={"cf_order": "A-17"})
    raw, headers = fake_freshdesk.webhook(11)

    assert client.post("/webhooks/freshdesk", data=raw, headers=headers).status_code == 202
    again = client.post("/webhooks/freshdesk", data=raw, headers=headers)        # the same delivery again
    assert again.status_code == 200 and again.get_json()["status"] == "duplicate"
    assert db.execute("SELECT COUNT(*) FROM webhook_deliveries").fetchone()[0] == 1

    sug = client.get("/api/tickets/freshdesk/11/suggestions", headers=admin).get_json()
    assert sug["ticket"]["subject"] == SUBJECT and sug["ticket"]["tags"] == ["vip", "web form"]
    assert sug["ticket"]["description"] == "The mug in my parcel is broken.\nPlease refund the damaged parcel & order."
    assert sug["taxonomy"]["path"] == ["Orders", "Refunds"] and sug["ticket"]["status"] == "open"
    assert sug["articles"][0]["external_id"] == "refund-damaged"

    damaged, status = _article_id(db, "refund-damaged"), _article_id(db, "refund-status")
    assert client.post("/api/tickets/freshdesk/11/events", headers=admin,
                       json={"kind": "reused", "article_id": damaged, "agent_name": "Ann Agent"}).status_code == 201
    page = client.get("/widget?integration=freshdesk&ticket=11", headers=admin)
    assert page.status_code == 200 and "Refund for a parcel that arrived damaged" in page.get_data(as_text=True)
    boot = json.loads(re.search(r'id="ks-boot">(.*?)</script>', page.get_data(as_text=True), re.S).group(1))
    assert client.post("/api/tickets/freshdesk/11/events", headers={"Authorization": f"Bearer {boot['session']}"},
                       json={"kind": "reused", "article_id": status}).status_code == 201

    cfg = app.config["KS"]
    jobs = [r[0] for r in db.execute("SELECT kind FROM outbox WHERE integration = 'freshdesk' ORDER BY id")]
    assert jobs == ["fetch_fields", "note", "tags", "link", "tags", "link", "tags"]
    fake_freshdesk.fail_next(429, retry_after=90)            # the plan's rate limit, on the first request
    before = datetime.now(UTC).replace(microsecond=0)
    result = drain(db, cfg, freshdesk.from_config(cfg), integration="freshdesk")
    assert result == {"done": 6, "retry": 1, "failed": 0, "held": 0}
    retry_at, error = db.execute("SELECT next_attempt_at, last_error FROM outbox WHERE state = 'pending'").fetchone()
    assert retry_at >= (before + timedelta(seconds=90)).strftime("%Y-%m-%dT%H:%M:%SZ") and "429" in error
    assert drain(db, cfg, freshdesk.from_config(cfg), integration="freshdesk")["done"] == 0     # not due yet
    _make_due(db)
    assert drain(db, cfg, freshdesk.from_config(cfg), integration="freshdesk")["done"] == 1

    assert fake_freshdesk.calls()[0]["path"] == "/api/v2/tickets/11"         # the 429, then the rest
    writes = fake_freshdesk.writes()
    notes = [w[2] for w in writes if w[1] == "/api/v2/tickets/11/notes"]
    assert [n["private"] for n in notes] == [True, True, True]
    assert "Refund for a parcel that arrived damaged" in notes[0]["body"] and "<br>" in notes[0]["body"]
    assert notes[1]["body"].startswith("Knowledge Sidecar: Ann Agent linked the article &quot;Refund for a parcel")
    tag_puts = [w[2] for w in writes if w[0] == "PUT"]
    assert tag_puts == [{"tags": ["vip", "web form", "ks_suggested"]},
                        {"tags": ["vip", "web form", "ks_suggested", "ks_reused"]}]   # the 2nd reuse changed nothing
    assert fake_freshdesk.tickets[11]["tags"] == ["vip", "web form", "ks_suggested", "ks_reused"]
    for call in fake_freshdesk.calls():
        assert call["headers"]["Authorization"].startswith("Basic ")
    # fetch_fields read the ticket's custom fields and the requester's language
    stored = client.get("/api/tickets/freshdesk/11/suggestions", headers=admin).get_json()["ticket"]
    assert stored["fields"] == {"cf_order": "A-17"} and stored["locale"] == "en"
    assert fake_freshdesk.calls("GET", "/api/v2/contacts/5001")


def test_status_change_and_note_events_are_later_changes(client, admin, fake_freshdesk):
    fake_freshdesk.add_ticket(12, SUBJECT, DESCRIPTION)
    raw, headers = fake_freshdesk.webhook(12)
    assert client.post("/webhooks/freshdesk", data=raw, headers=headers).status_code == 202
    fake_freshdesk.tickets[12]["status"] = 4
    raw, headers = fake_freshdesk.webhook(12, event="{status:{from:2,to:4}}")
    resp = client.post("/webhooks/freshdesk", data=raw, headers=headers)
    assert resp.status_code == 200 and resp.get_json()["status"] == "recorded"
    ticket = client.get("/api/tickets/freshdesk/12/suggestions", headers=admin).get_json()["ticket"]
    assert ticket["status"] == "solved"
    assert [(e["kind"], e["previous"], e["current"]) for e in ticket["timeline"]] == [
        ("created", None, "open"), ("status", "open", "solved")]


@pytest.mark.parametrize("secret", ["wrong-secret-0123456789", None])
def test_bad_secret_is_401_and_stores_nothing(client, admin, db, fake_freshdesk, secret):
    fake_freshdesk.add_ticket(13, SUBJECT, DESCRIPTION)
    raw, headers = fake_freshdesk.webhook(13, secret=secret or WEBHOOK_SECRET)
    if secret is None:
        del headers[SECRET_HEADER]
    resp = client.post("/webhooks/freshdesk", data=raw, headers=headers)
    assert resp.status_code == 401 and SECRET_HEADER in resp.get_json()["message"]
    assert db.execute("SELECT COUNT(*) FROM webhook_deliveries").fetchone()[0] == 0
    assert client.get("/api/tickets/freshdesk/13/suggestions", headers=admin).status_code == 404


def test_rule_body_is_json_once_rendered_and_bad_bodies_are_400(client, fake_freshdesk):
    fake_freshdesk.add_ticket(14, 'Quote " and \\ backslash', "<p>a</p>", tags=["x"])
    raw, headers = fake_freshdesk.webhook(14)
    assert json.loads(raw)["freshdesk_webhook"]["ticket_subject"] == 'Quote " and \\ backslash'
    assert "{{ticket.id}}" in RULE_BODY and "{{ticket.tags}}" in RULE_BODY
    for body, message in ((b'{"ticket_id": 1}', "freshdesk_webhook"),
                          (b'{"freshdesk_webhook": {"ticket_id": "#14"}}', "number")):
        resp = client.post("/webhooks/freshdesk", data=body, headers={SECRET_HEADER: WEBHOOK_SECRET})
        assert resp.status_code == 400 and message in resp.get_json()["message"]
    assert webhook.parse_event("{status:{from:2,to:4}}") == ("status", "", "2", "4")
    assert webhook.parse_event("{note_type:private}") == ("note_type", "private", None, None)


def test_client_typed_errors(fake_freshdesk):
    client = freshdesk.FreshdeskClient(fake_freshdesk.url, API_KEY)
    fake_freshdesk.add_ticket(20, SUBJECT, DESCRIPTION)
    with pytest.raises(PermanentError, match="404"):
        client.add_internal_note("404404", "hello")
    with pytest.raises(PermanentError):
        client.add_tags("not-a-number", ["x"])
    with pytest.raises(TransientError, match="KS_FRESHDESK_API_KEY") as refused:
        freshdesk.FreshdeskClient(fake_freshdesk.url, "wrong").fetch_ticket("20")
    assert refused.value.retry_after == 900.0
    fake_freshdesk.fail_next(503)
    with pytest.raises(TransientError):
        client.set_custom_field("20", "cf_issue", "Orders/Refunds")
    client.set_custom_field("20", "cf_issue", "Orders/Refunds")
    assert fake_freshdesk.tickets[20]["custom_fields"] == {"cf_issue": "Orders/Refunds"}


def test_freshworks_app_package(tmp_path, app):
    cfg = {**app.config["KS"], "server": {**app.config["KS"]["server"], "public_url": "https://ks.example.com"}}
    result = app_package.build(cfg, tmp_path)
    folder = tmp_path / "freshdesk-app"
    manifest = json.loads((folder / "manifest.json").read_text())
    assert manifest["platform-version"] == "3.0"
    sidebar = manifest["modules"]["support_ticket"]["location"]["ticket_sidebar"]
    assert (folder / "app" / sidebar["url"]).is_file() and (folder / "app" / sidebar["icon"]).is_file()
    requests = json.loads((folder / "config" / "requests.json").read_text())
    assert set(manifest["modules"]["common"]["requests"]) == set(requests)
    for template in requests.values():
        schema = template["schema"]
        assert (schema["protocol"], schema["host"]) == ("https", "ks.example.com")
        assert schema["headers"]["Authorization"] == "Bearer <%= iparam.sidecar_api_token %>"
        path = schema["path"].replace("<%= context.ticket_id %>", "11")
        assert app.url_map.bind("ks.example.com").match(path, method=schema["method"])   # a real sidecar route
    assert json.loads((folder / "config" / "iparams.json").read_text())["sidecar_api_token"]["secure"] is True
    assert "{{{appclient}}}" in (folder / "app" / "index.html").read_text()
    assert result["warnings"] == []
    assert "app/scripts/app.js" in result["files"] and (tmp_path / "knowledge-sidecar-freshdesk.zip").is_file()
    assert any("https" in w for w in app_package.warnings(app.config["KS"]))    # http://127.0.0.1:8000 by default


STUB_CLIENT = """
// Stands in for Freshworks' app client: the ticket and agent from the page, request templates through the
// platform's server-side proxy (here /__proxy/<template>, answered by the test as Freshworks would).
window.app = { initialized: function () { return Promise.resolve({
  events: { on: function (name, callback) { if (name === "app.activated") { setTimeout(callback, 0); } } },
  data: { get: function (what) {
    return Promise.resolve(what === "ticket" ? { ticket: { id: 11, subject: "x" } }
                                             : { loggedInUser: { contact: { name: "Ann Agent" } } }); } },
  request: { invokeTemplate: function (name, options) {
    return fetch("/__proxy/" + name, { method: "POST", body: JSON.stringify(options) }).then(function (r) {
      return r.json(); }).then(function (answer) {
        if (answer.status >= 400) { throw answer; }
        return answer; }); } }
}); } };
"""


@pytest.mark.browser
def test_freshworks_sidebar_app_lists_suggestions_and_records_a_reuse(tmp_path, client, admin, db, app,
                                                                        fake_freshdesk, live_server, page):
    import requests as http

    assert client.post("/api/articles/import", json={"articles": ARTICLES}, headers=admin).status_code == 200
    fake_freshdesk.add_ticket(11, SUBJECT, DESCRIPTION)
    raw, headers = fake_freshdesk.webhook(11)
    assert client.post("/webhooks/freshdesk", data=raw, headers=headers).status_code == 202
    cfg = {**app.config["KS"], "server": {**app.config["KS"]["server"], "public_url": live_server.url}}
    folder = tmp_path / "freshdesk-app"
    app_package.build(cfg, tmp_path)
    templates = json.loads((folder / "config" / "requests.json").read_text())
    iparams = {"sidecar_api_token": "test-admin-token"}

    def platform(route):
        """Freshworks serving the app's files, and proxying its request templates with the secure iparam."""
        path = route.request.url.split("https://fd-app.test/", 1)[1]
        if path.startswith("__proxy/"):
            schema = templates[path.split("/", 1)[1]]["schema"]
            options = json.loads(route.request.post_data or "{}")
            url = f"{schema['protocol']}://{schema['host']}:{schema['port']}" + schema["path"].replace(
                "<%= context.ticket_id %>", str(options["context"]["ticket_id"]))
            sent = {k: v.replace("<%= iparam.sidecar_api_token %>", iparams["sidecar_api_token"])
                    for k, v in schema["headers"].items()}
            answer = http.request(schema["method"], url, headers=sent, data=options.get("body"), timeout=10)
            return route.fulfill(json={"status": answer.status_code, "response": answer.text})
        if path == "fresh_client.js":
            return route.fulfill(body=STUB_CLIENT, content_type="text/javascript")
        body = (folder / "app" / path).read_text().replace("{{{appclient}}}", "/fresh_client.js")
        kind = {"html": "text/html", "js": "text/javascript", "css": "text/css"}[path.rsplit(".", 1)[1]]
        return route.fulfill(body=body, content_type=kind)

    page.route("https://fd-app.test/**", platform)
    page.goto("https://fd-app.test/index.html")
    first = page.locator("#ks-articles li").first
    first.get_by_text("Refund for a parcel that arrived damaged").wait_for()
    assert page.locator("#ks-node").inner_text() == "Issue: Orders › Refunds"
    first.get_by_role("button", name="Reuse").click()
    first.get_by_role("button", name="Reused ✓").wait_for()
    assert db.execute("SELECT kind, article_id, json_extract(data, '$.agent_name') FROM events WHERE kind = 'reused'"
                      ).fetchall() == [("reused", _article_id(db, "refund-damaged"), "Ann Agent")]
    assert [r[0] for r in db.execute("SELECT kind FROM outbox WHERE kind = 'link'")] == ["link"]
