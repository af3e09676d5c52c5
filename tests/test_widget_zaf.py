"""The widget as Zendesk runs it, in real headless Chromium, with the vendored ZAF SDK (static/vendor/zaf_sdk.min.js).

A fake Zendesk host page, served by a second HTTP server on 127.0.0.1 (another port, so another origin), does what
Zendesk does: it POSTs the signed-URL token into <iframe name=app> at /widget?origin=<host>&app_guid=…, answers the
SDK's postMessage handshake, answers get requests from its ticket data and records invoke calls (window.appended).
"""
from __future__ import annotations

import html
import json
import threading
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from urllib.parse import urlencode

import pytest
from conftest import APP_INSTALLATION, LiveServer, free_port
from fake_zendesk import zendesk_config

import settings
from app import create_app
from integrations.base import Ticket
from macros import library
from tickets import intake

pytestmark = pytest.mark.browser

TICKET_ID = 4711
ARTICLE = {"external_id": "printer-offline", "title": "Office printer shows offline after Windows update",
           "issue": "The printer is listed as offline for everyone.", "environment": "Windows 11, network printer",
           "resolution": "Restart the Print Spooler service, then remove and re-add the printer.",
           "cause": "The update resets the printer port.", "language": "en", "taxonomy": ["Hardware", "Printers"]}
MACRO = {"external_id": "printer-restart", "title": "Printer offline: restart the spooler",
         "body": "Hi {{ requester.first_name or 'there' }},\nplease restart the print spooler on ticket "
                 "#{{ ticket.id }}; the printer is offline after the update.\n{{ agent.first_name }}",
         "language": "en", "taxonomy": ["Hardware", "Printers"]}
ZENDESK_DATA = {"ticket.id": TICKET_ID, "ticket.subject": "Printer offline since the update",
                "ticket.description": "Our office printer is offline for everyone after the Windows update.",
                "ticket.requester.name": "Maria Lopez", "currentUser.name": "Sam Rivera"}

HOST_PAGE = """<!doctype html>
<html><head><meta charset="utf-8"><title>Fake Zendesk ticket</title></head>
<body>
<form id="launch" method="post" target="app" action="{action}">
  <input type="hidden" name="token" value="{token}">
</form>
<iframe name="app" id="app" style="width:420px;height:900px"></iframe>
<script>
window.appended = []; window.resized = []; window.requests = []; window.handshakes = []; window.frameLoads = 0;
window.refuseAppend = false;
var APP = {app_origin};
var DATA = {data};
function reply(source, msg) {{ source.postMessage(JSON.stringify(msg), APP); }}
window.addEventListener("message", function (e) {{
  if (e.origin !== APP) {{ return; }}
  var msg = typeof e.data === "string" ? JSON.parse(e.data) : e.data;
  window.requests.push(msg);
  if (msg.key === "iframe.handshake") {{
    window.handshakes.push(msg);
    reply(e.source, {{key: "zaf.app.registered", message: {{
      context: {{product: "support", location: "ticket_sidebar", instanceGuid: msg.instanceGuid,
                 ticketId: DATA["ticket.id"], account: {{subdomain: "acme"}}}},
      metadata: {{appId: 0, installationId: 424242, name: "Knowledge Sidecar", settings: {{}}}}}}}});
  }} else if (msg.request === "get") {{
    var got = {{errors: {{}}}};
    msg.params.forEach(function (path) {{
      if (Object.prototype.hasOwnProperty.call(DATA, path)) {{ got[path] = DATA[path]; }}
      else {{ got.errors[path] = {{name: "APIUnavailable", message: "is not available", path: path}}; }}
    }});
    reply(e.source, {{id: msg.id, result: got}});
  }} else if (msg.request === "invoke") {{
    var name = Object.keys(msg.params)[0], args = msg.params[name];
    if (name === "ticket.comment.appendText" && window.refuseAppend) {{
      reply(e.source, {{id: msg.id, error: {{name: "InvalidOperation", message: "the ticket is closed"}}}});
      return;
    }}
    if (name === "ticket.comment.appendText") {{ window.appended.push(args[0]); }}
    else if (name === "resize") {{ window.resized.push(args[0]); }}
    reply(e.source, {{id: msg.id, result: {{errors: {{}}}}}});
  }}
}});
document.getElementById("app").addEventListener("load", function () {{ window.frameLoads += 1; }});
document.getElementById("launch").submit();
</script>
</body></html>
"""


class FakeZendeskHost:
    """Serves the host page (GET /ticket) from its own origin: http://127.0.0.1:<another port>."""

    def __init__(self):
        self.port = free_port()
        self.origin = f"http://127.0.0.1:{self.port}"
        self.page = ""
        host = self

        class Handler(BaseHTTPRequestHandler):
            def do_GET(self):  # noqa: N802 (http.server's name)
                body = host.page.encode()
                self.send_response(200 if self.path == "/ticket" else 404)
                self.send_header("Content-Type", "text/html; charset=utf-8")
                self.send_header("Content-Length", str(len(body)))
                self.end_headers()
                self.wfile.write(body)

            def log_message(self, *args):
                pass

        self.server = ThreadingHTTPServer(("127.0.0.1", self.port), Handler)
        self.thread = threading.Thread(target=self.server.serve_forever, daemon=True)
        self.thread.start()

    def serve(self, app_url: str, token: str) -> str:
        """Set the page that launches the app at app_url; return the page's URL."""
        action = f"{app_url}/widget?" + urlencode({"origin": self.origin, "app_guid": "test-guid"})
        self.page = HOST_PAGE.format(action=html.escape(action), token=html.escape(token),
                                     app_origin=json.dumps(app_url), data=json.dumps(ZENDESK_DATA))
        return f"{self.origin}/ticket"

    def close(self):
        self.server.shutdown()
        self.server.server_close()
        self.thread.join(5)


@pytest.fixture
def host():
    fake = FakeZendeskHost()
    yield fake
    fake.close()


@pytest.fixture
def config(tmp_path, host, app_key):
    return {"database": str(tmp_path / "sidecar.db"), "admin_token": "test-admin-token",
            "zendesk": {"subdomain": "acme", "app_public_key": app_key.public_pem,
                        "app_installation_id": APP_INSTALLATION, "webhook_secret": "whsec",
                        "write_back": "off", "frame_ancestors": host.origin},
            "server": {"session_secret": "test-session-secret-0123456789abcdef"}}


@pytest.fixture
def ticket(client, admin, db, app):
    """An imported article and a macro, then the ticket through intake (as the webhook does)."""
    assert client.post("/api/articles/import", json={"articles": [ARTICLE]}, headers=admin).get_json()["created"] == 1
    assert library.import_macros(db, [MACRO], "en")["created"] == 1
    result = intake.handle(db, app.config["KS"], Ticket("zendesk", str(TICKET_ID), subject=ZENDESK_DATA[
        "ticket.subject"], description=ZENDESK_DATA["ticket.description"]))
    assert [a["external_id"] for a in result["articles"]] == ["printer-offline"]
    assert [m["title"] for m in result["macros"]] == [MACRO["title"]]
    return str(TICKET_ID)


@pytest.fixture
def unknown_ticket(config, fake_zendesk):
    """The article and the macro only: the ticket never reached the sidecar by webhook. It exists in Zendesk
    (the fake), which the sidecar can ask with its API credentials."""
    fake_zendesk.add_user(1001, name="Maria Lopez")
    fake_zendesk.add_ticket(TICKET_ID, ZENDESK_DATA["ticket.subject"], ZENDESK_DATA["ticket.description"])
    config["zendesk"].update(zendesk_config(fake_zendesk))
    app = create_app(config)
    client, admin = app.test_client(), {"Authorization": "Bearer test-admin-token"}
    assert client.post("/api/articles/import", json={"articles": [ARTICLE]}, headers=admin).get_json()["created"] == 1
    from store import connect

    db = connect(config["database"]).conn
    assert library.import_macros(db, [MACRO], "en")["created"] == 1
    db.close()
    with LiveServer(app) as server:
        yield server


def events(db, kind: str) -> list[tuple]:
    return db.execute("SELECT t.integration, t.external_id, e.agent, e.article_id, e.macro_id FROM events e "
                      "JOIN tickets t ON t.id = e.ticket_id WHERE e.kind = ? ORDER BY e.id", (kind,)).fetchall()


def test_widget_inside_a_fake_zendesk_host_uses_the_real_zaf_sdk(page, live_server, host, ticket, db, app_key):
    widget_responses = []
    page.on("response", lambda r: widget_responses.append(r) if "/widget?" in r.url else None)
    page.goto(host.serve(live_server.url, app_key.token("acme", user_id="4242")))
    app = page.frame_locator("iframe[name=app]")

    card = app.locator(".ks-suggested .ks-article", has_text=ARTICLE["title"])
    card.wait_for()                                           # the ticket id came from the host by postMessage
    assert app.locator(".ks-ticket").inner_text().startswith(f"Ticket #{TICKET_ID}")
    assert app.locator(".ks-path").inner_text() == "Hardware › Printers"
    csp = widget_responses[0].headers["content-security-policy"]
    assert f"frame-ancestors 'self' https://acme.zendesk.com {host.origin}" in csp
    handshake = page.evaluate("window.handshakes")
    assert len(handshake) == 1 and handshake[0]["appGuid"] == "test-guid" and handshake[0]["message"]["version"]
    gets = [r["params"] for r in page.evaluate("window.requests") if r.get("request") == "get"]
    assert ["ticket.id"] in gets

    card.get_by_role("button", name="Reuse").click()
    card.get_by_text("Reuse recorded").wait_for()
    article_id = db.execute("SELECT id FROM articles WHERE external_id = 'printer-offline'").fetchone()[0]
    assert events(db, "reused") == [("zendesk", ticket, "zendesk:acme:user:4242", article_id, None)]
    assert events(db, "viewed") == [("zendesk", ticket, "zendesk:acme:user:4242", None, None)]

    macro = app.locator(".ks-macro", has_text=MACRO["title"])
    macro.get_by_role("button", name="Insert").click()
    macro.get_by_text("Inserted into the reply").wait_for()
    assert page.evaluate("window.appended") == [
        f"Hi Maria,\nplease restart the print spooler on ticket #{TICKET_ID}; the printer is offline after the "
        "update.\nSam"]                                       # rendered with the names the host gave
    macro_id = db.execute("SELECT id FROM macros WHERE external_id = 'printer-restart'").fetchone()[0]
    assert events(db, "macro_inserted") == [("zendesk", ticket, "zendesk:acme:user:4242", None, macro_id)]
    assert page.evaluate("window.resized.length") > 0         # the app asked the host to fit its height
    assert page.dialogs == []


def test_host_refusing_the_reply_text_is_shown_and_not_recorded(page, live_server, host, ticket, db, app_key):
    page.goto(host.serve(live_server.url, app_key.token("acme")))
    app = page.frame_locator("iframe[name=app]")
    macro = app.locator(".ks-macro", has_text=MACRO["title"])
    macro.wait_for()
    page.evaluate("window.refuseAppend = true")
    macro.get_by_role("button", name="Insert").click()
    macro.get_by_text("Macro not inserted: the ticket is closed").wait_for()
    assert page.evaluate("window.appended") == []
    assert events(db, "macro_inserted") == []


def test_without_frame_ancestors_a_foreign_host_cannot_frame_the_widget(page, config, host, ticket, db, app_key):
    plain = dict(config, zendesk={k: v for k, v in config["zendesk"].items() if k != "frame_ancestors"})
    with LiveServer(create_app(plain)) as server:
        with page.expect_console_message(lambda m: "frame-ancestors" in m.text) as refused, \
                page.expect_response(lambda r: "/widget?" in r.url) as answered:
            page.goto(host.serve(server.url, app_key.token("acme")))
        response = answered.value
        assert response.status == 200                          # the token was good: the CSP is what refuses
        assert response.headers["content-security-policy"].endswith("frame-ancestors 'self' https://acme.zendesk.com")
        assert "violates the following Content Security Policy directive" in refused.value.text
        page.wait_for_function("window.frameLoads > 0")       # the frame finished loading …
        frame = page.frame(name="app")
        assert frame.url == "chrome-error://chromewebdata/"    # … as Chromium's error page, not the widget
        assert frame.locator("#ks-root").count() == 0
    assert page.evaluate("window.handshakes") == []
    assert events(db, "viewed") == []


@pytest.mark.parametrize("value", ["http://support.example.com", "https://support.example.com/path",
                                   "https://a.example; script-src *", "'self'", "*"])
def test_frame_ancestors_must_be_plain_origins(value):
    with pytest.raises(settings.ConfigError, match="zendesk.frame_ancestors"):
        settings.load({"zendesk": {"frame_ancestors": value}}, environ={})


def test_frame_ancestors_accepts_https_and_loopback_origins():
    value = "https://support.example.com https://*.example.org:8443 http://127.0.0.1:5000 http://localhost"
    assert settings.load({"zendesk": {"frame_ancestors": value}}, environ={})["zendesk"]["frame_ancestors"] == value


def test_unknown_ticket_is_ranked_from_zendesk_text_on_every_opening(page, host, unknown_ticket, db, app_key,
                                                                    fake_zendesk):
    url = host.serve(unknown_ticket.url, app_key.token("acme", user_id="4242"))
    for opening in (1, 2, 3):
        page.goto(url)
        app = page.frame_locator("iframe[name=app]")
        card = app.locator(".ks-suggested .ks-article", has_text=ARTICLE["title"])
        card.wait_for()                                        # ranked from the ticket text the host gave
        assert app.locator(".ks-suggested .ks-computed").is_visible()
        assert app.locator(".ks-path").inner_text() == "Hardware › Printers"
        assert app.locator(".ks-node .badge").inner_text() == "inferred from text"
        assert app.locator(".ks-subject").inner_text() == ZENDESK_DATA["ticket.subject"]
        assert app.locator(".ks-results").is_hidden()
        assert app.locator(".ks-suggested .ks-empty").is_hidden() and app.get_by_text("not mapped yet").count() == 0
        assert app.locator(".ks-macros .ks-empty").is_hidden()
        macro = app.locator(".ks-macro", has_text=MACRO["title"])
        if opening == 1:
            macro.get_by_role("button", name="Insert").click()
            macro.get_by_text("Inserted into the reply").wait_for()
            assert page.evaluate("window.appended")[0].startswith("Hi Maria,\nplease restart the print spooler")
            card.get_by_role("button", name="Reuse").click()
            card.get_by_text("Reuse recorded").wait_for()
        assert card.locator("[data-action=reuse]").inner_text() == "Reused ✓"     # remembered on later openings
    assert len(events(db, "viewed")) == 3 and len(events(db, "reused")) == 1 and len(events(db, "macro_inserted")) == 1
    # Events are recorded only on real tickets: Zendesk confirmed this one (read once through its API, with the
    # agent's name), so it is kept with Zendesk's text, not the browser's.
    assert db.execute("SELECT subject FROM tickets").fetchall() == [(ZENDESK_DATA["ticket.subject"],)]
    assert len(fake_zendesk.calls("GET", f"/api/v2/tickets/{TICKET_ID}.json")) == 1
