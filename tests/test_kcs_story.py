"""The KCS loop as one story, through the HTTP API the widget and the pages use: create from a ticket (the
near-duplicate shown first) → validated by the owner → reused by two agents → flagged → the owner fixes the
resolution (a new version, the flag resolved and linked) → both agents see the change marker and a notice, the
flagger is told → the audit finds nothing open. Then the edges: versions, diffs, restores, permissions."""
from __future__ import annotations

import pytest
from conftest import known_ticket

from api_tokens import tokens
from kb import audits, taxonomy

EXISTING = {"external_id": "refund-timeline", "title": "Refund timeline after a return", "language": "en",
            "issue": "When do I get my money back after returning an item?",
            "resolution": "Refunds reach the original payment method within 5 to 7 working days.",
            "taxonomy": ["Orders", "Refunds"]}


@pytest.fixture
def people(db, client, admin):
    made = {name: {"Authorization": f"Bearer {tokens.create(db, name, role)}"}
            for name, role in (("ann", "agent"), ("bob", "agent"), ("paula", "publisher"))}
    assert client.post("/api/articles/import", json={"articles": [EXISTING]}, headers=admin).status_code == 200
    node = taxonomy.find(db, ["Orders", "Refunds"])
    assert client.patch(f"/api/taxonomy/{node}", json={"owner": "paula"}, headers=admin).status_code == 200
    known_ticket(db, "9001", "9002", "9003")
    return made


def event(client, who, ticket, body):
    return client.post(f"/api/tickets/zendesk/{ticket}/events", json=body, headers=who)


def test_the_kcs_story(client, db, app, people):
    ann, bob, paula = people["ann"], people["bob"], people["paula"]
    # Ann searched on the ticket, then drafts an article: the near-duplicate is shown before she files hers.
    assert event(client, ann, "9001", {"kind": "searched", "query": "refund damaged parcel"}).status_code == 201
    similar = client.post("/api/articles/similar", headers=ann, json={
        "title": "Refund timeline for a damaged parcel", "issue": "When do I get my money back after returning"})
    assert similar.status_code == 200
    assert similar.json["articles"][0]["external_id"] == "refund-timeline"
    created = event(client, ann, "9001", {"kind": "created", "article": {
        "title": "Refund for a parcel that arrived damaged", "issue": "The mug arrived broken, I want a refund",
        "resolution": "Ask for a photo, then refund the order.", "taxonomy": ["Orders", "Refunds"],
        "keywords": "refund damaged parcel"}})
    assert created.status_code == 201
    art = created.json["article_id"]
    a = client.get(f"/api/articles/{art}", headers=ann).json
    assert (a["state"], a["visibility"], a["owner"], a["keywords"]) == ("wip", "internal", "paula",
                                                                        ["refund damaged parcel"])
    assert a["source_ticket"] == "zendesk:9001"

    # Validated (and made public) by its owner, Paula, the SME of Orders › Refunds.
    v2 = client.patch(f"/api/articles/{art}", headers=paula,
                      json={"state": "validated", "visibility": "public", "note": "checked with finance"})
    assert v2.status_code == 200 and v2.json["version"] == 2 and set(v2.json["changed"]) == {"state", "visibility"}

    # Reused by two agents on two tickets.
    assert event(client, ann, "9001", {"kind": "reused", "article_id": art}).status_code == 201
    assert event(client, bob, "9002", {"kind": "reused", "article_id": art}).status_code == 201

    # Bob flags a missing step: it goes to the owner, who is told.
    flagged = event(client, bob, "9002", {"kind": "flagged", "article_id": art, "category": "missing_step",
                                          "reason": "The photo must show the parcel's label too"})
    assert flagged.status_code == 201
    flag = flagged.json["flag"]
    assert flag["owner"] == "paula" and flag["told"] is True and flag["category"] == "missing_step"
    inbox = client.get("/api/notices", headers=paula).json
    assert inbox["unread"] >= 1 and inbox["notices"][0]["kind"] == "flag_raised"
    queue = client.get("/api/flags?status=open&owner=paula", headers=paula).json["flags"]
    assert [f["id"] for f in queue] == [flag["id"]]

    # Paula fixes the resolution; the new version closes the flag and is linked to it.
    fixed = client.patch(f"/api/articles/{art}", headers=paula, json={
        "resolution": "Ask for a photo showing the parcel and its label, then refund the order.",
        "note": "the label shows the carrier", "fixes": [flag["id"]]})
    assert fixed.status_code == 200 and fixed.json["version"] == 3 and fixed.json["flags_fixed"] == [flag["id"]]
    assert set(fixed.json["notified"]) == {"ann", "bob"}
    closed = client.get("/api/flags?status=resolved", headers=paula).json["flags"]
    assert [(f["id"], f["status"], f["fixed_version"]) for f in closed] == [(flag["id"], "fixed", 3)]
    assert closed[0]["hours_to_resolve"] is not None

    # Both agents see the change: a notice, and the widget's marker on the article (until they open it).
    for who in (ann, bob):
        notes = client.get("/api/notices?unread=1", headers=who).json["notices"]
        changed = [n for n in notes if n["kind"] == "article_changed"]
        assert changed and changed[0]["article_id"] == art and changed[0]["data"] == {
            "from": 2, "to": 3, "fields": ["resolution"]}
    db.execute("INSERT INTO suggestion_sets (ticket_id, node_id, payload, created_at) SELECT id, NULL, ?, "
               "'2026-12-01T00:00:00Z' FROM tickets WHERE external_id = '9003'",
               ('{"taxonomy": {"path": [], "source": "none", "confidence": 0}, "language": "en", '
                f'"articles": [{{"id": {art}, "snippet": "", "matched": []}}], "macros": []}}',))
    panel = client.get("/widget?ticket=9003&integration=zendesk", headers=ann).get_data(as_text=True)
    assert "Changed since you used it" in panel and 'data-from="2"' in panel and 'data-to="3"' in panel
    view = client.get(f"/widget/articles/{art}?from=2&to=3", headers=ann).get_data(as_text=True)
    assert "What changed since you used it" in view and "label" in view
    panel = client.get("/widget?ticket=9003&integration=zendesk", headers=ann).get_data(as_text=True)
    assert "Changed since you used it" not in panel                   # read once opened

    # The flagger is told the outcome.
    told = [n for n in client.get("/api/notices", headers=bob).json["notices"] if n["kind"] == "flag_resolved"]
    assert told and "fixed in version 3" in told[0]["title"]

    # The audit finds nothing open.
    run = audits.run(db, app.config["KS"], "test")
    open_flags = [f for f in run["findings"] if f["kind"].startswith("flag")]
    assert open_flags == []


def test_every_field_is_versioned_diffed_and_restored(client, db, people):
    paula = people["paula"]
    art = db.execute("SELECT id FROM articles WHERE external_id = 'refund-timeline'").fetchone()[0]
    edit = {"title": "Refund timeline", "issue": "Money back after a return?", "environment": "Web shop",
            "resolution": "5 to 7 working days.", "cause": "Bank processing", "keywords": ["refund", "return"],
            "type": "policy", "translation_group": "refunds", "review_by": "2027-03-01", "note": "all fields"}
    resp = client.patch(f"/api/articles/{art}", json=edit, headers=paula)
    assert resp.status_code == 200, resp.json
    assert set(resp.json["changed"]) == {"title", "issue", "environment", "resolution", "cause", "keywords", "type",
                                         "translation_group", "review_by"}
    versions = client.get(f"/api/articles/{art}/versions", headers=paula).json["versions"]
    assert [v["version"] for v in versions] == [2, 1] and versions[0]["note"] == "all fields"
    assert versions[0]["changed_by"] == "paula" and versions[0]["fields"]["keywords"] == ["refund", "return"]
    diff = client.get(f"/api/articles/{art}/diff?from=1&to=2", headers=paula).json
    changes = {c["field"]: (c["from"], c["to"]) for c in diff["changes"]}
    assert changes["type"] == ("troubleshooting", "policy") and changes["review_by"] == (None, "2027-03-01")
    restored = client.post(f"/api/articles/{art}/versions/1/restore", headers=paula)
    assert restored.status_code == 200 and restored.json["version"] == 3
    assert restored.json["title"] == EXISTING["title"] and restored.json["type"] == "troubleshooting"
    assert client.get(f"/api/articles/{art}/versions", headers=paula).json["versions"][0]["note"] == \
        "restored version 1"
    assert client.get(f"/api/articles/{art}/diff?from=1&to=9", headers=paula).status_code == 404
    assert client.get(f"/api/articles/{art}/diff?from=x&to=2", headers=paula).status_code == 400
    assert client.post(f"/api/articles/{art}/versions/7/restore", headers=paula).status_code == 404


def test_who_may_change_what(client, db, people):
    ann, bob, paula = people["ann"], people["bob"], people["paula"]
    made = event(client, bob, "9003", {"kind": "created", "article": {"title": "Gift card balance",
                                                                      "resolution": "Check it on the card's page."}})
    art = made.json["article_id"]                                  # no node: Bob owns it
    assert client.get(f"/api/articles/{art}", headers=bob).json["owner"] == "bob"
    assert client.patch(f"/api/articles/{art}", json={"cause": "x"}, headers=ann).status_code == 403
    assert client.get(f"/api/articles/{art}/versions", headers=ann).status_code == 403
    assert client.patch(f"/api/articles/{art}", json={"cause": "Cards expire"}, headers=bob).status_code == 200
    assert client.patch(f"/api/articles/{art}", json={"state": "not_validated"}, headers=bob).status_code == 200
    refused = client.patch(f"/api/articles/{art}", json={"state": "validated"}, headers=bob)
    assert refused.status_code == 403 and "publisher" in refused.json["message"]
    assert client.patch(f"/api/articles/{art}", json={"visibility": "public"}, headers=bob).status_code == 403
    assert client.patch(f"/api/articles/{art}", json={"owner": "ann"}, headers=bob).status_code == 403
    assert client.patch(f"/api/articles/{art}", json={"colour": "red"}, headers=paula).status_code == 400
    assert client.patch(f"/api/articles/{art}", json={"review_by": "31.12.2026"}, headers=paula).status_code == 400
    assert client.patch(f"/api/articles/{art}", json={"cause": "Cards expire"}, headers=paula).status_code == 400
    assert client.patch(f"/api/articles/{art}", json={"state": "validated"}, headers=paula).status_code == 200


def test_flags_are_rejected_with_a_note_and_archiving_is_not_a_fix(client, db, people):
    bob, paula = people["bob"], people["paula"]
    art = db.execute("SELECT id FROM articles WHERE external_id = 'refund-timeline'").fetchone()[0]
    client.patch(f"/api/articles/{art}", json={"owner": "paula"}, headers=paula)
    flag = event(client, bob, "9002", {"kind": "flagged", "article_id": art, "category": "wrong",
                                       "reason": "It is 10 days now"}).json["flag"]
    archived = client.patch(f"/api/articles/{art}", json={"state": "archived", "fixes": [flag["id"]]},
                            headers=paula)
    assert archived.status_code == 400 and "not a fix" in archived.json["message"]
    assert client.post(f"/api/flags/{flag['id']}/resolve", json={"action": "reject"},
                       headers=paula).status_code == 400                   # a note is required
    assert client.post(f"/api/flags/{flag['id']}/resolve", json={"action": "reject", "note": "x"},
                       headers=people["ann"]).status_code == 403
    done = client.post(f"/api/flags/{flag['id']}/resolve", json={"action": "reject",
                                                                 "note": "Still 5 to 7 days, checked today"},
                       headers=paula)
    assert done.status_code == 200 and done.json["status"] == "rejected"
    told = client.get("/api/notices", headers=bob).json["notices"][0]
    assert told["kind"] == "flag_resolved" and "Still 5 to 7 days" in told["body"]
    again = client.post(f"/api/flags/{flag['id']}/resolve", json={"action": "reject", "note": "x"}, headers=paula)
    assert again.status_code == 400 and "already" in again.json["message"]
    bad = event(client, bob, "9002", {"kind": "flagged", "article_id": art, "category": "ugly", "reason": "x"})
    assert bad.status_code == 400 and "category" in bad.json["message"]


def test_a_flag_on_an_article_without_an_owner_says_so(client, db, people, admin):
    client.post("/api/articles/import", headers=admin, json={"articles": [
        {"external_id": "orphan", "title": "Orphan", "resolution": "x", "taxonomy": ["Misc"]}]})
    art = db.execute("SELECT id FROM articles WHERE external_id = 'orphan'").fetchone()[0]
    flag = event(client, people["bob"], "9002", {"kind": "flagged", "article_id": art, "reason": "Outdated"}).json
    assert flag["flag"]["owner"] == "" and flag["flag"]["told"] is False


def test_taxonomy_and_mapping_changes_are_audited(client, db, admin):
    node = client.post("/api/taxonomy", json={"path": ["Billing", "Invoices"]}, headers=admin).json
    client.patch(f"/api/taxonomy/{node['id']}", json={"owner": "paula"}, headers=admin)
    log = client.get(f"/api/audit-log?subject=taxonomy&id={node['id']}", headers=admin).json["entries"]
    assert [(e["action"], e["actor"]) for e in log] == [("owner_changed", "bootstrap admin (KS_ADMIN_TOKEN)"),
                                                       ("created", "bootstrap admin (KS_ADMIN_TOKEN)")]
    assert log[0]["detail"] == {"before": {"owner": ""}, "after": {"owner": "paula"}}
    rule = client.post("/api/mappings", json={"kind": "tag", "value": "invoice", "taxonomy": ["Billing", "Invoices"]},
                       headers=admin).json
    assert client.delete(f"/api/mappings/{rule['id']}", headers=admin).status_code == 204
    log = client.get(f"/api/audit-log?subject=mapping&id={rule['id']}", headers=admin).json["entries"]
    assert [e["action"] for e in log] == ["deleted", "created"]
    assert log[0]["detail"]["before"]["value"] == "invoice" and log[0]["detail"]["after"] is None


def test_a_taxonomy_path_without_letters_is_a_400_not_a_500(client, db, people):
    art = db.execute("SELECT id FROM articles WHERE external_id = 'refund-timeline'").fetchone()[0]
    resp = client.patch(f"/api/articles/{art}", json={"taxonomy": ["---"]}, headers=people["paula"])
    assert resp.status_code == 400 and "no letters or digits" in resp.json["message"]
