"""Admin API: taxonomy, mapping rules, articles and their states, open flags, tokens — with roles."""
from __future__ import annotations

import pytest
from conftest import known_ticket

from api_tokens import tokens

ARTICLES = [
    {"external_id": "a-refund", "title": "Refund for a damaged parcel", "language": "en",
     "taxonomy": ["Orders", "Refunds"], "resolution": "Refund the damaged item to the original payment method."},
    {"external_id": "a-delivery", "title": "Parcel is late", "language": "en", "state": "wip",
     "taxonomy": ["Orders", "Delivery"], "resolution": "Open a carrier investigation after five days."},
    {"external_id": "a-passwort", "title": "Passwort zurücksetzen", "language": "de", "state": "not_validated",
     "visibility": "internal", "taxonomy": ["Account", "Password"],
     "resolution": "Einen neuen Link zum Zurücksetzen senden."},
]


@pytest.fixture
def roles(db) -> dict:
    return {role: {"Authorization": "Bearer " + tokens.create(db, f"{role}-user", role)} for role in tokens.ROLES}


@pytest.fixture
def imported(client, admin) -> dict:
    resp = client.post("/api/articles/import", json={"articles": ARTICLES}, headers=admin)
    assert resp.json["created"] == 3
    listing = client.get("/api/articles", headers=admin).json["articles"]
    return {a["external_id"]: a["id"] for a in listing}


def test_taxonomy_create_and_list(client, admin, roles):
    assert client.get("/api/taxonomy", headers=admin).json == {"nodes": []}
    made = client.post("/api/taxonomy", json={"path": ["Orders", "Refunds"]}, headers=admin)
    assert made.status_code == 201 and made.json["path"] == ["Orders", "Refunds"]
    again = client.post("/api/taxonomy", json={"path": ["orders", "refunds"]}, headers=admin)
    assert again.status_code == 200 and again.json["id"] == made.json["id"]
    nodes = client.get("/api/taxonomy", headers=admin).json["nodes"]
    assert [n["path"] for n in nodes] == [["Orders"], ["Orders", "Refunds"]]
    assert nodes[1]["parent_id"] == nodes[0]["id"]
    for bad in ({"path": []}, {"path": "orders/refunds"}, {"path": ["ok", "!!!"]}, {}):
        resp = client.post("/api/taxonomy", json=bad, headers=admin)
        assert resp.status_code == 400 and resp.json["message"]
    assert client.get("/api/taxonomy").status_code == 401
    assert client.get("/api/taxonomy", headers=roles["publisher"]).status_code == 403
    assert client.post("/api/taxonomy", json={"path": ["x"]}, headers=roles["lead"]).status_code == 403


def test_mapping_rules_drive_suggest(client, admin, roles, imported):
    ask = {"subject": "Question", "description": "Please help with my parcel", "tags": ["vip", "refund_q"]}
    assert client.post("/api/suggest", json=ask, headers=roles["agent"]).json["taxonomy"]["source"] != "rule"
    low = client.post("/api/mappings", json={"kind": "tag", "value": "refund_q", "taxonomy": ["Orders", "Refunds"]},
                      headers=admin)
    assert low.status_code == 201 and low.json["priority"] == 100
    high = client.post("/api/mappings", json={"kind": "tag", "value": "vip", "taxonomy": ["Orders", "Delivery"],
                                              "priority": 200}, headers=admin)
    field = client.post("/api/mappings", json={"kind": "field", "field_id": 360001, "value": "login",
                                               "taxonomy": ["Account", "Login"]}, headers=admin)
    assert field.status_code == 201 and field.json["field_id"] == "360001"
    rules = client.get("/api/mappings", headers=admin).json["rules"]
    assert [r["id"] for r in rules] == [high.json["id"], low.json["id"], field.json["id"]]
    answer = client.post("/api/suggest", json=ask, headers=roles["agent"]).json["taxonomy"]
    assert answer["source"] == "rule" and answer["path"] == ["Orders", "Delivery"]

    assert client.delete(f"/api/mappings/{high.json['id']}", headers=admin).status_code == 204
    assert client.delete(f"/api/mappings/{high.json['id']}", headers=admin).status_code == 404
    answer = client.post("/api/suggest", json=ask, headers=roles["agent"]).json["taxonomy"]
    assert answer["path"] == ["Orders", "Refunds"] and answer["rule_id"] == low.json["id"]

    for bad, words in (({"kind": "field", "value": "x", "taxonomy": ["a"]}, "field_id"),
                       ({"kind": "label", "value": "x", "taxonomy": ["a"]}, "kind"),
                       ({"kind": "tag", "value": "", "taxonomy": ["a"]}, "value"),
                       ({"kind": "tag", "value": "x", "taxonomy": []}, "taxonomy"),
                       ({"kind": "tag", "value": "x", "taxonomy": ["a"], "priority": "high"}, "priority")):
        resp = client.post("/api/mappings", json=bad, headers=admin)
        assert resp.status_code == 400 and words in resp.json["message"]
    assert client.get("/api/mappings", headers=roles["publisher"]).status_code == 403


def test_article_list_filters(client, roles, imported):
    pub = roles["publisher"]

    def ids(query: str) -> set[str]:
        resp = client.get(f"/api/articles?{query}", headers=pub)
        assert resp.status_code == 200, resp.json
        return {a["external_id"] for a in resp.json["articles"]}

    assert ids("") == {"a-refund", "a-delivery", "a-passwort"}
    assert ids("state=wip") == {"a-delivery"}
    assert ids("language=de") == {"a-passwort"}
    assert ids("node=orders") == {"a-refund", "a-delivery"}             # subtree
    assert ids("node=Orders/Refunds") == {"a-refund"}
    node_id = client.get("/api/taxonomy", headers=roles["admin"]).json["nodes"][0]["id"]   # Account
    assert ids(f"node={node_id}") == {"a-passwort"}
    assert ids("state=validated&node=orders") == {"a-refund"}
    page = client.get("/api/articles?limit=1&offset=1", headers=pub).json
    assert page["total"] == 3 and len(page["articles"]) == 1
    one = next(a for a in client.get("/api/articles", headers=pub).json["articles"] if a["external_id"] == "a-refund")
    assert one["taxonomy"] == ["Orders", "Refunds"] and one["version"] == 1 and one["state"] == "validated"
    assert client.get("/api/articles?state=done", headers=pub).status_code == 400
    assert client.get("/api/articles?node=nowhere", headers=pub).status_code == 400
    assert client.get("/api/articles?limit=0", headers=pub).status_code == 400
    assert client.get("/api/articles", headers=roles["lead"]).status_code == 403


def test_state_changes_make_versions(client, roles, imported):
    pub, art = roles["publisher"], imported["a-refund"]
    ask = {"subject": "Damaged parcel refund", "description": "the item is damaged"}
    assert client.post("/api/suggest", json=ask, headers=roles["agent"]).json["articles"][0]["id"] == art
    resp = client.patch(f"/api/articles/{art}", json={"state": "archived"}, headers=pub)
    assert resp.status_code == 200 and resp.json["state"] == "archived" and resp.json["version"] == 2
    versions = client.get(f"/api/articles/{art}/versions", headers=pub).json["versions"]
    assert [(v["version"], v["fields"]["state"], v["changed_by"]) for v in versions] == \
        [(2, "archived", "publisher-user"), (1, "validated", "bootstrap admin (KS_ADMIN_TOKEN)")]
    suggested = client.post("/api/suggest", json=ask, headers=roles["agent"]).json["articles"]
    assert art not in [a["id"] for a in suggested]                        # archived is never suggested
    assert client.patch(f"/api/articles/{art}", json={"state": "gone"}, headers=pub).status_code == 400
    assert client.patch("/api/articles/9999", json={"state": "wip"}, headers=pub).status_code == 404
    assert client.get("/api/articles/9999/versions", headers=pub).status_code == 404
    assert client.patch(f"/api/articles/{art}", json={"state": "wip"}, headers=roles["lead"]).status_code == 403


def test_open_flags(client, db, roles, imported):
    art = imported["a-delivery"]
    known_ticket(db, "77")
    resp = client.post("/api/tickets/zendesk/77/events", json={"kind": "flagged", "article_id": art,
                                                               "reason": "carrier changed the rules"},
                       headers=roles["agent"])
    assert resp.status_code == 201
    assert resp.json["flag"]["category"] == "outdated"                  # the default when the widget names none
    flags = client.get("/api/flags?status=open", headers=roles["lead"]).json["flags"]
    assert len(flags) == 1
    flag = flags[0]
    assert flag["reason"] == "carrier changed the rules" and flag["flagged_by"] == "agent-user"
    assert flag["ticket"] == {"integration": "zendesk", "external_id": "77"}
    assert flag["article"]["external_id"] == "a-delivery" and flag["article"]["taxonomy"] == ["Orders", "Delivery"]
    # An agent sees only the flags they own (their queue), and cannot read another's.
    assert client.get("/api/flags", headers=roles["agent"]).json["flags"] == []
    assert client.get("/api/flags?owner=someone", headers=roles["agent"]).status_code == 403


def test_tokens(client, admin, roles):
    made = client.post("/api/tokens", json={"name": "Lena (team lead)", "role": "lead"}, headers=admin)
    assert made.status_code == 201 and made.json["token"].startswith("ks_")
    lead = {"Authorization": "Bearer " + made.json["token"]}
    assert client.get("/api/reports/reuse", headers=lead).status_code == 200
    assert client.get("/api/taxonomy", headers=lead).status_code == 403
    listed = client.get("/api/tokens", headers=admin).json["tokens"]
    assert {"name": "Lena (team lead)", "role": "lead"}.items() <= next(
        t for t in listed if t["name"] == "Lena (team lead)").items()
    assert all("token" not in t and "token_hash" not in t for t in listed)
    assert client.post("/api/tokens", json={"name": "x", "role": "owner"}, headers=admin).status_code == 400
    assert client.post("/api/tokens", json={"name": " ", "role": "agent"}, headers=admin).status_code == 400
    assert client.post("/api/tokens", json={"name": "x", "role": "agent"}, headers=roles["publisher"]).status_code \
        == 403
