"""/admin/integrations in headless Chromium: each helpdesk with its webhook and write-back state, its last delivery,
that delivery's status and the last error, after real deliveries and a real worker run against the fakes."""
from __future__ import annotations

import csv
import io

import pytest
from conftest import sign_in
from fake_freshdesk import WEBHOOK_SECRET as FRESHDESK_SECRET
from fake_freshdesk import FakeFreshdesk
from fake_zammad import FakeZammad, zammad_config

from integrations.base import Ticket
from integrations.zammad import client as zammad
from jobs.worker import drain
from tickets import events, intake


@pytest.fixture
def fakes():
    zammad_api, freshdesk_api = FakeZammad().start(), FakeFreshdesk().start()
    yield zammad_api, freshdesk_api
    zammad_api.stop()
    freshdesk_api.stop()


@pytest.fixture
def config(config, fakes):
    config["zammad"] = zammad_config(fakes[0])
    config["freshdesk"] = {"webhook_secret": FRESHDESK_SECRET}            # webhooks in, but no API: jobs wait
    return config


@pytest.mark.browser
def test_integrations_page_shows_last_delivery_status_and_errors(client, admin, db, app, fakes, live_server, page):
    zammad_api, freshdesk_api = fakes
    client.post("/api/articles/import", headers=admin, json={"articles": [
        {"external_id": "p1", "title": "Printer jams on every page", "language": "en",
         "body": "Open the rear tray and remove the paper.", "taxonomy": ["Hardware", "Printers"]}]})
    zammad_api.add_ticket(81, "Printer jams", "<p>The printer jams on every page</p>")
    raw, headers = zammad_api.webhook(81, delivery="zammad-delivery-1")
    assert client.post("/webhooks/zammad", data=raw, headers=headers).status_code == 202
    freshdesk_api.add_ticket(11, "Printer jams", "<div>jams again</div>")
    raw, headers = freshdesk_api.webhook(11)
    assert client.post("/webhooks/freshdesk", data=raw, headers=headers).status_code == 202
    raw, headers = freshdesk_api.webhook(11, secret="not-the-secret-at-all")
    assert client.post("/webhooks/freshdesk", data=raw, headers=headers).status_code == 401   # not stored

    cfg = app.config["KS"]
    zammad_api.fail_next(503)
    assert drain(db, cfg, zammad.from_config(cfg), integration="zammad")["retry"] == 1
    assert drain(db, cfg, None, integration="freshdesk")["held"] >= 1

    sign_in(page, live_server.url + "/admin", "test-admin-token")
    page.get_by_role("link", name="Integrations").click()
    page.wait_for_url("**/admin/integrations")
    rows = {r.get_attribute("data-integration"): r for r in page.locator("#integrations tbody tr").all()}
    assert list(rows) == ["zendesk", "zammad", "freshdesk"]

    z = rows["zammad"]
    assert z.locator(".webhook").inner_text().startswith("http://127.0.0.1:8000/webhooks/zammad")
    assert "secret set" in z.locator(".webhook").inner_text()
    assert z.locator(".write-back").inner_text().strip() == "note_and_tags"
    assert z.locator(".status").inner_text().startswith("processed")
    assert "1 in all" in z.locator(".last-delivery").inner_text()
    assert "503" in z.locator(".last-error").inner_text() and "note on #81" in z.locator(".last-error").inner_text()

    f = rows["freshdesk"]
    assert f.locator(".status").inner_text().startswith("processed")
    assert "API not configured" in f.locator(".write-back").inner_text()
    assert "freshdesk not configured" in f.locator(".last-error").inner_text()

    zd = rows["zendesk"]
    assert "none yet" in zd.locator(".last-delivery").inner_text()
    assert "API not configured" in zd.locator(".write-back").inner_text()
    assert '"ticket_id": "{{ticket.id}}"' in page.locator("#freshdesk-rule-body").inner_text()


def test_reports_filter_and_group_by_integration(client, admin, db, app):
    client.post("/api/articles/import", headers=admin, json={"articles": [
        {"external_id": "p1", "title": "Printer jams on every page", "language": "en",
         "body": "Open the rear tray and remove the paper.", "taxonomy": ["Hardware", "Printers"]}]})
    cfg = app.config["KS"]
    for integration, ticket_id in (("zendesk", "1"), ("zammad", "81"), ("zammad", "82"), ("freshdesk", "11")):
        result = intake.handle(db, cfg, Ticket(integration, ticket_id, "Printer jams", "The printer jams on a page"))
        if ticket_id in ("81", "11"):
            reuse = events.Event("reused", "ann", article_id=result["articles"][0]["id"])
            events.record(db, cfg, integration, ticket_id, reuse)

    grouped = client.get("/api/reports/reuse?group=integration", headers=admin).get_json()
    rows = {r["integration"]: r for r in grouped["by_integration"]}
    assert [r["integration"] for r in grouped["by_integration"]] == ["zammad", "freshdesk", "zendesk"]
    assert {k: rows["zammad"][k] for k in ("tickets", "tickets_with_suggestions", "tickets_with_reuse", "reuse_rate",
                                           "reuses")} == {"tickets": 2, "tickets_with_suggestions": 2,
                                                          "tickets_with_reuse": 1, "reuse_rate": 0.5, "reuses": 1}
    assert (rows["zendesk"]["tickets"], rows["zendesk"]["reuses"]) == (1, 0)

    only = client.get("/api/reports/reuse?integration=zammad", headers=admin).get_json()
    assert only["integration"] == "zammad"
    assert (only["totals"]["tickets"], only["totals"]["tickets_with_reuse"], only["totals"]["reuses"]) == (2, 1, 1)
    assert [r["integration"] for r in only["by_integration"]] == ["zammad"]
    assert [(r["agent"], r["tickets"]) for r in only["by_agent"]] == [("ann", 1)]

    text = client.get("/api/reports/reuse?group=integration&format=csv", headers=admin).get_data(as_text=True)
    table = list(csv.DictReader(io.StringIO(text)))
    assert [(r["integration"], r["tickets"], r["reuses"]) for r in table] == [
        ("zammad", "2", "1"), ("freshdesk", "1", "1"), ("zendesk", "1", "0")]
    bad = client.get("/api/reports/reuse?integration=nosuch", headers=admin)
    assert bad.status_code == 400 and "integration must be one of" in bad.get_json()["message"]
