"""Agent events through the HTTP API: linking is once per ticket and article, captured articles stay
work in progress, and ids are checked before they reach SQLite."""
from __future__ import annotations

import pytest
from conftest import known_ticket

from api_tokens import tokens

ARTICLE = {"external_id": "kb-refund", "title": "Refund a damaged parcel", "body": "Refund it in the admin panel.",
           "taxonomy": ["Orders", "Refunds"]}


@pytest.fixture
def agent(db) -> dict:
    return {"Authorization": f"Bearer {tokens.create(db, 'ann', 'agent')}"}


@pytest.fixture
def article(client, admin) -> int:
    assert client.post("/api/articles/import", headers=admin, json={"articles": [ARTICLE]}).status_code == 200
    return client.get("/api/articles", headers=admin).json["articles"][0]["id"]


def post(client, headers, ticket, body):
    return client.post(f"/api/tickets/zendesk/{ticket}/events", headers=headers, json=body)


def test_reusing_the_same_article_on_a_ticket_again_links_it_once(client, agent, admin, article, db):
    known_ticket(db, "700", "701")
    first = post(client, agent, "700", {"kind": "reused", "article_id": article})
    again = post(client, agent, "700", {"kind": "reused", "article_id": article})
    other = post(client, admin, "700", {"kind": "reused", "article_id": article})     # another person, same link
    assert first.status_code == 201 and again.status_code in (200, 201) and other.status_code in (200, 201)
    assert again.json["id"] == first.json["id"] == other.json["id"] and again.json["already_recorded"] is True
    assert db.execute("SELECT count(*) FROM events WHERE kind = 'reused'").fetchone()[0] == 1
    assert db.execute("SELECT reuse_count FROM articles WHERE id = ?", (article,)).fetchone()[0] == 1
    assert db.execute("SELECT kind, count(*) FROM outbox GROUP BY kind ORDER BY kind").fetchall() == \
        [("link", 1), ("tags", 1)]
    assert post(client, agent, "701", {"kind": "reused", "article_id": article}).status_code == 201   # other ticket
    assert db.execute("SELECT reuse_count FROM articles WHERE id = ?", (article,)).fetchone()[0] == 2


def test_an_agent_cannot_publish_or_create_nodes_through_a_captured_article(client, agent, admin, article, db):
    known_ticket(db, "702")
    body = {"kind": "created", "article": {"title": "Parcel lost", "body": "Open a claim.", "state": "validated",
                                           "visibility": "public", "owner": "publisher-paul"}}
    resp = post(client, agent, "702", body)
    assert resp.status_code == 201
    row = db.execute("SELECT state, visibility, owner FROM articles WHERE id = ?", (resp.json["article_id"],))
    assert row.fetchone() == ("wip", "internal", "ann")
    made = post(client, agent, "702", {"kind": "created", "article": {"title": "New", "body": "x",
                                                                       "taxonomy": ["Agent made", "Node"]}})
    assert made.status_code == 400 and "an admin creates nodes" in made.json["message"]
    assert client.get("/api/taxonomy", headers=admin).json["nodes"] and \
        db.execute("SELECT count(*) FROM taxonomy_nodes WHERE path LIKE 'agent-made%'").fetchone()[0] == 0
    filed = post(client, agent, "702", {"kind": "created", "article": {"title": "Refund twice", "body": "y",
                                                                        "taxonomy": ["Orders", "Refunds"]}})
    assert filed.status_code == 201, filed.json                                       # an existing node is fine


@pytest.mark.parametrize("value", ["²", "١", "1e3", 10**30, "99999999999999999999", -1, True])
def test_ids_that_are_not_plain_whole_numbers_are_refused(client, agent, article, value):
    resp = post(client, agent, "703", {"kind": "reused", "article_id": value})
    assert resp.status_code == 400 and "whole number" in resp.json["message"]
