"""Zendesk Help Center both ways: import sections and articles from the real HTTP fake (tests/fake_zendesk.py,
HelpCenter), publish through the outbox drained by jobs.worker.drain, real SQLite."""
from __future__ import annotations

import pytest
from fake_zendesk import zendesk_config

import settings
from api_tokens import tokens
from app import create_app
from integrations.zendesk import client as zendesk
from integrations.zendesk import help_center as hc
from jobs.worker import drain
from kb import articles, audit, taxonomy
from store import write
from sync import help_center

PERMISSION_GROUP = 7001
HC = "/api/v2/help_center"
BODY = ('<p>To refund a <b>card</b> payment:</p><script>alert(1)</script><img src="x" onerror="alert(1)">'
        '<ol><li>Open the order</li><li>Click <em>Refund</em></li></ol>'
        '<p>See <a href="https://acme.example/refunds" onclick="steal()">the refund policy</a>.</p>')
OURS = {"external_id": "kb-late-parcel", "title": "Parcel is late", "language": "en",
        "taxonomy": ["Orders", "Shipping"],
        "body": "Check the tracking page first.\n\nIf it has not moved for 5 days, open a claim <with the carrier>.",
        "resolution": "Send the claim form.", "state": "validated", "visibility": "public"}


@pytest.fixture
def cfg(config, fake_zendesk):
    config["zendesk"].update(zendesk_config(fake_zendesk), help_center_permission_group_id=PERMISSION_GROUP)
    config["worker"] = {"backoff_base_s": 5.0}
    return settings.load(config, environ={})


@pytest.fixture
def zd(cfg):
    return zendesk.from_config(cfg)


@pytest.fixture
def web(config, cfg):
    return create_app(config).test_client()


def _seed(fake) -> dict:
    """Billing > Refunds (the child listed before its parent), an article in en-us with de and fr translations,
    an internal (segment-restricted) article and a draft."""
    h = fake.help_center
    refunds = h.add_section("Refunds", parent_section_id=900, section_id=901)
    billing = h.add_section("Billing", section_id=900)
    refund = h.add_article(901, "Refund a card payment", BODY, translations={
        "de": {"title": "Kartenzahlung erstatten", "body": "<p>Öffnen Sie die Bestellung.</p>"},
        "fr": {"title": "Rembourser", "body": "<p>Ouvrez la commande.</p>"}})
    internal = h.add_article(900, "Override refund limits", "<p>Agents only.</p>", user_segment_id=555)
    draft = h.add_article(900, "Chargebacks", "<p>Not finished.</p>", draft=True)
    return {"billing": billing, "refunds": refunds, "refund": refund, "internal": internal, "draft": draft}


def _row(conn, external_id: str) -> dict:
    found = conn.execute("SELECT id FROM articles WHERE external_id = ?", (external_id,)).fetchone()
    return articles.get(conn, found[0]) if found else None


def _make_due(conn) -> None:
    conn.execute("UPDATE outbox SET next_attempt_at = '2000-01-01T00:00:00Z' WHERE state = 'pending'")


def _job(conn, job_id: int) -> dict:
    cur = conn.execute("SELECT state, attempts, last_error FROM outbox WHERE id = ?", (job_id,))
    return dict(zip([c[0] for c in cur.description], cur.fetchone()))


def _hc_writes(fake) -> list[dict]:
    return [r for r in fake.requests if r["path"].startswith(HC) and r["method"] in ("POST", "PUT")]


def _ours(conn, cfg, fake, **changes) -> dict:
    """Our article under Orders > Shipping, with Orders tied to Help Center section 700 by an import."""
    fake.help_center.add_section("Orders", section_id=700)
    help_center.import_help_center(conn, cfg, zendesk.from_config(cfg), "admin")
    articles.import_articles(conn, [{**OURS, **changes}], "en")
    return _row(conn, changes.get("external_id", OURS["external_id"]))


# -- import --------------------------------------------------------------------------------------------------------
def test_import_cleans_html_nests_sections_and_keeps_translations_as_variants(conn, cfg, zd, fake_zendesk):
    seeded = _seed(fake_zendesk)
    fake_zendesk.help_center.page_size_cap = 2       # three articles: two pages

    report = help_center.import_help_center(conn, cfg, zd, "admin")

    assert report == {"sections": {"created": 2, "updated": 0, "skipped": 0},
                      "articles": {"created": 4, "updated": 0, "skipped": 1}, "errors": []}   # fr: not ours
    listed = fake_zendesk.calls("GET", f"{HC}/articles")
    assert len(listed) == 2 and listed[1]["query"]["page[after]"] == ["c2"]
    refunds_node = taxonomy.find(conn, ["Billing", "Refunds"])
    assert taxonomy.section_of(conn, refunds_node) == "901"
    assert taxonomy.section_of(conn, taxonomy.find(conn, ["Billing"])) == "900"

    hid = str(seeded["refund"]["id"])
    en, de = _row(conn, f"zendesk-hc-{hid}-en"), _row(conn, f"zendesk-hc-{hid}-de")
    assert "<" not in en["body"] and "script" not in en["body"] and "alert" not in en["body"]
    assert "onerror" not in en["body"] and "steal" not in en["body"]
    assert en["body"] == ("To refund a card payment:\n\n1. Open the order\n2. Click Refund\n\n"
                          "See the refund policy (https://acme.example/refunds).")
    assert (en["title"], en["language"], en["state"], en["visibility"]) == \
        ("Refund a card payment", "en", "validated", "public")
    assert en["taxonomy"] == ["Billing", "Refunds"] and en["node_id"] == refunds_node
    assert en["helpdesk_id"] == de["helpdesk_id"] == hid
    assert en["translation_group"] == de["translation_group"] == f"zendesk-hc-{hid}"
    assert en["helpdesk_url"] == fake_zendesk.help_center.translations[int(hid)]["en-us"]["html_url"]
    assert (de["title"], de["body"], de["language"]) == ("Kartenzahlung erstatten", "Öffnen Sie die Bestellung.", "de")
    assert _row(conn, f"zendesk-hc-{seeded['internal']['id']}-en")["visibility"] == "internal"
    assert _row(conn, f"zendesk-hc-{seeded['draft']['id']}-en")["state"] == "not_validated"
    entry = audit.history(conn, "article", en["id"])[0]
    assert entry["action"] == "imported_from_help_center" and entry["actor"] == "admin"
    assert entry["detail"]["helpdesk_id"] == hid and entry["detail"]["url"] == en["helpdesk_url"]


def test_reimport_skips_unchanged_and_updates_an_edited_article_in_place(conn, cfg, zd, fake_zendesk):
    seeded = _seed(fake_zendesk)
    help_center.import_help_center(conn, cfg, zd, "admin")
    hid = seeded["refund"]["id"]
    before = _row(conn, f"zendesk-hc-{hid}-en")
    rows = conn.execute("SELECT COUNT(*) FROM articles").fetchone()[0]

    again = help_center.import_help_center(conn, cfg, zd, "admin")
    assert again == {"sections": {"created": 0, "updated": 0, "skipped": 2},
                     "articles": {"created": 0, "updated": 0, "skipped": 5}, "errors": []}

    fake_zendesk.help_center.edit_translation(hid, "en-us", body="<p>Refunds now take <b>3</b> days.</p>")
    edited = help_center.import_help_center(conn, cfg, zd, "admin")
    assert edited["articles"] == {"created": 0, "updated": 1, "skipped": 4}
    after = _row(conn, f"zendesk-hc-{hid}-en")
    assert (after["id"], after["version"], after["body"]) == (before["id"], 2, "Refunds now take 3 days.")
    assert conn.execute("SELECT COUNT(*) FROM articles").fetchone()[0] == rows
    assert [e["detail"]["outcome"] for e in audit.history(conn, "article", after["id"])] == ["updated", "created"]


def test_import_follows_offset_pagination_when_that_is_what_comes_back(conn, cfg, zd, fake_zendesk):
    _seed(fake_zendesk)
    fake_zendesk.help_center.cursor_pagination = False
    fake_zendesk.help_center.page_size_cap = 1

    report = help_center.import_help_center(conn, cfg, zd, "admin")

    assert report["articles"] == {"created": 4, "updated": 0, "skipped": 1} and report["errors"] == []
    assert [c["query"].get("page") for c in fake_zendesk.calls("GET", f"{HC}/articles")] == [None, ["2"], ["3"]]


def test_import_route_answers_counts_and_clear_errors(web, admin, fake_zendesk, config):
    _seed(fake_zendesk)
    resp = web.post("/api/zendesk/help-center/import", headers=admin)
    assert resp.status_code == 200, resp.get_json()
    assert resp.get_json()["articles"]["created"] == 4

    fake_zendesk.fail_next(404)
    resp = web.post("/api/zendesk/help-center/import", headers=admin)
    assert resp.status_code == 502 and "could not be read" in resp.get_json()["message"]

    config["zendesk"].update(subdomain="", email="", api_token="")
    resp = create_app(config).test_client().post("/api/zendesk/help-center/import", headers=admin)
    assert resp.status_code == 409 and "not configured" in resp.get_json()["message"]


# -- publish -------------------------------------------------------------------------------------------------------
def test_publish_twice_creates_one_help_center_article_then_updates_it(conn, cfg, zd, web, fake_zendesk):
    art = _ours(conn, cfg, fake_zendesk)
    publisher = {"Authorization": f"Bearer {tokens.create(conn, 'pat', 'publisher')}"}

    resp = web.post(f"/api/articles/{art['id']}/publish", headers=publisher)
    assert resp.status_code == 202, resp.get_json()
    again = web.post(f"/api/articles/{art['id']}/publish", headers=publisher)
    assert again.status_code == 202 and again.get_json() == {**resp.get_json(), "queued": False}
    assert drain(conn, cfg, zd) == {"done": 1, "retry": 0, "failed": 0, "held": 0}

    [create] = _hc_writes(fake_zendesk)
    assert (create["method"], create["path"]) == ("POST", f"{HC}/sections/700/articles")
    sent = create["json"]["article"]
    assert create["json"]["notify_subscribers"] is False
    assert (sent["title"], sent["locale"], sent["permission_group_id"], sent["user_segment_id"]) == \
        ("Parcel is late", "en-us", PERMISSION_GROUP, None)
    assert sent["label_names"] == [hc.marker("kb-late-parcel")]
    assert "open a claim &lt;with the carrier&gt;.</p>" in sent["body"]
    assert "<h2>Resolution</h2>\n<p>Send the claim form.</p>" in sent["body"]
    [made] = fake_zendesk.help_center.articles.values()
    published = articles.get(conn, art["id"])
    assert published["helpdesk_id"] == str(made["id"])
    assert published["helpdesk_url"] == fake_zendesk.help_center.translations[made["id"]]["en-us"]["html_url"]

    articles.import_articles(conn, [{**OURS, "resolution": "Send the claim form within 30 days."}], "en")
    assert web.post(f"/api/articles/{art['id']}/publish", headers=publisher).status_code == 202
    assert drain(conn, cfg, zd)["done"] == 1

    writes = _hc_writes(fake_zendesk)
    assert [(w["method"], w["path"]) for w in writes] == [
        ("POST", f"{HC}/sections/700/articles"), ("PUT", f"{HC}/articles/{made['id']}/translations/en-us")]
    assert writes[1]["json"]["translation"]["draft"] is False
    assert len(fake_zendesk.help_center.articles) == 1
    assert "within 30 days" in fake_zendesk.help_center.translations[made["id"]]["en-us"]["body"]
    history = [e for e in audit.history(conn, "article", art["id"]) if e["action"] == "published_to_help_center"]
    assert [(e["detail"]["how"], e["detail"]["version"], e["actor"]) for e in history] == \
        [("updated", 2, "pat"), ("created", 1, "pat")]
    assert history[0]["detail"]["helpdesk_id"] == str(made["id"]) and history[0]["detail"]["locale"] == "en-us"
    assert history[0]["detail"]["url"] == published["helpdesk_url"]


@pytest.mark.parametrize("change, words", [
    ({"visibility": "internal"}, "is internal"),
    ({"state": "not_validated"}, "is not_validated"),
    ({"state": "archived"}, "is archived"),
    ({"taxonomy": ["Returns"]}, "'Returns' (nor any node above it) is not tied to a Help Center section"),
])
def test_publish_refused_before_anything_reaches_zendesk(conn, cfg, web, admin, fake_zendesk, change, words):
    art = _ours(conn, cfg, fake_zendesk, **change)
    seen = len(fake_zendesk.requests)
    resp = web.post(f"/api/articles/{art['id']}/publish", headers=admin)
    assert resp.status_code == 409 and words in resp.get_json()["message"]
    assert len(fake_zendesk.requests) == seen
    assert conn.execute("SELECT COUNT(*) FROM outbox").fetchone()[0] == 0


def test_publish_unknown_article_or_not_configured(conn, config, cfg, web, admin, fake_zendesk):
    assert web.post("/api/articles/424242/publish", headers=admin).status_code == 404
    art = _ours(conn, cfg, fake_zendesk)
    config["zendesk"]["help_center_permission_group_id"] = 0
    resp = create_app(config).test_client().post(f"/api/articles/{art['id']}/publish", headers=admin)
    assert resp.status_code == 409 and "help_center_permission_group_id" in resp.get_json()["message"]


def test_article_turned_internal_after_queueing_is_never_sent(conn, cfg, zd, fake_zendesk):
    art = _ours(conn, cfg, fake_zendesk)
    job = help_center.queue_publish(conn, cfg, art["id"], "publisher")
    articles.import_articles(conn, [{**OURS, "visibility": "internal"}], "en")
    seen = len(fake_zendesk.requests)

    assert drain(conn, cfg, zd) == {"done": 0, "retry": 0, "failed": 1, "held": 0}

    failed = _job(conn, job["job_id"])
    assert failed["state"] == "failed" and "is internal" in failed["last_error"]
    assert len(fake_zendesk.requests) == seen


def test_retry_after_a_lost_answer_does_not_create_a_second_article(conn, cfg, zd, fake_zendesk):
    art = _ours(conn, cfg, fake_zendesk)
    job = help_center.queue_publish(conn, cfg, art["id"], "publisher")
    fake_zendesk.help_center.lose_answers(1)      # Zendesk creates the article, the answer never arrives

    assert drain(conn, cfg, zd)["retry"] == 1
    assert len(fake_zendesk.help_center.articles) == 1 and articles.get(conn, art["id"])["helpdesk_id"] is None
    _make_due(conn)
    assert drain(conn, cfg, zd)["done"] == 1

    assert _job(conn, job["job_id"])["attempts"] == 2
    [made] = fake_zendesk.help_center.articles.values()
    assert [(w["method"], w["path"]) for w in _hc_writes(fake_zendesk)] == [
        ("POST", f"{HC}/sections/700/articles"), ("PUT", f"{HC}/articles/{made['id']}/translations/en-us")]
    assert fake_zendesk.calls("GET", f"{HC}/en-us/sections/700/articles")
    assert articles.get(conn, art["id"])["helpdesk_id"] == str(made["id"])


def test_german_variant_is_published_as_a_translation_of_the_same_article(conn, cfg, zd, fake_zendesk):
    en = _ours(conn, cfg, fake_zendesk)
    articles.import_articles(conn, [{**OURS, "external_id": "kb-late-parcel-de", "language": "de",
                                     "title": "Paket kommt zu spät",
                                     "body": "Prüfen Sie zuerst die Sendungsverfolgung.",
                                     "resolution": "Senden Sie das Formular."}], "en")
    de = _row(conn, "kb-late-parcel-de")
    with write(conn):
        for row in (en, de):
            articles.set_helpdesk(conn, row["id"], None, None, translation_group="late-parcel")

    for row in (en, de, de):
        help_center.queue_publish(conn, cfg, row["id"], "publisher")
        assert drain(conn, cfg, zd)["done"] == 1

    [made] = fake_zendesk.help_center.articles.values()
    writes = [(w["method"], w["path"]) for w in _hc_writes(fake_zendesk)]
    assert writes == [("POST", f"{HC}/sections/700/articles"),
                      ("POST", f"{HC}/articles/{made['id']}/translations"),
                      ("PUT", f"{HC}/articles/{made['id']}/translations/de")]
    assert _hc_writes(fake_zendesk)[0]["json"]["article"]["label_names"] == [hc.marker("late-parcel")]
    german = fake_zendesk.help_center.translations[made["id"]]["de"]
    assert german["title"] == "Paket kommt zu spät" and "<h2>Lösung</h2>" in german["body"]
    assert articles.get(conn, de["id"])["helpdesk_id"] == articles.get(conn, en["id"])["helpdesk_id"] == str(made["id"])
    assert articles.get(conn, de["id"])["helpdesk_url"] == german["html_url"]
    hows = [e["detail"]["how"] for e in audit.history(conn, "article", de["id"])]
    assert hows == ["updated", "translation_created"]


def test_publishing_an_imported_article_updates_it_and_a_reimport_brings_nothing_back(conn, cfg, zd, fake_zendesk):
    seeded = _seed(fake_zendesk)
    help_center.import_help_center(conn, cfg, zd, "admin")
    hid = seeded["refund"]["id"]
    row = _row(conn, f"zendesk-hc-{hid}-en")
    with write(conn):
        articles.upsert(conn, {k: row[k] for k in ("external_id", *articles.TEXT_FIELDS, "language", "state",
                                                   "visibility", "taxonomy")} | {"cause": "Card networks batch."})

    help_center.queue_publish(conn, cfg, row["id"], "publisher")
    assert drain(conn, cfg, zd)["done"] == 1

    assert [(w["method"], w["path"]) for w in _hc_writes(fake_zendesk)] == [
        ("PUT", f"{HC}/articles/{hid}/translations/en-us")]
    assert "<h2>Cause</h2>" in fake_zendesk.help_center.translations[hid]["en-us"]["body"]
    report = help_center.import_help_center(conn, cfg, zd, "admin")
    assert report["articles"] == {"created": 0, "updated": 0, "skipped": 5}
    assert _row(conn, f"zendesk-hc-{hid}-en")["version"] == 2


def test_published_article_is_not_overwritten_by_a_later_import(conn, cfg, zd, fake_zendesk):
    art = _ours(conn, cfg, fake_zendesk)
    help_center.queue_publish(conn, cfg, art["id"], "publisher")
    drain(conn, cfg, zd)

    report = help_center.import_help_center(conn, cfg, zd, "admin")

    assert report["articles"] == {"created": 0, "updated": 0, "skipped": 1}
    kept = articles.get(conn, art["id"])
    assert (kept["version"], kept["resolution"], kept["body"]) == (1, OURS["resolution"], OURS["body"])


# -- text ----------------------------------------------------------------------------------------------------------
def test_html_to_text_keeps_structure_and_link_targets_and_drops_the_unsafe():
    raw = ('<h2>Steps</h2><ol><li>one</li><li>two<ul><li>nested</li></ul></li></ol>'
           '<p>Read <a href="/hc/en-us/articles/5">this</a>, <a href="javascript:alert(1)">not this</a><br>'
           'and <a href="https://x.example/a">https://x.example/a</a>.</p><style>p{color:red}</style>')
    assert hc.html_to_text(raw, "https://acme.zendesk.com/hc/en-us/articles/1-x") == (
        "Steps\n\n1. one\n2. two\n  - nested\n\n"
        "Read this (https://acme.zendesk.com/hc/en-us/articles/5), not this\nand https://x.example/a.")
    assert hc.article_html({"body": "a <b>\n\n- x\n- y", "language": "ru", "cause": "c"}) == (
        "<p>a &lt;b&gt;</p>\n<ul><li>x</li><li>y</li></ul>\n<h2>Причина</h2>\n<p>c</p>")
    assert hc.language_for({"en": "en-us", "de": "de"}, "EN-US") == "en"
    assert hc.language_for({"en": "en-us"}, "en-gb") is None
