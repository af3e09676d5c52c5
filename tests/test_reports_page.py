"""The /reports page in headless Chromium: sign-in, figures, chart, date form, CSV download."""
from __future__ import annotations

import csv
from datetime import UTC, datetime, timedelta

import pytest

from tests.conftest import ADMIN_TOKEN, sign_in
from tests.report_data import seed

pytestmark = pytest.mark.browser


def _token(headers: dict) -> str:
    return headers["Authorization"].split(" ", 1)[1]


def test_lead_sees_the_figures(app, client, admin, db, live_server, page):
    data = seed(app, client, admin, db)
    xss = "<img src=x onerror=alert(1)>"
    resp = client.post("/api/tickets/zendesk/101/events", json={"kind": "viewed", "agent": xss}, headers=admin)
    assert resp.status_code == 201

    sign_in(page, f"{live_server.url}/reports", _token(data["lead"]))
    assert page.url == f"{live_server.url}/reports"
    cookie = next(c for c in page.context.cookies() if c["name"] == "ks_page_session")
    assert cookie["httpOnly"] and cookie["sameSite"] == "Strict"

    assert page.locator("#total-reuse-rate").inner_text() == "33.3%"
    assert page.locator("#total-with-suggestions").inner_text() == "3"
    assert page.locator("#total-with-reuse").inner_text() == "1"
    assert page.locator("#total-without-suggestions").inner_text() == "2"
    assert page.locator("#total-flags").inner_text() == "1"
    assert page.locator("#total-creates").inner_text() == "1"
    refunds = page.locator("#by-node tr", has_text="Orders / Refunds")
    assert refunds.locator("td").all_inner_texts()[:6] == ["Orders / Refunds", "2", "2", "0", "1", "50.0%"]
    assert page.locator("#by-agent tbody tr").first.locator("td").first.inner_text() == "alice"
    assert page.locator("#by-agent", has_text=xss).count() == 1      # shown as text
    assert page.locator("#gaps", has_text="no articles").count() == 1
    assert page.locator("#trend-chart rect.bar.suggested").count() >= 5
    assert page.locator("text=How the figures are counted").count() == 1
    assert page.dialogs == []

    with page.expect_download() as download:
        page.click("#csv-node")
    with open(download.value.path(), encoding="utf-8", newline="") as fh:
        rows = list(csv.DictReader(fh))
    assert download.value.suggested_filename.startswith("reuse-by-node-")
    assert {r["path"]: r["tickets_with_reuse"] for r in rows}["Orders / Refunds"] == "1"

    # The date form: a range with no activity.
    page.fill("#from", "2023-01-01")
    page.fill("#to", "2023-01-31")
    page.click("#range-form button[type=submit]")
    page.wait_for_url("**/reports?from=2023-01-01&to=2023-01-31")
    assert page.locator("#total-with-suggestions").inner_text() == "0"
    assert page.locator("#report-range").inner_text().startswith("2023-01-01 to 2023-01-31")


def test_sign_in_form_and_roles(app, client, admin, db, live_server, page):
    data = seed(app, client, admin, db)
    today = datetime.now(UTC).date()
    target = f"/reports?from={(today - timedelta(days=2)).isoformat()}&to={today.isoformat()}"
    resp = page.goto(live_server.url + target)
    assert resp.status == 401
    page.fill("#token", "not-a-token")
    page.click("#signin-form button[type=submit]")
    assert "not valid" in page.locator("#signin-error").inner_text()

    page.fill("#token", _token(data["alice"]))
    page.click("#signin-form button[type=submit]")
    assert "needs the lead role" in page.content()          # an agent is signed in, but may not read reports

    page.context.clear_cookies()
    page.goto(live_server.url + target)
    page.fill("#token", _token(data["lead"]))
    page.click("#signin-form button[type=submit]")
    page.wait_for_url(live_server.url + target)
    assert page.locator("#total-with-suggestions").inner_text() == "3"

    page.click("form.whoami button[type=submit]")           # sign out
    assert page.locator("#signin-form").count() == 1


def test_bad_range_on_the_page(app, live_server, page):
    sign_in(page, f"{live_server.url}/reports", ADMIN_TOKEN)
    resp = page.goto(f"{live_server.url}/reports?from=2024-05-02&to=2024-05-01")
    assert resp.status == 400
    assert "is after to" in page.locator("#report-error").inner_text()
