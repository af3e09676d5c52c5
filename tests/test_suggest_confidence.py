"""Confidence and abstention: every suggestion says how likely it answers the ticket, and a ticket nothing
fits gets no suggestion at all (and counts as a knowledge gap)."""
from __future__ import annotations

from datetime import UTC, datetime

import pytest

from demo import load as demo
from integrations.base import Ticket
from suggest.engine import Index
from suggest.rank import Query, suggest
from tickets import intake, reports


@pytest.fixture
def demo_db(db):
    demo.load(db)
    return db


def ask(client, admin, **body):
    resp = client.post("/api/suggest", json=body, headers=admin)
    assert resp.status_code == 200, resp.get_json()
    return resp.get_json()


def test_every_article_and_macro_carries_a_confidence_and_the_default_threshold_applies(client, admin, demo_db, app):
    threshold = app.config["KS"]["suggest"]["min_confidence"]
    assert 0 < threshold < 1
    whole = ask(client, admin, subject="Password reset email never arrived", min_confidence=0)
    shown = ask(client, admin, subject="Password reset email never arrived")
    for out in (whole, shown):
        for item in out["articles"] + out["macros"]:
            assert isinstance(item["confidence"], float) and 0 <= item["confidence"] <= 1
    capped = ask(client, admin, subject="Password reset email never arrived", min_confidence=0, limit=3)
    assert [a["id"] for a in capped["articles"]] == [a["id"] for a in whole["articles"][:3]]   # limit still caps
    assert [a["id"] for a in shown["articles"]] == [a["id"] for a in whole["articles"]
                                                    if a["confidence"] >= threshold]
    assert shown["articles"][0]["title"] == "Password reset email does not arrive"
    assert len(shown["articles"]) < len(whole["articles"])           # the refund articles are not offered
    assert all(a["confidence"] < threshold for a in whole["articles"] if "Refund" in a["title"])


def test_the_weather_gets_no_article_no_macro_and_no_inferred_node(client, admin, demo_db):
    out = ask(client, admin, subject="The weather is nice today")
    assert out["articles"] == [] and out["macros"] == []
    assert out["taxonomy"] == {"path": [], "source": "none", "confidence": 0.0}
    assert len(ask(client, admin, subject="The weather is nice today", min_confidence=0)["articles"]) == 10


def test_polish_login_ticket_gets_the_login_article_and_not_the_late_parcel(client, admin, demo_db):
    out = ask(client, admin, subject="nie mogę się zalogować")
    assert out["language"] == "pl"
    assert [a["external_id"] for a in out["articles"]] == ["demo-pl-login-2fa"]


def test_min_confidence_in_the_request_is_checked(client, admin, demo_db):
    for bad in ("0.5", -0.1, 1.5, True, [0.2]):
        resp = client.post("/api/suggest", json={"subject": "password", "min_confidence": bad}, headers=admin)
        assert resp.status_code == 400
        assert "min_confidence must be a number from 0 to 1" in resp.get_json()["message"]
    assert ask(client, admin, subject="password", min_confidence=1)["articles"] == []


def test_an_empty_set_is_stored_and_counts_as_a_knowledge_gap(demo_db, app):
    cfg = app.config["KS"]
    intake.handle(demo_db, cfg, Ticket("zendesk", "71", subject="The weather is nice today"), write_back=False)
    intake.handle(demo_db, cfg, Ticket("zendesk", "72", subject="I was charged twice for my order"), write_back=False)
    stored = intake.stored_suggestions(demo_db, "zendesk", "71")
    assert stored["articles"] == [] and stored["macros"] == []
    charged = intake.stored_suggestions(demo_db, "zendesk", "72")
    assert charged["articles"][0]["title"] == "Charged twice for one order"
    assert all(0 <= a["confidence"] <= 1 for a in charged["articles"])
    today = datetime.now(UTC).date()
    totals = reports.reuse_report(demo_db, today, today)["totals"]
    assert (totals["tickets_with_suggestions"], totals["tickets_without_suggestions"]) == (1, 1)


def test_an_article_sharing_only_stop_words_with_the_ticket_is_never_confident(db):
    from kb.articles import import_articles
    assert not import_articles(db, [
        {"external_id": "inv", "title": "Ich brauche eine Rechnung", "body": "Ich lade die Rechnung als PDF.",
         "language": "de"},
        {"external_id": "pw", "title": "Passwort vergessen", "body": "Ich setze das Passwort zurück.",
         "language": "de"}], "de")["errors"]
    out = suggest(db, Query(subject="Ich wurde doppelt belastet", language="de", default_language="de"))
    assert out["articles"] and all(a["confidence"] == 0.0 for a in out["articles"])


def test_coverage_counts_words_no_article_holds_against_the_match():
    ix = Index("en")
    ix.add(1, "Reset your password", "Use the link on the sign-in page to reset the password.")
    ix.add(2, "Export data", "Download your data as a file.")
    whole = ix.search_explained("reset password")[0]
    partial = ix.search_explained("reset password zyxwvut")[0]          # a word no article uses
    assert whole.item == partial.item == 1
    assert whole.cover == pytest.approx(1.0)
    assert 0 < partial.cover < 0.7
    assert 0 < whole.passage_f1 <= 1


def test_a_match_in_the_fallback_language_brings_its_variant_in_the_tickets_language(db):
    """Translation groups: a German ticket matched the English article (shared product words); its German
    variant is offered in its place, and a match with no German variant stays, marked as an EN fallback."""
    from kb.articles import import_articles
    assert not import_articles(db, [
        {"external_id": "en-track", "title": "Tracking link in the app shows nothing",
         "body": "Open the tracking link from the order e-mail instead of the app.", "translation_group": "track"},
        {"external_id": "de-track", "title": "Sendungsverfolgung: Link zeigt nichts an", "language": "de",
         "body": "Den Link aus der Bestellbestätigung öffnen.", "translation_group": "track"},
        {"external_id": "en-app", "title": "App crashes on start", "body": "Reinstall the app from the store.",
         "translation_group": "crash"},
        {"external_id": "de-rechnung", "title": "Rechnung herunterladen", "language": "de",
         "body": "Die Rechnung als PDF im Kundenkonto laden."},
    ], "en")["errors"]
    out = suggest(db, Query(subject="Tracking App Link", language="de", default_language="en"))
    by_id = {a["external_id"]: a for a in out["articles"]}
    assert "en-track" not in by_id and by_id["de-track"]["fallback"] is False     # the same article, in German
    assert out["articles"][0]["external_id"] == "de-track"
    assert by_id["en-app"]["fallback"] is True and by_id["en-app"]["language"] == "en"
