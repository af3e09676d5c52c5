"""A ticket nothing in the knowledge base fits: an empty sidebar that says so and offers the next steps
(real headless Chromium against the app on 127.0.0.1)."""
from __future__ import annotations

import pytest
from conftest import ADMIN_TOKEN, APP_INSTALLATION, sign_in

from demo import load as demo
from integrations.base import Ticket
from tickets import intake

pytestmark = pytest.mark.browser


@pytest.fixture
def config(tmp_path, app_key):
    return {"database": str(tmp_path / "sidecar.db"), "admin_token": ADMIN_TOKEN,
            "zendesk": {"subdomain": "acme", "app_public_key": app_key.public_pem,
                        "app_installation_id": APP_INSTALLATION, "webhook_secret": "whsec",
                        "write_back": "off"},
            "server": {"session_secret": "test-session-secret-0123456789abcdef"}, "demo": {"enabled": True}}


@pytest.fixture
def tickets(db, app):
    """The demo knowledge base (articles in four languages, the shipped macros), an off-topic ticket and a
    password ticket, both through intake as the webhook does."""
    demo.load(db)
    cfg = app.config["KS"]
    weather = intake.handle(db, cfg, Ticket("zendesk", "501", subject="The weather is nice today",
                                            description="Just wanted to say hello."))
    password = intake.handle(db, cfg, Ticket("zendesk", "502", subject="Password reset email never arrived",
                                             description="I asked for a reset link twice and got nothing."))
    assert weather["articles"] == [] and weather["macros"] == []
    assert password["articles"] and password["articles"][0]["title"] == "Password reset email does not arrive"
    return {"weather": "501", "password": "502"}


def test_an_irrelevant_ticket_gets_an_empty_sidebar_that_says_nothing_fits(page, live_server, tickets):
    sign_in(page, f"{live_server.url}/demo/tickets/{tickets['weather']}", ADMIN_TOKEN)
    guidance = page.locator(".ks-suggested .ks-nothing-fits")
    guidance.wait_for()
    assert "Nothing in the knowledge base fits this ticket." in guidance.inner_text()
    assert page.locator(".ks-suggested .ks-article").count() == 0
    assert page.locator(".ks-macros .ks-macro").count() == 0

    guidance.get_by_role("button", name="Search the knowledge base").click()
    assert page.evaluate("document.activeElement.name") == "q"             # the search box has the focus
    assert "flow for this kind of ticket, or escalate" in guidance.inner_text()   # no node: none fits

    guidance.get_by_role("button", name="create an article").click()
    assert page.locator("details.ks-create").get_attribute("open") is not None
    assert page.evaluate("document.activeElement.name") == "title"
    assert page.locator(".ks-create-form input[name=title]").input_value() == "The weather is nice today"
    assert page.dialogs == []


def test_a_ticket_an_article_fits_shows_it_with_its_confidence_and_the_fix(page, live_server, tickets):
    sign_in(page, f"{live_server.url}/demo/tickets/{tickets['password']}", ADMIN_TOKEN)
    card = page.locator(".ks-suggested .ks-article").first
    card.wait_for()
    assert card.locator(".ks-title").inner_text() == "Password reset email does not arrive"
    badge = card.locator(".ks-confidence-badge")
    assert badge.is_visible() and badge.inner_text().endswith("% match")
    assert int(badge.inner_text().split("%")[0]) >= 50
    # the snippet is a step of the resolution, with the ticket's words marked
    snippet = card.locator(".ks-snippet").inner_text()
    assert snippet.startswith(("1.", "2.", "3.", "4.")), snippet
    assert card.locator(".ks-snippet mark").count() >= 1
    assert page.locator(".ks-nothing-fits").count() == 0


def test_the_agents_own_search_still_lists_the_best_matches(page, live_server, tickets):
    sign_in(page, f"{live_server.url}/demo/tickets/{tickets['weather']}", ADMIN_TOKEN)
    page.locator(".ks-search input").fill("parcel late tracking")
    page.locator(".ks-search").get_by_role("button", name="Search").click()
    page.locator(".ks-results .ks-article", has_text="Parcel is late").first.wait_for()
