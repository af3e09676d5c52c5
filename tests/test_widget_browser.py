"""The sidebar widget and the demo ticket page in real headless Chromium, against the app on 127.0.0.1."""
from __future__ import annotations

import pytest
from conftest import ADMIN_TOKEN, APP_INSTALLATION, LiveServer, sign_in

from app import create_app
from integrations.base import Ticket
from tickets import intake

pytestmark = pytest.mark.browser

XSS = "<img src=x onerror=alert(1)>"
ARTICLES = [
    {"external_id": "printer-offline", "title": "Office printer shows offline after Windows update",
     "issue": "The printer is listed as offline for everyone.", "environment": "Windows 11, network printer",
     "resolution": "Restart the Print Spooler service, then remove and re-add the printer.",
     "cause": "The update resets the printer port.", "language": "en", "taxonomy": ["Hardware", "Printers"]},
    {"external_id": "printer-xss", "title": f"Printer queue stuck {XSS}",
     "body": "Clear the printer queue and restart the spooler when the printer is offline.",
     "language": "en", "taxonomy": ["Hardware", "Printers"]},
]
MACRO = {"external_id": "printer-restart", "title": "Printer offline: restart the spooler",
         "body": "Hi {{ requester.first_name or 'there' }},\nplease restart the print spooler; the printer is "
                 "offline after the update.", "language": "en", "taxonomy": ["Hardware", "Printers"]}
TICKET_SUBJECT = f"Printer offline since the update {XSS}"


@pytest.fixture
def config(tmp_path, app_key):
    return {"database": str(tmp_path / "sidecar.db"), "admin_token": ADMIN_TOKEN,
            "zendesk": {"subdomain": "acme", "app_public_key": app_key.public_pem,
                        "app_installation_id": APP_INSTALLATION, "webhook_secret": "whsec",
                        "write_back": "off"},
            "server": {"session_secret": "test-session-secret-0123456789abcdef"}, "demo": {"enabled": True}}


@pytest.fixture
def ticket(client, admin, db, app):
    """Articles and a macro through the API, a ticket through intake (as the webhook does)."""
    assert client.post("/api/articles/import", json={"articles": ARTICLES}, headers=admin).get_json()["created"] == 2
    assert client.post("/api/macros", json={"macros": [MACRO]}, headers=admin).get_json()["created"] == 1
    result = intake.handle(db, app.config["KS"], Ticket(
        "zendesk", "9001", subject=TICKET_SUBJECT,
        description="Our office printer is offline for everyone after the Windows update."))
    assert {a["external_id"] for a in result["articles"]} == {"printer-offline", "printer-xss"}
    assert result["macros"], "the macro is suggested for the ticket"
    return "9001"


def article_id(db, external_id: str) -> int:
    return db.execute("SELECT id FROM articles WHERE external_id = ?", (external_id,)).fetchone()[0]


def events(db, kind: str) -> list[tuple]:
    return db.execute("SELECT agent, article_id, macro_id, reason, query FROM events WHERE kind = ? ORDER BY id",
                      (kind,)).fetchall()


def card(page, external_title: str):
    return page.locator(".ks-suggested .ks-article", has_text=external_title)


def test_demo_page_reuse_flag_insert_macro_and_create_article(page, live_server, ticket, db):
    sign_in(page, f"{live_server.url}/demo/tickets/{ticket}", ADMIN_TOKEN)
    first = card(page, ARTICLES[0]["title"])
    first.get_by_role("button", name="Reuse").click()
    first.get_by_text("Reuse recorded").wait_for()
    assert events(db, "reused") == [("demo-agent", article_id(db, "printer-offline"), None, None, None)]

    first.get_by_role("button", name="Flag").click()
    first.locator("textarea[name=reason]").fill("Step 2 is outdated: Windows 11 hides the spooler in Services")
    first.locator("select[name=category]").select_option("outdated")
    first.get_by_role("button", name="Send flag").click()
    # The article has no owner: the widget says so instead of claiming someone was told.
    first.get_by_text("Flag recorded. This article has no owner yet").wait_for()
    assert events(db, "flagged") == [("demo-agent", article_id(db, "printer-offline"), None,
                                      "Step 2 is outdated: Windows 11 hides the spooler in Services", None)]

    macro = page.locator(".ks-macro", has_text=MACRO["title"])
    macro.get_by_role("button", name="Insert").click()
    macro.get_by_text("Inserted into the reply").wait_for()
    reply = page.locator("#demo-comment").input_value()
    assert "please restart the print spooler" in reply and "Hi there," in reply   # rendered by the server
    macro_id = db.execute("SELECT id FROM macros WHERE external_id = 'printer-restart'").fetchone()[0]
    assert events(db, "macro_inserted") == [("demo-agent", None, macro_id, None, None)]

    page.get_by_text("Create article from this ticket").click()
    form = page.locator(".ks-create-form")
    assert form.locator("input[name=title]").input_value() == TICKET_SUBJECT     # prefilled from the ticket
    form.locator("input[name=title]").fill("Printer offline after update on Windows 11")
    form.locator("textarea[name=resolution]").fill("Run the printer troubleshooter, then restart the spooler.")
    form.get_by_role("button", name="Create as work in progress").click()
    # KCS: the articles that already say the same are shown first; the agent may reuse one instead.
    similar = form.locator(".ks-similar")
    similar.locator(".ks-article", has_text=ARTICLES[0]["title"]).wait_for()
    assert len(events(db, "created")) == 0
    similar.get_by_role("button", name="None of these: create mine").click()
    page.locator(".ks-created").get_by_text("created as work in progress").wait_for()
    row = db.execute("SELECT state, visibility, source_ticket, issue, owner, id FROM articles "
                     "WHERE title = 'Printer offline after update on Windows 11'").fetchone()
    assert page.locator(".ks-created").inner_text() == (
        f"Article #{row[5]} “Printer offline after update on Windows 11” created as work in progress. "
        "Thank you for capturing it.")
    assert row[:3] == ("wip", "internal", f"zendesk:{ticket}")
    assert "offline for everyone" in row[3] and row[4] == "demo-agent"
    assert len(events(db, "created")) == 1
    assert len(events(db, "viewed")) == 1
    assert page.dialogs == []


def test_markup_in_titles_and_subjects_renders_as_text(page, live_server, ticket):
    sign_in(page, f"{live_server.url}/demo/tickets/{ticket}", ADMIN_TOKEN)
    page.get_by_text(f"Printer queue stuck {XSS}").wait_for()                  # the article title, literally
    assert page.locator(".demo-subject").inner_text() == TICKET_SUBJECT        # the ticket subject, literally
    assert page.locator("img").count() == 0
    page.locator(".ks-search input").fill("printer queue stuck")
    page.locator(".ks-search").get_by_role("button", name="Search").click()
    page.locator(".ks-results .ks-article", has_text="Printer queue stuck").first.wait_for()
    assert page.locator("img").count() == 0                                      # nor from JS-rendered results
    assert page.dialogs == []


def test_search_box_shows_highlighted_results_and_records_the_search(page, live_server, ticket, db):
    sign_in(page, f"{live_server.url}/demo/tickets/{ticket}", ADMIN_TOKEN)
    page.locator(".ks-search input").fill("spooler")
    page.locator(".ks-search").get_by_role("button", name="Search").click()
    result = page.locator(".ks-results .ks-article").first
    result.wait_for()
    assert result.locator("mark").first.inner_text().lower() == "spooler"
    assert [e[4] for e in events(db, "searched")] == ["spooler"]     # recorded before the results are shown
    result.get_by_role("button", name="Reuse").click()
    result.get_by_text("Reuse recorded").wait_for()
    assert len(events(db, "reused")) == 1
    result.locator("summary", has_text="Steps").click()
    result.locator("dd[data-field=resolution]").wait_for()
    assert "spooler" in result.locator("dd[data-field=resolution]").inner_text().lower()


def test_widget_opened_with_api_token_works_without_the_token_in_the_page(browser, live_server, ticket, db):
    context = browser.new_context(extra_http_headers={"Authorization": "Bearer test-admin-token"})
    page = context.new_page()
    try:
        page.goto(f"{live_server.url}/widget?ticket={ticket}&integration=zendesk")
        assert "test-admin-token" not in page.content()
        first = card(page, ARTICLES[0]["title"])
        assert page.locator(".ks-path").inner_text() == "Hardware › Printers"
        first.get_by_role("button", name="Reuse").click()
        first.get_by_text("Reuse recorded").wait_for()
        macro = page.locator(".ks-macro", has_text=MACRO["title"])
        macro.get_by_role("button", name="Insert").click()                      # no Zendesk client here
        macro.get_by_text("No Zendesk client").wait_for()
        assert "print spooler" in macro.locator("textarea").input_value()
    finally:
        context.close()
    assert events(db, "reused") == [("bootstrap admin (KS_ADMIN_TOKEN)", article_id(db, "printer-offline"),
                                     None, None, None)]
    assert events(db, "macro_inserted") == []


# Zendesk's signed request followed by the ticket id from the ZAF client: tests/test_widget_zaf.py (real SDK).


def test_expired_signed_request_shows_the_401_page(page, live_server, ticket, app_key):
    token = app_key.token("acme", issued_at=1_600_000_000)
    page.goto(f"{live_server.url}/healthz")
    with page.expect_navigation():
        page.evaluate("""([url, token]) => { const f = document.createElement('form'); f.method = 'post';
            f.action = url; const i = document.createElement('input'); i.name = 'token'; i.value = token;
            f.append(i); document.body.append(f); f.submit(); }""", [f"{live_server.url}/widget", token])
    assert page.get_by_role("heading", name="Sign-in needed").is_visible()
    assert "expired" in page.locator(".ks-error").inner_text()


def test_page_reads_without_javascript(browser, live_server, ticket):
    context = browser.new_context(java_script_enabled=False)
    page = context.new_page()
    try:
        sign_in(page, f"{live_server.url}/demo/tickets/{ticket}", ADMIN_TOKEN)
        assert page.get_by_text(ARTICLES[0]["title"]).is_visible()
        assert page.locator(".ks-suggested mark").count() > 0
    finally:
        context.close()


RUSSIAN = {"external_id": "printer-ru", "title": "Принтер не печатает после обновления",
           "issue": "Принтер не печатает документы, очередь печати зависла.",
           "resolution": "Перезапустите службу диспетчера печати и очистите очередь.", "language": "ru",
           "taxonomy": ["Hardware", "Printers"]}


def test_articles_reused_on_the_ticket_show_as_reused_after_a_reload(page, live_server, ticket, db):
    url = f"{live_server.url}/demo/tickets/{ticket}"
    sign_in(page, url, ADMIN_TOKEN)
    card(page, ARTICLES[0]["title"]).get_by_role("button", name="Reuse").click()
    card(page, ARTICLES[0]["title"]).get_by_text("Reuse recorded").wait_for()
    page.reload()
    reused = card(page, ARTICLES[0]["title"]).locator("[data-action=reuse]")
    assert reused.inner_text() == "Reused ✓" and reused.is_disabled()          # rendered so by the server
    other = card(page, "Printer queue stuck").locator("[data-action=reuse]")
    assert other.inner_text() == "Reuse" and other.is_enabled()
    page.locator(".ks-search input").fill("spooler printer offline")               # a search result of it, too
    page.locator(".ks-search").get_by_role("button", name="Search").click()
    found = page.locator(".ks-results .ks-article", has_text=ARTICLES[0]["title"]).locator("[data-action=reuse]")
    found.wait_for()
    assert found.inner_text() == "Reused ✓" and found.is_disabled()
    assert len(events(db, "reused")) == 1


def test_created_article_closes_the_form_and_is_sent_once(page, live_server, ticket, db):
    sign_in(page, f"{live_server.url}/demo/tickets/{ticket}", ADMIN_TOKEN)
    sent = []
    page.on("request", lambda r: sent.append(r) if r.method == "POST" and "created" in (r.post_data or "") else None)
    page.get_by_text("Create article from this ticket").click()
    form = page.locator(".ks-create-form")
    form.locator("input[name=title]").fill("Printer offline: restart the spooler")
    form.locator("textarea[name=resolution]").fill("1. Restart the spooler\n2. Re-add the printer")
    form.get_by_role("button", name="Create as work in progress").dblclick()
    anyway = form.get_by_role("button", name="None of these: create mine")      # a similar article exists
    anyway.wait_for()
    anyway.dblclick()
    done = page.locator(".ks-created")
    done.wait_for()
    new_id = db.execute("SELECT id FROM articles WHERE title = 'Printer offline: restart the spooler'").fetchone()[0]
    assert done.inner_text().startswith(f"Article #{new_id} “Printer offline: restart the spooler” created")
    assert not page.locator("details.ks-create").evaluate("d => d.open")              # the form is closed …
    assert form.locator("textarea[name=resolution]").input_value() == ""           # … and cleared
    assert form.locator("input[name=title]").input_value() == TICKET_SUBJECT       # back to the ticket's subject

    page.get_by_text("Create article from this ticket").click()                    # a second article, submitted
    form.locator("textarea[name=resolution]").fill("Run the troubleshooter")       # twice while in flight
    form.evaluate("f => { f.requestSubmit(); f.requestSubmit(); }")
    anyway.wait_for()
    anyway.evaluate("b => { b.click(); b.click(); }")
    page.locator(".ks-created", has_text="Run the troubleshooter").or_(
        page.locator(".ks-created", has_text="Printer")).wait_for()
    page.wait_for_load_state("networkidle")
    assert len(sent) == 2
    made = db.execute("SELECT count(*) FROM articles WHERE source_ticket = ?", (f"zendesk:{ticket}",)).fetchone()[0]
    assert made == 2
    assert len(events(db, "created")) == 2


def test_search_box_finds_articles_in_the_language_of_the_query(page, live_server, ticket, client, admin, db):
    assert client.post("/api/articles/import", json={"articles": [RUSSIAN]}, headers=admin).get_json()["created"] == 1
    sign_in(page, f"{live_server.url}/demo/tickets/{ticket}", ADMIN_TOKEN)
    assert page.locator("#ks-panel").get_attribute("data-language") == "en"         # an English ticket …
    assert page.locator(".ks-suggested .ks-article", has_text=RUSSIAN["title"]).count() == 0
    page.locator(".ks-search input").fill("принтер не печатает")                      # … searched in Russian
    page.locator(".ks-search").get_by_role("button", name="Search").click()
    page.locator(".ks-results .ks-article", has_text=RUSSIAN["title"]).wait_for()
    assert [e[4] for e in events(db, "searched")] == ["принтер не печатает"]


def test_expired_session_says_so_in_plain_words(page, config, live_server, ticket, db):
    short = dict(config, server=dict(config["server"], session_ttl_s=1))
    with LiveServer(create_app(short)) as server:
        page.route(lambda url: "/widget?" in url, lambda route: route.continue_(
            headers={**route.request.headers, "authorization": f"Bearer {ADMIN_TOKEN}"}))
        page.goto(f"{server.url}/widget?ticket={ticket}&integration=zendesk")
        first = card(page, ARTICLES[0]["title"])
        first.wait_for()
        page.wait_for_function("""() => {                      // until the page's session is past its expiry
            const session = JSON.parse(document.getElementById("ks-boot").textContent).session;
            const claims = JSON.parse(atob(session.split(".")[1].replace(/-/g, "+").replace(/_/g, "/")));
            return Date.now() / 1000 > claims.exp + 0.05; }""")
        first.get_by_role("button", name="Reuse").click()
        expired = "Your session has expired. Reload the ticket to continue."
        first.locator(".ks-note").get_by_text(expired).wait_for()
        assert page.locator(".ks-status").inner_text() == expired
        assert first.get_by_role("button", name="Reuse").is_enabled()                 # it can be tried again
        page.locator(".ks-search input").fill("spooler")
        page.locator(".ks-search").get_by_role("button", name="Search").click()
        page.locator(".ks-status").get_by_text(expired).wait_for()
        assert "Bearer" not in page.locator("#ks-panel").inner_text()
    assert events(db, "reused") == [] and events(db, "searched") == []
