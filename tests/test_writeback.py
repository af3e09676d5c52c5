"""Write-back to Zendesk: tickets handled by intake, outbox drained by jobs.worker.drain, zenpy talking to a real
HTTP fake of the Zendesk API on 127.0.0.1 (tests/fake_zendesk.py)."""
from __future__ import annotations

import socket
from datetime import UTC, datetime, timedelta

import pytest
from fake_zendesk import API_TOKEN, EMAIL, zendesk_config

import settings
from integrations.base import PermanentError, Ticket, TransientError, delay_for
from integrations.zendesk import client as zendesk
from jobs.worker import drain
from kb import articles, mapping
from store import connect, migrate, outbox
from tickets import events, intake

ARTICLES = [
    {"external_id": "printer-jam", "title": "Printer jams on every page", "language": "en",
     "body": "Open the rear tray, remove the crumpled paper and reseat the printer drum.",
     "taxonomy": ["Hardware", "Printers"]},
    {"external_id": "printer-offline", "title": "Printer shows offline after a driver update", "language": "en",
     "body": "Reinstall the printer driver and set the printer port back to the network address.",
     "taxonomy": ["Hardware", "Printers"]},
    {"external_id": "vpn-drops", "title": "VPN drops every few minutes", "language": "en",
     "body": "Switch the VPN client to TCP and disable power saving on the wireless adapter.",
     "taxonomy": ["Network", "VPN"]},
]
SUBJECT = "Printer jams and shows offline"
DESCRIPTION = "Our office printer jams on every page and since the driver update it shows offline."


def _cfg(config: dict, fake, **worker) -> dict:
    config["zendesk"].update(zendesk_config(fake) if fake else {})
    config["worker"] = {"backoff_base_s": 5.0, **worker}
    return settings.load(config, environ={})


@pytest.fixture
def cfg(config, fake_zendesk):
    return _cfg(config, fake_zendesk)


@pytest.fixture
def conn(config):
    db = connect(config["database"])
    migrate(db)
    articles.import_articles(db.conn, ARTICLES, "en")
    yield db.conn
    db.conn.close()


def _jobs(conn) -> list[dict]:
    cur = conn.execute("SELECT id, kind, state, attempts, next_attempt_at, last_error FROM outbox ORDER BY id")
    return [dict(zip([c[0] for c in cur.description], row)) for row in cur.fetchall()]


def _stamp(dt: datetime) -> str:
    return dt.strftime("%Y-%m-%dT%H:%M:%SZ")


def _make_due(conn) -> None:
    conn.execute("UPDATE outbox SET next_attempt_at = '2000-01-01T00:00:00Z' WHERE state = 'pending'")


def _tags_job(conn, fake, ticket_id: int = 7) -> int:
    fake.add_ticket(ticket_id, SUBJECT, DESCRIPTION)
    return outbox.enqueue(conn, "zendesk", str(ticket_id), "tags", {"add": ["ks_reused"]})


def test_note_and_tags_written_back_with_the_exact_requests(conn, cfg, fake_zendesk):
    fake_zendesk.add_ticket(101, SUBJECT, DESCRIPTION, tags=["vip"])
    result = intake.handle(conn, cfg, Ticket("zendesk", "101", SUBJECT, DESCRIPTION, tags=["vip"], locale="en-US"))
    titles = [a["title"] for a in result["articles"][:3]]
    assert "Printer jams on every page" in titles
    assert [j["kind"] for j in _jobs(conn)] == ["note", "tags"]

    assert drain(conn, cfg, zendesk.from_config(cfg)) == {"done": 2, "retry": 0, "failed": 0, "held": 0}

    calls = fake_zendesk.requests
    assert [(c["method"], c["path"]) for c in calls] == [("PUT", "/api/v2/tickets/101.json"),
                                                        ("PUT", "/api/v2/tickets/101/tags.json")]
    note = calls[0]["json"]["ticket"]
    assert set(note) == {"id", "comment", "additional_tags"}
    assert note["id"] == 101 and note["additional_tags"] == ["ks_suggested"]
    assert note["comment"]["public"] is False
    assert all(title in note["comment"]["body"] for title in titles)
    assert "Hardware > Printers" in note["comment"]["body"]
    assert calls[1]["json"] == {"tags": ["ks_suggested"]}
    for c in calls:
        assert c["auth"] == [f"{EMAIL}/token", API_TOKEN]
        assert c["headers"]["Authorization"].startswith("Basic ")
        assert c["headers"]["Content-Type"] == "application/json"
    # Zendesk's side: one private comment, the loop-guard tag next to the ticket's own tag
    assert [(c["public"], c["type"]) for c in fake_zendesk.comments[101]] == [(False, "Comment")]
    assert fake_zendesk.tickets[101]["tags"] == ["vip", "ks_suggested"]
    assert {j["state"] for j in _jobs(conn)} == {"done"}


def test_taxonomy_field_and_reuse_tag(conn, config, fake_zendesk):
    config["zendesk"]["taxonomy_field_id"] = 360_000_777
    config["zendesk"]["write_back"] = "tags"
    cfg = _cfg(config, fake_zendesk)
    fake_zendesk.add_ticket(102, SUBJECT, DESCRIPTION)
    mapping.add_rule(conn, "tag", "printer", ["Hardware", "Printers"])
    result = intake.handle(conn, cfg, Ticket("zendesk", "102", SUBJECT, DESCRIPTION, tags=["printer"]))
    events.record(conn, cfg, "zendesk", "102", events.Event("reused", "agent@example.com",
                                                             article_id=result["articles"][0]["id"]))
    assert [j["kind"] for j in _jobs(conn)] == ["tags", "set_field", "tags"]

    assert drain(conn, cfg, zendesk.from_config(cfg))["done"] == 3

    field, reused = fake_zendesk.requests[1]["json"], fake_zendesk.requests[2]["json"]
    assert field == {"ticket": {"id": 102, "custom_fields": [{"id": 360_000_777, "value": "Hardware/Printers"}],
                                "additional_tags": ["ks_suggested"]}}
    assert reused == {"tags": ["ks_reused", "ks_suggested"]}
    assert fake_zendesk.tickets[102]["custom_fields"] == [{"id": 360_000_777, "value": "Hardware/Printers"}]


def test_reuse_links_the_article_in_an_internal_note(conn, cfg, fake_zendesk):
    fake_zendesk.add_ticket(103, SUBJECT, DESCRIPTION)
    result = intake.handle(conn, cfg, Ticket("zendesk", "103", SUBJECT, DESCRIPTION), write_back=False)
    top = result["articles"][0]
    ev = events.parse({"kind": "reused", "article_id": top["id"], "agent_name": "Sam Agent"}, "zendesk:acme:user:7")
    events.record(conn, cfg, "zendesk", "103", ev)
    assert [j["kind"] for j in _jobs(conn)] == ["link", "tags"]

    assert drain(conn, cfg, zendesk.from_config(cfg))["done"] == 2

    link = fake_zendesk.requests[0]
    assert link["method"] == "PUT" and link["path"] == "/api/v2/tickets/103.json"
    comment = link["json"]["ticket"]["comment"]
    assert comment["public"] is False
    assert comment["body"].startswith(f'Knowledge Sidecar: Sam Agent linked the article "{top["title"]}"')
    assert fake_zendesk.requests[1]["json"] == {"tags": ["ks_reused", "ks_suggested"]}


def test_not_configured_jobs_wait_then_go_out(conn, config, fake_zendesk):
    unconfigured = _cfg(config, None)
    assert zendesk.from_config(unconfigured) is None
    _tags_job(conn, fake_zendesk)

    assert drain(conn, unconfigured, None)["held"] == 1
    [job] = _jobs(conn)
    assert (job["state"], job["attempts"], job["last_error"]) == ("pending", 0, "zendesk not configured")
    assert fake_zendesk.requests == []

    cfg = _cfg(config, fake_zendesk)
    assert drain(conn, cfg, zendesk.from_config(cfg))["done"] == 1
    assert _jobs(conn)[0]["state"] == "done" and _jobs(conn)[0]["last_error"] is None


def test_429_retry_after_is_honoured_by_the_worker_not_by_zenpy(conn, cfg, fake_zendesk):
    _tags_job(conn, fake_zendesk)
    fake_zendesk.fail_next(429, retry_after=120)
    before = datetime.now(UTC).replace(microsecond=0)

    assert drain(conn, cfg, zendesk.from_config(cfg))["retry"] == 1
    [job] = _jobs(conn)
    assert job["state"] == "pending" and job["attempts"] == 1
    assert job["next_attempt_at"] >= _stamp(before + timedelta(seconds=120))
    assert "429" in job["last_error"]
    assert len(fake_zendesk.requests) == 1  # zenpy did not sleep and resend on its own

    assert drain(conn, cfg, zendesk.from_config(cfg))["done"] == 0  # not due yet
    assert len(fake_zendesk.requests) == 1
    _make_due(conn)
    assert drain(conn, cfg, zendesk.from_config(cfg))["done"] == 1
    assert len(fake_zendesk.requests) == 2 and _jobs(conn)[0]["attempts"] == 2


@pytest.mark.parametrize("status", [500, 503, 409])
def test_server_errors_and_conflicts_back_off(conn, cfg, fake_zendesk, status):
    _tags_job(conn, fake_zendesk)
    fake_zendesk.fail_next(status)
    before = datetime.now(UTC).replace(microsecond=0)
    assert drain(conn, cfg, zendesk.from_config(cfg))["retry"] == 1
    [job] = _jobs(conn)
    # first retry after backoff_base_s (5 s) +-20% jitter
    assert _stamp(before + timedelta(seconds=3)) <= job["next_attempt_at"] <= _stamp(before + timedelta(seconds=8))
    assert job["state"] == "pending" and str(status) in job["last_error"]


def test_404_fails_permanently(conn, cfg, fake_zendesk):
    outbox.enqueue(conn, "zendesk", "404404", "note", {"articles": [{"id": 1, "title": "T", "snippet": ""}],
                                                       "taxonomy": []})
    assert drain(conn, cfg, zendesk.from_config(cfg))["failed"] == 1
    [job] = _jobs(conn)
    assert (job["state"], job["attempts"]) == ("failed", 1)
    assert "404" in job["last_error"] and "RecordNotFound" in job["last_error"]
    assert [(c["method"], c["path"]) for c in fake_zendesk.requests] == [("PUT", "/api/v2/tickets/404404.json")]


def test_max_attempts_then_failed(conn, config, fake_zendesk):
    cfg = _cfg(config, fake_zendesk, max_attempts=2)
    _tags_job(conn, fake_zendesk)
    fake_zendesk.fail_next(503, count=5, retry_after=1)
    client = zendesk.from_config(cfg)
    assert drain(conn, cfg, client)["retry"] == 1
    _make_due(conn)
    assert drain(conn, cfg, client)["failed"] == 1
    [job] = _jobs(conn)
    assert (job["state"], job["attempts"]) == ("failed", 2) and "503" in job["last_error"]
    _make_due(conn)
    assert drain(conn, cfg, client)["failed"] == 0
    assert len(fake_zendesk.requests) == 2


def test_unreachable_zendesk_is_transient(conn, cfg, fake_zendesk, monkeypatch):
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        closed_port = s.getsockname()[1]
    monkeypatch.setenv("ZENPY_FORCE_NETLOC", f"127.0.0.1:{closed_port}")
    _tags_job(conn, fake_zendesk)
    assert drain(conn, cfg, zendesk.from_config(cfg))["retry"] == 1
    assert "unreachable" in _jobs(conn)[0]["last_error"]


def test_client_raises_typed_errors(cfg, fake_zendesk):
    client = zendesk.from_config(cfg)
    fake_zendesk.fail_next(429, retry_after=7)
    with pytest.raises(TransientError) as hit:
        client.add_tags("1", ["x"])
    assert hit.value.retry_after == 7.0
    with pytest.raises(PermanentError):
        client.fetch_ticket("999")
    with pytest.raises(PermanentError):
        client.add_internal_note("not-a-number", "hello")
    fake_zendesk.fail_next(401)
    with pytest.raises(TransientError, match="KS_ZENDESK_API_TOKEN") as refused:
        client.fetch_ticket("1")
    assert refused.value.retry_after == zendesk.CREDENTIALS_RETRY_S


def test_retry_after_forms_and_delay_policy():
    assert zendesk.parse_retry_after("30") == 30.0
    soon = (datetime.now(UTC) + timedelta(seconds=90)).strftime("%a, %d %b %Y %H:%M:%S GMT")
    assert 80 <= zendesk.parse_retry_after(soon) <= 91
    assert zendesk.parse_retry_after("soon") is None and zendesk.parse_retry_after(None) is None
    assert delay_for(1, 5.0, rand=lambda: 0.0) == pytest.approx(4.0)
    assert delay_for(1, 5.0, rand=lambda: 1.0) == pytest.approx(6.0)
    assert delay_for(3, 5.0, rand=lambda: 0.5) == pytest.approx(20.0)
    assert delay_for(3, 5.0, retry_after=60, rand=lambda: 0.5) == 60.0  # Retry-After wins when larger
    assert delay_for(3, 5.0, retry_after=1, rand=lambda: 0.5) == pytest.approx(20.0)
    assert delay_for(40, 5.0, rand=lambda: 1.0) <= 3600 * 1.2  # capped


def test_fetch_fields_updates_ticket_and_remaps_by_rule(conn, cfg, fake_zendesk):
    mapping.add_rule(conn, "field", "printer_issue", ["Hardware", "Printers"], field_id="360001")
    fake_zendesk.add_user(1001, locale="en-GB")
    fake_zendesk.add_ticket(202, SUBJECT, DESCRIPTION, tags=["vip"], custom_fields={"360001": "printer_issue",
                                                                                    "360002": None})
    first = intake.handle(conn, cfg, Ticket("zendesk", "202", SUBJECT, DESCRIPTION, needs_fields=True))
    assert first["taxonomy"]["source"] != "rule"
    assert [j["kind"] for j in _jobs(conn)] == ["fetch_fields", "note", "tags"]

    assert drain(conn, cfg, zendesk.from_config(cfg))["done"] == 3

    stored = intake.load_ticket(conn, "zendesk", "202")
    assert stored["fields"] == {"360001": "printer_issue"}
    assert (stored["tags"], stored["form_id"], stored["locale"]) == (["vip"], "40", "en-GB")
    latest = intake.latest_set(conn, stored["id"])
    assert latest["taxonomy"]["source"] == "rule" and latest["taxonomy"]["path"] == ["Hardware", "Printers"]
    assert [(c["method"], c["path"]) for c in fake_zendesk.requests] == [
        ("GET", "/api/v2/tickets/202.json"), ("GET", "/api/v2/users/1001.json"),
        ("PUT", "/api/v2/tickets/202.json"), ("PUT", "/api/v2/tickets/202/tags.json")]
    # no second write-back was queued by the recompute
    assert len(_jobs(conn)) == 3


def test_fetch_fields_keeps_the_set_when_mapping_is_unchanged(conn, cfg, fake_zendesk):
    fake_zendesk.add_user(1001, locale="en-US")
    fake_zendesk.add_ticket(203, SUBJECT, DESCRIPTION, custom_fields={"360009": "unmapped"})
    intake.handle(conn, cfg, Ticket("zendesk", "203", SUBJECT, DESCRIPTION, locale="en-US", needs_fields=True))
    conn.execute("DELETE FROM outbox WHERE kind != 'fetch_fields'")
    assert drain(conn, cfg, zendesk.from_config(cfg))["done"] == 1
    stored = intake.load_ticket(conn, "zendesk", "203")
    assert stored["fields"] == {"360009": "unmapped"}
    assert conn.execute("SELECT COUNT(*) FROM suggestion_sets WHERE ticket_id = ?", (stored["id"],)).fetchone()[0] == 1
