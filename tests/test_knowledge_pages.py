"""The KCS pages in headless Chromium: an article's page (read, edit every field, history, diff, restore, flags),
the flag queue and the notices page, signed in with API tokens as the people who use them."""
from __future__ import annotations

import re

import pytest
from conftest import known_ticket

from api_tokens import tokens
from tests.conftest import sign_in

pytestmark = pytest.mark.browser

ARTICLE = {"external_id": "parcel-1", "title": "Refund for a damaged parcel", "language": "en",
           "taxonomy": ["Orders", "Refunds"], "issue": "My parcel arrived broken",
           "environment": "Web shop, EU", "resolution": "Open the order.\nClick Refund.\nConfirm the amount.",
           "cause": "Carrier damage", "body": "Refunds for damaged parcels.", "keywords": ["refund", "damaged"],
           "type": "troubleshooting", "translation_group": "parcel", "owner": "olga", "review_by": "2030-01-01",
           "visibility": "internal", "state": "validated"}


def _import(client, admin, db, *items) -> list[int]:
    answer = client.post("/api/articles/import", headers=admin, json={"articles": list(items)})
    assert answer.status_code == 200 and not answer.json.get("errors"), answer.json
    return [db.execute("SELECT id FROM articles WHERE external_id = ?", (i["external_id"],)).fetchone()[0]
            for i in items]


def _bearer(token: str) -> dict:
    return {"Authorization": f"Bearer {token}"}


def _history(page) -> list[list[str]]:
    return [row.locator("td").all_inner_texts()[:4] for row in page.locator("#versions tbody tr").all()]


def test_publisher_edits_every_field_sees_the_diff_and_restores(client, admin, db, live_server, page):
    art, variant = _import(client, admin, db, ARTICLE,
                           {**ARTICLE, "external_id": "parcel-1-de", "language": "de",
                            "title": "Erstattung für ein beschädigtes Paket"})
    pat = tokens.create(db, "pat", "publisher")
    url = f"{live_server.url}/articles/{art}"
    sign_in(page, url, pat)
    assert page.url == url
    assert "Internal" in page.locator("#internal-mark").inner_text()
    assert page.locator("#fact-owner").inner_text() == "olga"
    assert page.locator("#fact-taxonomy").inner_text() == "Orders / Refunds"
    assert page.locator(f"#fact-language a[href='/articles/{variant}']").inner_text().startswith("de:")
    assert _history(page) == [["1 (current)", "bootstrap admin (KS_ADMIN_TOKEN)", _history(page)[0][2], ""]]

    page.fill("#f-title", "Refund or return for a damaged parcel")
    page.fill("#f-issue", "The parcel came damaged")
    page.fill("#f-environment", "Web shop and app, EU")
    page.fill("#f-resolution", "Open the order.\nClick Return.\nConfirm the amount.\nKeep the photo.")
    page.fill("#f-cause", "Damage in transit")
    page.fill("#f-body", "Refunds and returns for damaged parcels.")
    page.select_option("#f-state", "not_validated")
    page.select_option("#f-visibility", "public")
    page.select_option("#f-type", "reference")
    page.select_option("#f-language", "pl")
    page.fill("#f-translation_group", "parcel-returns")
    page.fill("#f-taxonomy", "Orders / Returns")
    page.fill("#f-owner", "oskar")
    page.fill("#f-review_by", "2031-06-30")
    page.fill("#f-keywords", "refund, return , damaged parcel")
    page.fill("#f-note", "Returns replace refunds")
    page.click("#edit-form button[type=submit]")
    page.wait_for_url(re.compile(r"done=edited"))
    assert page.locator("#notice").inner_text() == "Saved as a new version."
    assert _history(page)[0][:2] == ["2 (current)", "pat"] and _history(page)[0][3] == "Returns replace refunds"
    assert page.locator("#internal-mark").count() == 0

    now = client.get(f"/api/articles/{art}", headers=admin).json
    expected = {"title": "Refund or return for a damaged parcel", "issue": "The parcel came damaged",
                "environment": "Web shop and app, EU", "cause": "Damage in transit",
                "resolution": "Open the order.\nClick Return.\nConfirm the amount.\nKeep the photo.",
                "body": "Refunds and returns for damaged parcels.", "state": "not_validated", "visibility": "public",
                "type": "reference", "language": "pl", "translation_group": "parcel-returns",
                "taxonomy": ["Orders", "Returns"], "owner": "oskar", "review_by": "2031-06-30",
                "keywords": ["refund", "return", "damaged parcel"], "version": 2}
    assert {k: now[k] for k in expected} == expected

    page.locator("#versions tr[data-version='2'] a.diff-link").click()
    page.wait_for_url(re.compile(rf"/articles/{art}/diff\?from=1&to=2$"))
    resolution = page.locator("#change-resolution")
    assert resolution.locator("td.del").all_inner_texts() == ["Click Refund."]
    assert resolution.locator("td.ins").all_inner_texts() == ["Click Return.", "Keep the photo."]
    assert resolution.locator("tr.same td").all_inner_texts()[:2] == ["Open the order.", "Open the order."]
    assert page.locator("#change-title td.del").inner_text() == "Refund for a damaged parcel"
    assert page.locator("#change-title td.ins").inner_text() == "Refund or return for a damaged parcel"
    assert page.locator("#change-taxonomy td.ins").inner_text() == "Orders / Returns"
    assert page.locator("#compared").inner_text().count("Returns replace refunds") == 1

    page.click("#back-to-article")
    page.locator("#versions tr[data-version='1'] .restore-form button").click()
    page.wait_for_url(re.compile(r"done=restored"))
    assert _history(page)[0][0] == "3 (current)" and _history(page)[0][3] == "restored version 1"
    history = client.get(f"/api/articles/{art}/versions", headers=admin).json["versions"]
    assert history[0]["fields"] == history[2]["fields"]
    assert page.locator("#fact-state").inner_text() == "validated"
    assert page.locator("#internal-mark").count() == 1
    assert page.dialogs == []


def test_owner_agent_improves_wip_article_but_cannot_validate_it(client, admin, db, live_server, page):
    (art,) = _import(client, admin, db, {**ARTICLE, "external_id": "wip-1", "state": "wip", "owner": "wanda",
                                          "translation_group": None})
    wanda = tokens.create(db, "wanda", "agent")
    sign_in(page, f"{live_server.url}/articles/{art}", wanda)
    assert "validating, archiving" in page.locator("#edit").inner_text()
    page.fill("#f-resolution", "Open the order.\nClick Refund.\nAttach the photo.")
    page.select_option("#f-state", "not_validated")
    page.fill("#f-note", "Ready for review")
    page.click("#edit-form button[type=submit]")
    page.wait_for_url(re.compile(r"done=edited"))
    assert page.locator("#fact-state").inner_text() == "not_validated"
    assert page.locator("#text-resolution").inner_text().endswith("Attach the photo.")

    page.select_option("#f-state", "validated")
    page.fill("#f-cause", "Typed but refused")
    page.click("#edit-form button[type=submit]")
    page.wait_for_load_state()
    assert "needs a publisher" in page.locator("#form-error").inner_text()
    assert page.input_value("#f-cause") == "Typed but refused"
    assert page.input_value("#f-state") == "validated"
    now = client.get(f"/api/articles/{art}", headers=admin).json
    assert (now["state"], now["cause"], now["version"]) == ("not_validated", "Carrier damage", 2)

    # Someone else saves meanwhile: the owner's save is not allowed to undo it unseen; what they typed is kept.
    assert client.patch(f"/api/articles/{art}", headers=admin, json={"title": "Renamed meanwhile"}).status_code == 200
    page.select_option("#f-state", "not_validated")
    page.click("#edit-form button[type=submit]")
    page.wait_for_load_state()
    assert "changed (now version 3)" in page.locator("#form-error").inner_text()
    assert page.input_value("#f-cause") == "Typed but refused"
    assert client.get(f"/api/articles/{art}", headers=admin).json["cause"] == "Carrier damage"


def test_an_agent_who_is_not_the_owner_reads_without_editing(client, admin, db, live_server, page):
    (art,) = _import(client, admin, db, ARTICLE)
    nina = tokens.create(db, "nina", "agent")
    sign_in(page, f"{live_server.url}/articles/{art}", nina)
    assert page.locator("#text-resolution").inner_text() == ARTICLE["resolution"]
    assert page.locator("#text-issue").inner_text() == ARTICLE["issue"]
    assert page.locator("#fact-keywords").inner_text() == "refund, damaged"
    assert page.locator("#internal-mark").count() == 1
    assert page.locator("#edit-form").count() == page.locator("#history").count() == 0
    forged = page.request.post(f"{live_server.url}/articles/{art}", form={"title": "Taken over"})
    assert forged.status == 403
    page.goto(f"{live_server.url}/articles/{art}/diff?from=1&to=1")
    assert "history is for" in page.content()
    assert client.get(f"/api/articles/{art}", headers=admin).json["title"] == ARTICLE["title"]
    page.goto(f"{live_server.url}/articles/999999")
    assert "no article 999999" in page.content()


def test_flags_fixed_on_the_article_page_and_rejected_in_the_queue_tell_the_flagger(client, admin, db, live_server,
                                                                                  page):
    evil = "<script>alert('title')</script> Parcel lost"
    (art,) = _import(client, admin, db, {**ARTICLE, "title": evil})
    olga, fred = tokens.create(db, "olga", "agent"), tokens.create(db, "fred", "agent")
    known_ticket(db, "7", "8")
    events = "/api/tickets/zendesk/{}/events"
    assert client.post(events.format(7), headers=_bearer(fred),
                       json={"kind": "reused", "article_id": art}).status_code == 201
    first = client.post(events.format(7), headers=_bearer(fred), json={
        "kind": "flagged", "article_id": art, "category": "outdated",
        "reason": "<img src=x onerror=alert(1)> the carrier changed"}).json["flag"]["id"]
    second = client.post(events.format(8), headers=_bearer(fred), json={
        "kind": "flagged", "article_id": art, "category": "unclear", "reason": "Which form?"}).json["flag"]["id"]

    sign_in(page, f"{live_server.url}/articles/{art}", olga)
    assert page.locator("h1").inner_text() == evil
    assert page.locator(f"#flag-{first} .reason").inner_text() == "<img src=x onerror=alert(1)> the carrier changed"
    page.fill("#f-resolution", "Open the order.\nClick Refund.\nBook the pickup with DHL.")
    page.check(f"#fix-{first}")
    page.fill("#f-note", "Carrier is DHL now")
    page.click("#edit-form button[type=submit]")
    page.wait_for_url(re.compile(r"done=edited"))
    assert page.locator("#open-flags .flag").count() == 1 and page.locator(f"#flag-{second}").count() == 1

    page.goto(f"{live_server.url}/flags")
    assert page.locator("#flag-queue tbody tr").count() == 1
    page.fill(f"#reject-note-{second}", "   ")
    page.click(f"#reject-{second} button")
    page.wait_for_load_state()
    assert "needs a note" in page.locator("#form-error").inner_text()
    page.fill(f"#reject-note-{second}", "Step 2 names the form <b>R-7</b>")
    page.click(f"#reject-{second} button")
    page.wait_for_url(re.compile(r"done=rejected"))
    assert page.locator("#flag-queue tbody tr[data-flag-id]").count() == 0

    page.select_option("#filter-status", "resolved")
    page.click("#flag-filters button")
    page.wait_for_url(re.compile(r"status=resolved"))
    fixed = page.locator(f"#flag-queue tr[data-flag-id='{first}'] .outcome")
    assert fixed.inner_text().startswith("Fixed in version 2 by olga")
    assert fixed.locator("a").get_attribute("href") == f"/articles/{art}/diff?from=1&to=2"
    rejected = page.locator(f"#flag-queue tr[data-flag-id='{second}'] .outcome")
    assert "Rejected by olga" in rejected.inner_text() and "Step 2 names the form <b>R-7</b>" in rejected.inner_text()
    assert " h)" in rejected.inner_text()

    page.context.clear_cookies()                         # a lead sees everyone's flags, filtered by owner
    sign_in(page, f"{live_server.url}/flags?status=all&owner=olga", tokens.create(db, "lee", "lead"))
    assert page.locator("#flag-queue tbody tr[data-flag-id]").count() == 2
    assert page.input_value("#filter-owner") == "olga"
    assert page.locator(f"#reject-{second}").count() == 0

    page.context.clear_cookies()
    sign_in(page, f"{live_server.url}/notices", fred)
    assert page.locator("#unread-count").inner_text() == "3 unread"
    kinds = [i.get_attribute("data-kind") for i in page.locator("#notices li.unread").all()]
    assert kinds == ["flag_resolved", "article_changed", "flag_resolved"]       # newest first
    outcomes = page.locator("#notices li[data-kind='flag_resolved']").all_inner_texts()
    assert "was rejected by olga" in outcomes[0] and "<b>R-7</b>" in outcomes[0]
    assert "was fixed in version 2 by olga" in outcomes[1]
    changed = page.locator("#notices li[data-kind='article_changed']")
    assert evil in changed.inner_text()
    changed.locator("a.diff-link").click()
    page.wait_for_url(re.compile(rf"/articles/{art}/diff\?from=1&to=2$"))
    assert page.locator("#change-resolution td.ins").inner_text() == "Book the pickup with DHL."

    page.goto(f"{live_server.url}/notices")
    page.locator("#notices li[data-kind='article_changed'] .mark-read button").click()
    page.wait_for_url(re.compile(r"done=read"))
    assert page.locator("#unread-count").inner_text() == "2 unread"
    assert page.locator("#notices li[data-kind='article_changed']").get_attribute("class") == "notice-item read"
    page.click("#mark-all-read button")
    page.wait_for_url(re.compile(r"done=read"))
    assert page.locator("#unread-count").inner_text() == "0 unread" and page.locator("#notices li.unread").count() == 0
    assert client.get("/api/notices", headers=_bearer(fred)).json["unread"] == 0
    assert page.dialogs == []
