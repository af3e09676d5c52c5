"""A scripted helpdesk history for the report tests: real imports, real intake, real events."""
from __future__ import annotations

import json

from api_tokens import tokens
from integrations.base import Ticket
from tickets import intake

ARTICLES = [
    {"external_id": "kb-refund", "title": "Refund for an item that arrived damaged", "language": "en",
     "taxonomy": ["Orders", "Refunds"], "issue": "My parcel arrived damaged, the mug is broken. Refund?",
     "resolution": "Refund the damaged lines to the original payment method."},
    {"external_id": "kb-password", "title": "Password reset email does not arrive", "language": "en",
     "taxonomy": ["Account", "Password"], "issue": "The password reset email never arrives.",
     "resolution": "Check spam, then send a new reset link from the admin console."},
]
RULES = [
    {"kind": "tag", "value": "refund", "taxonomy": ["Orders", "Refunds"]},
    {"kind": "tag", "value": "password", "taxonomy": ["Account", "Password"]},
    {"kind": "tag", "value": "notif", "taxonomy": ["App", "Notifications"]},
]
TICKETS = [  # external id, subject, description, tags
    ("101", "My parcel arrived damaged", "The mug is broken, can I get a refund?", ["refund"]),
    ("102", "Broken item refund", "The parcel arrived damaged", ["refund"]),
    ("103", "Password reset email", "The reset email never arrives", ["password"]),
    ("104", "Zqxv blorf", "Wubba plonk", ["notif"]),
    ("105", "Xyzzy plugh", "Frobnicate quux", []),
]


def seed(app, client, admin: dict, db) -> dict:
    """Articles, rules, five tickets through intake, then agents' events through the HTTP API.

    Expected: 5 tickets with sets, 3 with suggestions (101-103), 2 without (104 on App/Notifications, 105 with
    no node), 1 with reuse (101: alice clicks Reuse twice on one article, which links it once), 1 macro insert,
    1 flag and 1 search (bob on 103), 1 create (alice on 105).
    """
    assert client.post("/api/articles/import", json={"articles": ARTICLES}, headers=admin).json["created"] == 2
    for rule in RULES:
        assert client.post("/api/mappings", json=rule, headers=admin).status_code == 201
    macro = client.post("/api/macros", json={"macros": [{"external_id": "m-refund", "title": "Refund confirmed",
                                                          "body": "Hi {{ requester.first_name }}, refunded.",
                                                          "language": "en", "taxonomy": ["Orders", "Refunds"]}]},
                        headers=admin)
    assert macro.json["created"] == 1
    cfg = app.config["KS"]
    ids = {}
    for ext, subject, description, tags in TICKETS:
        result = intake.handle(db, cfg, Ticket("zendesk", ext, subject, description, tags=tags, locale="en-US"))
        ids[ext] = [a["external_id"] for a in result["articles"]]
    assert ids["101"][0] == "kb-refund" and ids["103"][0] == "kb-password"
    assert ids["104"] == [] and ids["105"] == []
    art = {r[1]: r[0] for r in db.execute("SELECT id, external_id FROM articles")}
    macro_id = db.execute("SELECT id FROM macros WHERE external_id = 'm-refund'").fetchone()[0]
    alice = {"Authorization": "Bearer " + tokens.create(db, "alice", "agent")}
    bob = {"Authorization": "Bearer " + tokens.create(db, "bob", "agent")}
    lead = {"Authorization": "Bearer " + tokens.create(db, "lena", "lead")}
    script = [
        (alice, "101", {"kind": "viewed"}),
        (alice, "101", {"kind": "reused", "article_id": art["kb-refund"]}),
        (alice, "101", {"kind": "reused", "article_id": art["kb-refund"]}),
        (alice, "101", {"kind": "macro_inserted", "macro_id": macro_id}),
        (bob, "102", {"kind": "viewed"}),
        (bob, "103", {"kind": "searched", "query": "reset link"}),
        (bob, "103", {"kind": "flagged", "article_id": art["kb-password"], "reason": "the console menu moved"}),
        (alice, "105", {"kind": "created", "article": {"title": "Frobnicate errors on quux",
                                                       "resolution": "Restart the quux service.",
                                                       "language": "en"}}),
    ]
    for who, ticket, body in script:
        resp = client.post(f"/api/tickets/zendesk/{ticket}/events", json=body, headers=who)
        assert resp.status_code == 201, resp.json
    return {"alice": alice, "bob": bob, "lead": lead, "articles": art}


def seed_history(db) -> None:
    """Three older tickets in March 2024 (weeks 10, 11, 12) with sets and events at fixed times."""
    from kb import taxonomy
    from store import write

    with write(db):
        node = taxonomy.ensure_path(db, ["Orders", "Refunds"])
        article = db.execute("INSERT INTO articles (external_id, title, body, language, node_id, created_at, "
                             "updated_at) VALUES ('old', 'Old refund article', 'refund', 'en', ?, "
                             "'2024-01-01T00:00:00Z', '2024-01-01T00:00:00Z')", (node,)).lastrowid
        payload = json.dumps({"articles": [{"id": article}], "macros": []})
        for ext, set_at, reuse_at, flag_at in (("h1", "2024-03-04T09:00:00Z", "2024-03-06T10:00:00Z", None),
                                               ("h2", "2024-03-12T09:00:00Z", None, "2024-03-13T11:00:00Z"),
                                               ("h3", "2024-03-20T09:00:00Z", "2024-03-21T08:00:00Z", None)):
            tid = db.execute("INSERT INTO tickets (integration, external_id, node_id, created_at, updated_at) "
                             "VALUES ('zendesk', ?, ?, ?, ?)", (ext, node, set_at, set_at)).lastrowid
            db.execute("INSERT INTO suggestion_sets (ticket_id, node_id, payload, created_at) VALUES (?, ?, ?, ?)",
                       (tid, node, payload, set_at))
            for kind, at in (("reused", reuse_at), ("flagged", flag_at)):
                if at:
                    db.execute("INSERT INTO events (ticket_id, kind, article_id, node_id, agent, reason, created_at)"
                               " VALUES (?, ?, ?, ?, 'carol', 'x', ?)", (tid, kind, article, node, at))
