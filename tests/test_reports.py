"""Reuse report: exact figures from a scripted sequence, CSV, date filter, roles, bad parameters."""
from __future__ import annotations

import csv
import io
from datetime import UTC, datetime, timedelta

import pytest
from conftest import known_ticket

from tests.report_data import seed, seed_history


def _around_today() -> dict:
    today = datetime.now(UTC).date()
    return {"from": (today - timedelta(days=1)).isoformat(), "to": (today + timedelta(days=1)).isoformat()}


@pytest.fixture
def seeded(app, client, admin, db):
    return seed(app, client, admin, db)


def test_report_figures_from_scripted_events(client, seeded):
    resp = client.get("/api/reports/reuse", query_string=_around_today(), headers=seeded["lead"])
    assert resp.status_code == 200
    report = resp.json
    assert report["totals"] == {"tickets": 5, "tickets_with_suggestions": 3, "tickets_with_reuse": 1,
                                "reuse_rate": 0.3333, "reuses": 1, "flags": 1, "creates": 1, "macro_inserts": 1,
                                "searches": 1, "tickets_without_suggestions": 2}
    nodes = {" / ".join(r["path"]) or None: r for r in report["by_node"]}
    assert set(nodes) == {"Orders / Refunds", "Account / Password", "App / Notifications", None}
    refunds = nodes["Orders / Refunds"]
    assert (refunds["tickets"], refunds["tickets_with_suggestions"], refunds["tickets_with_reuse"],
            refunds["reuse_rate"], refunds["reuses"], refunds["macro_inserts"], refunds["articles"]) == \
        (2, 2, 1, 0.5, 1, 1, 1)
    password = nodes["Account / Password"]
    assert (password["tickets_with_suggestions"], password["tickets_with_reuse"], password["flags"],
            password["searches"], password["reuse_rate"]) == (1, 0, 1, 1, 0.0)
    assert nodes["App / Notifications"]["tickets_without_suggestions"] == 1
    assert nodes[None]["creates"] == 1 and nodes[None]["tickets_without_suggestions"] == 1
    agents = {r["agent"]: r for r in report["by_agent"]}
    assert [r["agent"] for r in report["by_agent"]] == ["alice", "bob"]
    assert {k: agents["alice"][k] for k in ("tickets", "tickets_with_reuse", "reuse_rate", "reuses", "creates",
                                            "macro_inserts")} == \
        {"tickets": 2, "tickets_with_reuse": 1, "reuse_rate": 0.5, "reuses": 1, "creates": 1, "macro_inserts": 1}
    assert {k: agents["bob"][k] for k in ("tickets", "tickets_with_reuse", "flags", "searches")} == \
        {"tickets": 2, "tickets_with_reuse": 0, "flags": 1, "searches": 1}
    assert sum(w["tickets_with_suggestions"] for w in report["by_week"]) == 3
    assert sum(w["tickets_with_reuse"] for w in report["by_week"]) == 1
    gaps = {" / ".join(g["path"]) or None: g["reason"] for g in report["gaps"]}
    assert gaps == {"Account / Password": "no reuse", "App / Notifications": "no articles",
                    None: "no taxonomy node"}


def test_csv_of_each_group_parses(client, seeded):
    params = {**_around_today(), "format": "csv"}
    resp = client.get("/api/reports/reuse", query_string={**params, "group": "node"}, headers=seeded["lead"])
    assert resp.status_code == 200 and resp.mimetype == "text/csv"
    assert resp.headers["Content-Disposition"] == \
        f'attachment; filename="reuse-by-node-{params["from"]}-to-{params["to"]}.csv"'
    rows = list(csv.DictReader(io.StringIO(resp.get_data(as_text=True))))
    by_path = {r["path"]: r for r in rows}
    assert len(rows) == 4
    assert by_path["Orders / Refunds"]["tickets_with_reuse"] == "1"
    assert by_path["Orders / Refunds"]["reuse_rate"] == "0.5"
    assert by_path[""]["node_id"] == "" and by_path[""]["creates"] == "1"

    agents = client.get("/api/reports/reuse", query_string={**params, "group": "agent"}, headers=seeded["lead"])
    agent_rows = list(csv.DictReader(io.StringIO(agents.get_data(as_text=True))))
    assert [(r["agent"], r["reuses"], r["flags"]) for r in agent_rows] == [("alice", "1", "0"), ("bob", "0", "1")]

    weeks = client.get("/api/reports/reuse", query_string={**params, "group": "week"}, headers=seeded["lead"])
    week_rows = list(csv.DictReader(io.StringIO(weeks.get_data(as_text=True))))
    assert sum(int(r["tickets_with_suggestions"]) for r in week_rows) == 3
    assert all(r["week"].count("-W") == 1 for r in week_rows)


def test_date_filter_by_week(client, admin, db):
    seed_history(db)
    march = client.get("/api/reports/reuse?from=2024-03-04&to=2024-03-17&group=week", headers=admin).json
    assert march["totals"]["tickets_with_suggestions"] == 2
    assert march["totals"]["tickets_with_reuse"] == 1
    assert march["totals"]["flags"] == 1
    assert march["totals"]["reuse_rate"] == 0.5
    assert [(w["week"], w["tickets_with_suggestions"], w["tickets_with_reuse"], w["flags"])
            for w in march["by_week"]] == [("2024-W10", 1, 1, 0), ("2024-W11", 1, 0, 1)]
    later = client.get("/api/reports/reuse?from=2024-03-18&to=2024-03-24", headers=admin).json
    assert (later["totals"]["tickets_with_suggestions"], later["totals"]["tickets_with_reuse"]) == (1, 1)
    # The reuse on 6 March is outside a range that ends on the 5th; the set on the 4th is inside.
    early = client.get("/api/reports/reuse?from=2024-03-01&to=2024-03-05", headers=admin).json
    assert (early["totals"]["tickets_with_suggestions"], early["totals"]["tickets_with_reuse"]) == (1, 0)
    assert early["from"] == "2024-03-01" and early["to"] == "2024-03-05"
    empty = client.get("/api/reports/reuse?from=2023-01-01&to=2023-01-31", headers=admin).json
    assert empty["totals"]["tickets_with_suggestions"] == 0 and empty["totals"]["reuse_rate"] == 0.0
    assert empty["by_node"] == [] and empty["gaps"] == []


def test_roles(client, seeded, admin):
    assert client.get("/api/reports/reuse").status_code == 401
    denied = client.get("/api/reports/reuse", headers=seeded["alice"])
    assert denied.status_code == 403 and "lead" in denied.json["message"]
    assert client.get("/api/reports/reuse?format=csv", headers=seeded["alice"]).status_code == 403
    assert client.get("/api/reports/reuse", headers=seeded["lead"]).status_code == 200
    assert client.get("/api/reports/reuse", headers=admin).status_code == 200


@pytest.mark.parametrize("query, words", [
    ("from=2024-02-30", "from is not a calendar date"),
    ("from=2024-3-1", "from must be a date as YYYY-MM-DD"),
    ("to=yesterday", "to must be a date as YYYY-MM-DD"),
    ("from=2024-03-10&to=2024-03-01", "is after to"),
    ("group=team", "group must be one of"),
    ("format=xml", "format must be json or csv"),
    ("to=9999-12-31", "to must be between 1970-01-01 and 9998-12-31"),
    ("to=0001-01-05", "to must be between"),
    ("from=0001-01-01&to=2024-01-01", "from must be between"),
])
def test_bad_parameters_are_clear_400s(client, admin, query, words):
    resp = client.get(f"/api/reports/reuse?{query}", headers=admin)
    assert resp.status_code == 400
    assert words in resp.json["message"]


def test_csv_cells_never_start_a_formula(client, admin, db):
    from integrations.base import Ticket
    from tickets import intake

    intake.handle(db, client.application.config["KS"], Ticket("zendesk", "9", "Xyzzy", "Plugh"))
    resp = client.post("/api/tickets/zendesk/9/events", json={"kind": "searched", "query": "q",
                                                              "agent": "=HYPERLINK(\"http://x\")"}, headers=admin)
    assert resp.status_code == 201
    text = client.get("/api/reports/reuse?format=csv&group=agent", headers=admin).get_data(as_text=True)
    row = list(csv.DictReader(io.StringIO(text)))[0]
    assert row["agent"].startswith("'=")


def test_trend_chart_geometry():
    from web import trend_chart

    weeks = [{"week": "2024-W10", "tickets_with_suggestions": 4, "tickets_with_reuse": 2, "reuse_rate": 0.5},
             {"week": "2024-W11", "tickets_with_suggestions": 0, "tickets_with_reuse": 0, "reuse_rate": 0.0}]
    chart = trend_chart.weekly(weeks)
    plot_h = chart["bottom"] - chart["top"]
    suggested, reused = chart["bars"][0], chart["bars"][1]
    assert (suggested["series"], suggested["h"], suggested["y"]) == ("suggested", plot_h, chart["top"])
    assert (reused["series"], reused["h"]) == ("reused", plot_h / 2)
    assert chart["points"][0]["y"] == chart["top"] + plot_h / 2 and chart["points"][1]["y"] == chart["bottom"]
    assert [t["text"] for t in chart["left_ticks"]] == ["0", "2", "4"]
    assert [t["text"] for t in chart["right_ticks"]] == ["0%", "50%", "100%"]
    assert [label["text"] for label in chart["labels"]] == ["2024-W10", "2024-W11"]


@pytest.mark.parametrize("nxt, where", [("/admin/flags", "/admin/flags"), ("//evil.example/x", "/reports"),
                                        ("https://evil.example", "/reports"), ("/\t/evil.example", "/reports")])
def test_sign_in_only_returns_to_this_site(client, nxt, where):
    resp = client.post("/signin", data={"token": "test-admin-token", "next": nxt})
    assert resp.status_code == 303 and resp.headers["Location"] == where
    assert "HttpOnly" in resp.headers["Set-Cookie"] and "SameSite=Strict" in resp.headers["Set-Cookie"]


def test_by_agent_shows_the_name_the_helpdesk_sent(client, admin, db):
    known_ticket(db, "801", "802")
    assert client.post("/api/articles/import", headers=admin, json={"articles": [
        {"external_id": "a1", "title": "Reset a password", "body": "Use the link."}]}).status_code == 200
    art = client.get("/api/articles", headers=admin).json["articles"][0]["id"]
    for ticket, name in (("801", "Zofia W."), ("802", "Zofia Wójcik")):
        event = {"kind": "reused", "article_id": art, "agent": "zendesk:acme:user:4242", "agent_name": name}
        assert client.post(f"/api/tickets/zendesk/{ticket}/events", headers=admin, json=event).status_code == 201
    rows = client.get("/api/reports/reuse", headers=admin).json["by_agent"]
    assert [(r["agent"], r["name"], r["reuses"]) for r in rows] == [("zendesk:acme:user:4242", "Zofia Wójcik", 2)]
    csv_rows = list(csv.DictReader(io.StringIO(client.get("/api/reports/reuse?group=agent&format=csv",
                                                          headers=admin).get_data(as_text=True))))
    assert csv_rows[0]["name"] == "Zofia Wójcik"
