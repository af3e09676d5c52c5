"""The knowledge audit: each kind of finding found exactly on a small knowledge base, the owners' digests, the CLI,
the API, the /audits page in Chromium, and the worker's schedule."""
from __future__ import annotations

import threading
from datetime import UTC, datetime, timedelta

import pytest

from api_tokens import tokens
from kb import articles, audits, notices, taxonomy
from store import write
from store.clock import after
from tests.conftest import sign_in

DAY = 86400
MARKETS = "en de"


@pytest.fixture
def config(config: dict) -> dict:
    config["audit"] = {"markets": MARKETS, "unused_days": 90, "flag_open_days": 7, "duplicate_threshold": 90,
                       "interval_hours": 24}
    return config


def _article(external_id: str, title: str, language: str = "en", **extra) -> dict:
    return {"external_id": external_id, "title": title, "language": language, "taxonomy": ["Orders", "Refunds"],
            "issue": extra.pop("issue", f"The customer asks: {title.lower()}"),
            "resolution": extra.pop("resolution", f"Steps for {title.lower()}."), **extra}


def _import(db, items: list[dict]) -> dict[str, int]:
    result = articles.import_articles(db, items, "en", changed_by="test")
    assert not result["errors"], result["errors"]
    return {ext: db.execute("SELECT id FROM articles WHERE external_id = ?", (ext,)).fetchone()[0]
            for ext in (i["external_id"] for i in items)}


CLEAN = [
    _article("refund-en", "Refund for an item that arrived damaged", translation_group="refund",
             issue="My mug arrived broken, can I get my money back?"),
    _article("refund-de", "Erstattung für einen beschädigten Artikel", "de", translation_group="refund",
             issue="Meine Tasse kam kaputt an, bekomme ich mein Geld zurück?"),
]


def _insert_event(db, article_id: int, created_at: str) -> None:
    with write(db):
        db.execute("INSERT INTO events (kind, article_id, agent, created_at) VALUES ('reused', ?, 'ada', ?)",
                   (article_id, created_at))


def _insert_flag(db, article_id: int, created_at: str, reason: str) -> int:
    with write(db):
        return db.execute("INSERT INTO flags (article_id, article_version, flagged_by, category, reason, owner, "
                          "created_at) VALUES (?, 1, 'ada', 'outdated', ?, '', ?)",
                          (article_id, reason, created_at)).lastrowid


@pytest.fixture
def kb(db) -> dict:
    """A knowledge base with exactly one finding of each kind (and articles that must not be reported)."""
    ids = _import(db, CLEAN + [
        # stale: its review date passed (internal, so no market needs it)
        _article("stale", "Change the delivery address after ordering", owner="olga", visibility="internal",
                 review_by="2020-01-31", issue="I typed the wrong street, can you change where it goes?"),
        # archived: a passed review date, old and never reused, yet not reported
        _article("archived", "Old voucher rules", owner="olga", state="archived", review_by="2019-01-01",
                 issue="Which vouchers could be combined in 2018?"),
        # unused: old, reused only long ago, no owner anywhere up its tree
        {**_article("unused", "Invoice copy for a business customer", visibility="internal",
                    issue="Our accountant needs a copy of last year's invoice with our VAT number."),
         "taxonomy": ["Billing", "Invoices"]},
        # the long-open flag: its owner is the node's default owner, set after the article was filed
        {**_article("flagged", "Two-factor codes do not arrive", visibility="internal",
                    issue="The SMS with my login code never comes."), "taxonomy": ["Account", "Login"]},
        # the near-duplicate pair, two owners
        _article("sync-a", "The app does not sync my orders", owner="olga", visibility="internal",
                 issue="My orders from the website do not show up in the app."),
        _article("sync-b", "The app does not sync my orders anymore", owner="piotr", visibility="internal",
                 issue="My orders from the website do not show up in the app"),
        # the missing translation: validated public, English only; its German variant is still a draft
        _article("pay-en", "Paying by invoice as a private customer", owner="piotr", translation_group="pay",
                 issue="Can I get the goods first and pay with an invoice later?"),
        _article("pay-de", "Kauf auf Rechnung für Privatkunden", "de", owner="piotr", translation_group="pay",
                 state="wip", issue="Kann ich zuerst die Ware bekommen und später per Rechnung zahlen?"),
    ])
    with write(db):
        taxonomy.set_owner(db, taxonomy.find(db, ["Account", "Login"]), "nina", actor="test")
        db.execute("UPDATE articles SET created_at = ? WHERE external_id IN ('unused', 'archived')",
                   (after(-200 * DAY),))
    _insert_event(db, ids["unused"], after(-150 * DAY))       # a reuse long ago does not count
    _insert_event(db, ids["refund-en"], after(-2 * DAY))
    old_flag = _insert_flag(db, ids["flagged"], after(-10 * DAY), "The code now comes by e-mail, not SMS.")
    _insert_flag(db, ids["refund-en"], after(-3 * DAY), "Mention the photo of the box.")    # not old enough
    return {"ids": ids, "old_flag": old_flag}


def _found(run: dict) -> set[tuple]:
    return {(f["kind"], f["external_id"], f["owner"]) for f in run["findings"]}


def test_each_finding_found_exactly_and_owners_get_one_digest(app, db, kb):
    run = audits.run(db, app.config["KS"], "test")
    assert _found(run) == {("stale", "stale", "olga"), ("unused", "unused", ""), ("flag_open", "flagged", "nina"),
                           ("duplicate", "sync-a", "olga"), ("missing_translation", "pay-en", "piotr")}
    by_kind = {f["kind"]: f for f in run["findings"]}
    assert by_kind["stale"]["review_by"] == "2020-01-31" and "review by 2020-01-31 passed" in by_kind["stale"]["detail"]
    assert by_kind["unused"]["last_reused"] is not None and "no reuse in 90 days" in by_kind["unused"]["detail"]
    assert by_kind["flag_open"]["flag_id"] == kb["old_flag"] and by_kind["flag_open"]["days_open"] == 10
    dup = by_kind["duplicate"]
    assert dup["other"]["external_id"] == "sync-b" and dup["other"]["owner"] == "piotr" and 90 <= dup["score"] < 100
    missing = by_kind["missing_translation"]
    assert missing["missing"] == ["de"] and missing["drafts"] == {"de": "wip"} and missing["languages"] == ["en"]

    summary = run["summary"]
    assert summary["total"] == 5 and summary["without_owner"] == 1
    assert summary["by_kind"] == {"stale": 1, "unused": 1, "flag_open": 1, "duplicate": 1, "missing_translation": 1}
    assert summary["owners"] == {"nina": 1, "olga": 2, "piotr": 2}
    assert [(d["owner"], d["findings"]) for d in summary["digests"]] == [("nina", 1), ("olga", 2), ("piotr", 2)]
    assert audits.latest(db)["id"] == run["id"] and run["finished_at"] and run["trigger"] == "test"

    for owner, titles in {"olga": ["Change the delivery address after ordering", "The app does not sync my orders"],
                          "piotr": ["The app does not sync my orders", "Paying by invoice as a private customer"],
                          "nina": ["Two-factor codes do not arrive"]}.items():
        mine = notices.for_recipient(db, owner)["notices"]
        assert [n["kind"] for n in mine] == ["audit_digest"]
        assert mine[0]["data"]["run_id"] == run["id"]
        for title in titles:
            assert title in mine[0]["body"]
    olga = notices.for_recipient(db, "olga")["notices"][0]
    assert olga["title"] == "Knowledge audit: 2 findings on your articles"
    assert "Review date passed (1)" in olga["body"] and "Near-duplicates (1)" in olga["body"]
    assert "Invoice copy" not in olga["body"]           # another's finding (and an unowned one) is not in it
    assert db.execute("SELECT COUNT(*) FROM notices WHERE kind = 'audit_digest'").fetchone()[0] == 3

    # Each run tells each owner again (one digest per owner per run).
    assert audits.run(db, app.config["KS"], "again")["summary"]["total"] == 5
    assert db.execute("SELECT COUNT(*) FROM notices WHERE kind = 'audit_digest'").fetchone()[0] == 6


def test_a_clean_knowledge_base_gives_no_findings_and_no_digest(app, db):
    _import(db, CLEAN)
    run = audits.run(db, app.config["KS"], "test")
    assert run["findings"] == [] and run["summary"]["total"] == 0 and run["summary"]["digests"] == []
    assert db.execute("SELECT COUNT(*) FROM notices").fetchone()[0] == 0
    empty = audits.run(db, {**app.config["KS"], "audit": {**app.config["KS"]["audit"], "markets": ""}}, "x")
    assert empty["findings"] == []


def test_markets_unused_days_and_flag_days_come_from_config(app, db, kb):
    cfg = app.config["KS"]
    relaxed = {**cfg, "audit": {**cfg["audit"], "markets": "", "unused_days": 365, "flag_open_days": 30,
                                "duplicate_threshold": 100}}
    assert {f["kind"] for f in audits.run(db, relaxed, "test")["findings"]} == {"stale"}
    wider = {**cfg, "audit": {**cfg["audit"], "markets": "en de pl"}}
    missing = [f for f in audits.run(db, wider, "test")["findings"] if f["kind"] == "missing_translation"]
    assert {(f["external_id"], tuple(f["missing"])) for f in missing} == {("pay-en", ("de", "pl")),
                                                                          ("refund-en", ("pl",))}


def test_cli_prints_findings_by_kind_and_digests(app, db, kb):
    result = app.test_cli_runner().invoke(args=["audit"])
    assert result.exit_code == 0, result.output
    out = result.output
    assert "findings" in out.splitlines()[0] and "(cli)" in out.splitlines()[0]
    sections = ["Review date passed (1)", "Unused (1)", "Flags open too long (1)", "Near-duplicates (1)",
                "Missing translations (1)", "Digests queued (3)"]
    positions = [out.index(s) for s in sections]
    assert positions == sorted(positions)
    assert "“Change the delivery address after ordering” (stale, en): review by 2020-01-31 passed" in out
    assert "[owner: olga & piotr]" in out and "[owner: none]" in out
    assert "  - olga: 2 findings, notice" in out
    assert "1 finding without an owner" in out
    assert db.execute("SELECT trigger FROM audit_runs ORDER BY id DESC").fetchone()[0] == "cli"
    as_json = app.test_cli_runner().invoke(args=["audit", "--json"])
    assert as_json.exit_code == 0 and '"kind": "stale"' in as_json.output


def test_api_latest_run_by_id_and_run_now(client, admin, db, kb):
    tokens.create(db, "lee", "lead", "lead-token")
    tokens.create(db, "agent ada", "agent", "agent-token")
    lead = {"Authorization": "Bearer lead-token"}
    assert client.get("/api/audits").status_code == 401
    assert client.get("/api/audits", headers={"Authorization": "Bearer agent-token"}).status_code == 403
    none = client.get("/api/audits", headers=lead)
    assert none.status_code == 404 and "no audit has run yet" in none.json["message"]

    assert client.post("/api/audits/run", headers=lead).status_code == 403
    made = client.post("/api/audits/run", headers=admin)
    assert made.status_code == 201 and made.json["summary"]["total"] == 5
    assert made.json["trigger"].startswith("api")
    got = client.get("/api/audits", headers=lead)
    assert got.status_code == 200 and got.json["id"] == made.json["id"]
    assert _found(got.json) == _found(made.json)
    second = client.post("/api/audits/run", headers=admin).json
    assert client.get("/api/audits", headers=lead).json["id"] == second["id"]
    assert client.get(f"/api/audits?run={made.json['id']}", headers=lead).json["id"] == made.json["id"]
    assert client.get("/api/audits?run=999", headers=lead).status_code == 404
    assert client.get("/api/audits?run=abc", headers=lead).status_code == 400
    assert client.get("/api/audits?run=99999999999999999999", headers=lead).status_code in (400, 404)
    paths = client.get("/openapi.json").json["paths"]
    assert "/api/audits" in paths and "/api/audits/run" in paths


@pytest.mark.browser
def test_audits_page_lists_findings_and_runs_now(client, db, kb, live_server, page):
    tokens.create(db, "lee", "lead", "lead-token")
    tokens.create(db, "pat", "publisher", "publisher-token")
    sign_in(page, live_server.url + "/audits", "lead-token")
    assert page.locator("#no-run").inner_text() == "No audit has run yet."
    assert page.locator("#audit-run-form").count() == 0          # a lead may look, not run
    assert page.locator("nav.subnav a", has_text="Audits").count() == 1

    page.context.clear_cookies()
    sign_in(page, live_server.url + "/audits", "publisher-token")
    page.click("#audit-run-form button[type=submit]")
    page.wait_for_url("**/audits?done=run")
    assert page.locator("#notice").inner_text() == "Audit done."
    assert "5 findings" in page.locator("#run-info").inner_text()
    counts = {k: page.locator(f"[data-count={k}]").inner_text() for k in audits.KINDS}
    assert counts == {k: "1" for k in audits.KINDS}
    stale = page.locator("#audit-stale tbody tr")
    assert stale.count() == 1
    assert "Change the delivery address after ordering" in stale.inner_text()
    assert stale.locator("td.owner").inner_text() == "olga"
    assert page.locator("#audit-duplicate td.owner").inner_text() == "olga & piotr"
    assert page.locator("#audit-unused td.owner").inner_text() == "—"
    assert "flag #" in page.locator("#audit-flag_open").inner_text()
    assert "no public de (a wip variant exists)" in page.locator("#audit-missing_translation").inner_text()
    assert db.execute("SELECT trigger FROM audit_runs").fetchone()[0] == "page (pat)"

    # A form posted without its CSRF field is refused.
    forged = page.request.post(live_server.url + "/audits/run", form={})
    assert forged.status == 403


class WatchedLock:
    """threading.Lock that notes whether it is held when the audit stores its run (the drain's `busy` lock)."""

    def __init__(self, db):
        self.lock, self.db, self.held_during = threading.Lock(), db, []

    def __enter__(self):
        self.lock.acquire()
        self.held_during.append(("acquired", audits.latest(self.db)))
        return self

    def __exit__(self, *exc):
        self.held_during.append(("released", audits.latest(self.db)))
        self.lock.release()


def test_worker_schedules_the_audit_under_the_drain_lock(app, db, kb):
    from apscheduler.schedulers.background import BackgroundScheduler

    from jobs.worker import schedule_audit

    cfg = app.config["KS"]
    scheduler, busy, stop = BackgroundScheduler(), WatchedLock(db), threading.Event()
    assert schedule_audit(scheduler, db, cfg, busy, stop) is True
    job = scheduler.get_job("knowledge-audit")
    assert job.trigger.interval.total_seconds() == 24 * 3600
    assert abs(job.next_run_time.timestamp() - datetime.now(UTC).timestamp()) < 60    # none kept yet: due now
    job.func()
    ran = audits.latest(db)
    assert ran["trigger"] == "schedule" and ran["summary"]["total"] == 5
    # The lock was taken before the run started and let go after it was stored.
    assert busy.held_during == [("acquired", None), ("released", ran)]

    # After a run the next one is an interval later (a restart neither skips nor repeats it); off at 0 hours.
    later = BackgroundScheduler()
    schedule_audit(later, db, cfg, threading.Lock(), stop)
    started = datetime.strptime(ran["started_at"], "%Y-%m-%dT%H:%M:%SZ").replace(tzinfo=UTC)
    assert later.get_job("knowledge-audit").next_run_time.timestamp() == (started + timedelta(hours=24)).timestamp()
    off = BackgroundScheduler()
    assert schedule_audit(off, db, {**cfg, "audit": {**cfg["audit"], "interval_hours": 0}}, busy, stop) is False
    assert off.get_jobs() == []
    stop.set()
    job.func()                                     # a stopping worker starts no audit
    assert audits.latest(db)["id"] == ran["id"]
