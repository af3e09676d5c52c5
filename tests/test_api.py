"""The HTTP contract the benchmark and acceptance checks drive: import, suggest, ticket suggestions, events."""
from __future__ import annotations

import json
import re

from conftest import known_ticket

from api_tokens import tokens
from integrations.base import Ticket
from kb import mapping
from store import write
from tickets import intake

ARTICLES = [
    {"external_id": "pw-reset", "title": "Password reset e-mail does not arrive",
     "body": "Check the spam folder, then resend the password reset link from the login page.",
     "language": "en", "taxonomy": ["account", "password"]},
    {"external_id": "refund", "title": "Refund for a damaged parcel",
     "body": "Open the order, choose Return, pick Damaged on arrival and select Refund to card.",
     "language": "en", "taxonomy": ["orders", "refunds"]},
    {"external_id": "refund-de", "title": "Rückerstattung für ein beschädigtes Paket",
     "body": "Öffnen Sie die Bestellung, wählen Sie Rücksendung und dann Erstattung auf die Karte.",
     "language": "de", "taxonomy": ["orders", "refunds"]},
]


def test_import_json_upserts_on_external_id(client, admin, db):
    r = client.post("/api/articles/import", json={"articles": ARTICLES}, headers=admin).get_json()
    assert r == {"created": 3, "updated": 0, "skipped": 0, "errors": []}
    again = client.post("/api/articles/import", json={"articles": ARTICLES}, headers=admin).get_json()
    assert again == {"created": 0, "updated": 0, "skipped": 3, "errors": []}
    changed = dict(ARTICLES[0], body="Resend the link; it expires after 24 hours.")
    r = client.post("/api/articles/import", json={"articles": [changed]}, headers=admin).get_json()
    assert r["updated"] == 1
    assert db.execute("SELECT version FROM articles WHERE external_id = 'pw-reset'").fetchone()[0] == 2
    assert db.execute("SELECT COUNT(*) FROM article_versions").fetchone()[0] == 4
    assert db.execute("SELECT path FROM taxonomy_nodes ORDER BY path").fetchall() == [
        ("account",), ("account/password",), ("orders",), ("orders/refunds",)]


def test_import_json_lines_reports_bad_items(client, admin):
    lines = [json.dumps(ARTICLES[0]), "{broken", json.dumps({"external_id": "x", "title": "", "body": "b"}),
             json.dumps({"external_id": "y", "title": "t", "body": "b", "language": "xx"})]
    resp = client.post("/api/articles/import", data="\n".join(lines), headers={
        **admin, "Content-Type": "application/x-ndjson"})
    r = resp.get_json()
    assert resp.status_code == 200
    assert r["created"] == 1
    assert [e["line"] for e in r["errors"]] == [2, 3, 4]          # JSON Lines errors name their line, in order
    assert not any("index" in e for e in r["errors"])
    assert "title is required" in r["errors"][1]["error"] and r["errors"][1]["external_id"] == "x"


def test_import_needs_publisher_role(client, db):
    agent = tokens.create(db, "agent smith", "agent")
    resp = client.post("/api/articles/import", json={"articles": ARTICLES},
                       headers={"Authorization": f"Bearer {agent}"})
    assert resp.status_code == 403
    assert client.post("/api/articles/import", json={"articles": ARTICLES}).status_code == 401
    assert client.post("/api/articles/import", json={"articles": ARTICLES},
                       headers={"Authorization": "Bearer wrong"}).status_code == 401


def test_suggest_contract_shape(client, admin):
    client.post("/api/articles/import", json={"articles": ARTICLES}, headers=admin)
    r = client.post("/api/suggest", json={"subject": "reset password mail missing", "description": ""},
                    headers=admin).get_json()
    assert set(r) >= {"taxonomy", "articles", "macros"}
    assert set(r["taxonomy"]) >= {"path", "source", "confidence"}
    assert r["taxonomy"]["source"] == "inferred" and r["taxonomy"]["path"] == ["account", "password"]
    top = r["articles"][0]
    assert top["external_id"] == "pw-reset"
    assert set(top) >= {"id", "external_id", "title", "score", "snippet"}


def test_suggest_rule_beats_inference_and_priority_order(client, admin, db):
    client.post("/api/articles/import", json={"articles": ARTICLES}, headers=admin)
    with write(db):
        mapping.add_rule(db, "tag", "billing", ["billing"], priority=10)
        mapping.add_rule(db, "tag", "vip", ["orders", "refunds"], priority=50)
        mapping.add_rule(db, "field", "damaged", ["orders", "refunds"], field_id="900", priority=5)
        mapping.add_rule(db, "form", "40", ["account", "password"], priority=1)
    ask = {"subject": "reset password mail missing"}
    r = client.post("/api/suggest", json={**ask, "tags": ["billing", "vip"]}, headers=admin).get_json()
    assert r["taxonomy"]["source"] == "rule" and r["taxonomy"]["path"] == ["orders", "refunds"]
    r = client.post("/api/suggest", json={**ask, "tags": ["billing"], "fields": {"900": "damaged"}},
                    headers=admin).get_json()
    assert r["taxonomy"]["path"] == ["billing"]
    r = client.post("/api/suggest", json={**ask, "fields": {"900": ["other", "damaged"]}}, headers=admin).get_json()
    assert r["taxonomy"]["path"] == ["orders", "refunds"]
    r = client.post("/api/suggest", json={**ask, "form_id": 40}, headers=admin).get_json()
    assert r["taxonomy"] == {"path": ["account", "password"], "source": "rule", "confidence": 1.0,
                             "rule_id": r["taxonomy"]["rule_id"]}
    r = client.post("/api/suggest", json=ask, headers=admin).get_json()
    assert r["taxonomy"]["source"] == "inferred"


def test_suggest_rejects_bad_input(client, admin):
    assert client.post("/api/suggest", data="nope", headers=admin).status_code == 400
    assert client.post("/api/suggest", json={"subject": ""}, headers=admin).status_code == 400
    assert client.post("/api/suggest", json={"subject": "x", "limit": 0}, headers=admin).status_code == 400
    assert client.post("/api/suggest", json={"subject": "x", "tags": "a"}, headers=admin).status_code == 400
    body = client.post("/api/suggest", json={"subject": 5}, headers=admin).get_json()
    assert body["message"] == "subject must be text"


def test_ticket_suggestions_and_events(client, admin, app, db):
    client.post("/api/articles/import", json={"articles": ARTICLES}, headers=admin)
    intake.handle(db, app.config["KS"], Ticket("zendesk", "42", "Parcel damaged", "refund please", locale="en-US"))
    r = client.get("/api/tickets/zendesk/42/suggestions", headers=admin).get_json()
    assert r["ticket"]["external_id"] == "42" and r["articles"][0]["external_id"] == "refund"
    assert client.get("/api/tickets/zendesk/43/suggestions", headers=admin).status_code == 404
    assert client.get("/api/tickets/jira/42/suggestions", headers=admin).status_code == 404
    art = r["articles"][0]["id"]
    ok = client.post("/api/tickets/zendesk/42/events", json={"kind": "reused", "article_id": art}, headers=admin)
    assert ok.status_code == 201
    assert db.execute("SELECT reuse_count FROM articles WHERE id = ?", (art,)).fetchone()[0] == 1
    bad = [({"kind": "liked"}, "kind must be"), ({"kind": "reused"}, "needs article_id"),
           ({"kind": "flagged", "article_id": art}, "reason"), ({"kind": "reused", "article_id": 99999}, "no article"),
           ({"kind": "macro_inserted"}, "macro_id"), ({"kind": "searched"}, "query")]
    for body, message in bad:
        resp = client.post("/api/tickets/zendesk/42/events", json=body, headers=admin)
        assert resp.status_code == 400 and message in resp.get_json()["message"], body
    created = client.post("/api/tickets/zendesk/42/events", headers=admin, json={
        "kind": "created", "article": {"title": "Mug broken in transit", "body": "Refund via the Return flow."}})
    assert created.status_code == 201
    row = db.execute("SELECT state, visibility, source_ticket FROM articles WHERE id = ?",
                     (created.get_json()["article_id"],)).fetchone()
    assert row == ("wip", "internal", "zendesk:42")
    assert db.execute("SELECT COUNT(*) FROM events").fetchone()[0] == 2


def test_events_are_append_only(db, client, admin):
    known_ticket(db, "9")
    client.post("/api/tickets/zendesk/9/events", json={"kind": "searched", "query": "vpn"}, headers=admin)
    import sqlite3

    import pytest
    with pytest.raises(sqlite3.IntegrityError, match="append-only"):
        db.execute("UPDATE events SET kind = 'reused'")
    with pytest.raises(sqlite3.IntegrityError, match="append-only"):
        db.execute("DELETE FROM events")


def test_health_and_openapi_describe_every_route(client, app):
    assert client.get("/healthz").get_json() == {"status": "ok"}
    spec = client.get("/openapi.json").get_json()
    documented = set(spec["paths"])
    for rule in app.url_map.iter_rules():
        if rule.endpoint != "static":
            path = rule.rule.replace("<int:", "{").replace("<", "{").replace(">", "}")
            assert path in documented, path
    assert spec["paths"]["/api/suggest"]["post"]["x-required-role"] == "agent"
    metrics = client.get("/metrics").get_data(as_text=True)
    assert "# TYPE ks_outbox_jobs gauge" in metrics


def test_only_admin_tokens_record_events_for_another_agent(client, admin, db):
    agent = tokens.create(db, "ann", "agent")
    as_agent = {"Authorization": f"Bearer {agent}"}
    known_ticket(db, "5")
    resp = client.post("/api/tickets/zendesk/5/events", json={"kind": "searched", "query": "vpn", "agent": "bob"},
                       headers=as_agent)
    assert resp.status_code == 400 and "admin" in resp.get_json()["message"]
    assert client.post("/api/tickets/zendesk/5/events", json={"kind": "searched", "query": "vpn"},
                       headers=as_agent).status_code == 201
    assert client.post("/api/tickets/zendesk/5/events", json={"kind": "searched", "query": "vpn", "agent": "bob"},
                       headers=admin).status_code == 201
    assert [r[0] for r in db.execute("SELECT agent FROM events ORDER BY id")] == ["ann", "bob"]


def test_sessions_are_signed_with_the_installation_secret_when_none_is_configured(tmp_path):
    import jwt

    from app import create_app
    from web.auth import SESSION_AUDIENCE

    app = create_app({"database": str(tmp_path / "s.db"), "admin_token": "adm", "server": {"session_secret": ""}})
    client = app.test_client()
    client.post("/api/articles/import", headers={"Authorization": "Bearer adm"}, json={"articles": ARTICLES})
    page = client.get("/widget?ticket=1", headers={"Authorization": "Bearer adm"})
    assert page.status_code == 200
    boot = re.search(r'<script type="application/json" id="ks-boot">(.*?)</script>', page.get_data(as_text=True))
    session = json.loads(boot.group(1))["session"]
    ok = client.post("/api/suggest", json={"subject": "refund"}, headers={"Authorization": f"Bearer {session}"})
    assert ok.status_code == 200
    # A session forged with a guessable key (the database path) is refused.
    forged = jwt.encode({"sub": "mallory", "role": "admin", "ticket": None, "aud": SESSION_AUDIENCE,
                         "exp": 4102444800}, str(tmp_path / "s.db").ljust(32, "x"), algorithm="HS256")
    assert client.get("/api/reports/reuse", headers={"Authorization": f"Bearer {forged}"}).status_code == 401
