"""Response macros: sandboxed rendering, the library and its search index, the HTTP API, shipped examples."""
from __future__ import annotations

import re

import pytest

from api_tokens import tokens
from macros import library, render
from suggest import index

TICKET = {"id": "4711", "subject": "Broken mug", "requester": {"name": "Anna Nowak"}}


def test_render_fills_the_context():
    text = render.render("Hi {{ requester.first_name }} ({{ ticket.requester.name }}), about #{{ ticket.id }} "
                         "“{{ ticket.subject }}”: {{ article.title }} {{ article.url }} — {{ agent.first_name }}",
                         TICKET, "Marta Kowalska", {"title": "Refunds", "url": "https://help.example/a/1"})
    assert text == "Hi Anna (Anna Nowak), about #4711 “Broken mug”: Refunds https://help.example/a/1 — Marta"
    flat = render.render("{{ requester.name }}", {"requester_name": "Olga"})
    assert flat == "Olga"


def test_undefined_is_empty_and_output_is_not_escaped():
    assert render.render("Hi {{ requester.first_name or 'there' }},{{ nothing.at.all }}!") == "Hi there,!"
    assert render.render("Hallo{% if requester.first_name %} {{ requester.first_name }}{% endif %},") == "Hallo,"
    assert render.render("{{ ticket.subject }}", {"subject": "Tom & Jerry <3"}) == "Tom & Jerry <3"


@pytest.mark.parametrize("body, words", [
    ("{% if %}", "syntax error on line 1"),
    ("Hi\n{{ ticket.subject + }}", "syntax error on line 2"),
    ("{{ ticket.subject + 1 }}", "TypeError"),
    ("{{ ''.__class__.__mro__[1].__subclasses__() }}", "unsafe"),
    ("{% for i in range(99999) %}{{ 'x' * 100 }}{% endfor %}", "range() of more than"),
    ("{% for i in range(999) %}{{ 'x' * 100 }}{% endfor %}", "longer than"),
])
def test_broken_or_unsafe_templates_raise_render_error(body, words):
    with pytest.raises(render.RenderError) as err:
        render.render(body, TICKET)
    assert words in str(err.value)


def _macro_hits(db, text: str, language: str = "en") -> set[int]:
    ix = index.searcher(db).macros.get(language)      # the in-process index replaced the FTS5 table
    return {item for item, _ in ix.search(text, k=50)} if ix else set()


def test_library_upsert_keeps_the_index_in_step(db):
    item = {"external_id": "m1", "title": "Refund confirmed", "language": "en", "taxonomy": ["Orders", "Refunds"],
            "body": "Hi {{ requester.first_name }}, your refund is on its way."}
    assert library.import_macros(db, [item], "en") == {"created": 1, "updated": 0, "skipped": 0, "errors": []}
    assert library.import_macros(db, [item], "en")["skipped"] == 1
    macro = library.listing(db)[0]
    assert macro["taxonomy"] == ["Orders", "Refunds"] and macro["active"] is True
    assert library.get(db, macro["id"])["body"] == item["body"]
    assert _macro_hits(db, "refund") == {macro["id"]}
    assert _macro_hits(db, "requester first_name") == set()          # placeholders are not indexed

    changed = {**item, "title": "Replacement sent", "body": "We shipped a replacement parcel today."}
    assert library.import_macros(db, [changed], "en")["updated"] == 1
    assert _macro_hits(db, "refund") == set()
    assert _macro_hits(db, "replacement") == {macro["id"]}
    assert library.get(db, macro["id"])["title"] == "Replacement sent"

    result = library.import_macros(db, [{"external_id": "bad", "title": "x", "body": "{{ oops"},
                                        {"title": "no id", "body": "x"}, "not an object"], "en")
    assert [e["index"] for e in result["errors"]] == [0, 1, 2]
    assert "syntax error" in result["errors"][0]["error"]


def test_macro_api(client, admin, db):
    agent = {"Authorization": "Bearer " + tokens.create(db, "Marta Kowalska", "agent")}
    publisher = {"Authorization": "Bearer " + tokens.create(db, "pat", "publisher")}
    body = {"macros": [{"external_id": "share", "title": "Share an article", "language": "en",
                        "taxonomy": ["General"],
                        "body": "Hi {{ requester.first_name or 'there' }}, see {{ article.title }}: {{ article.url }}"
                                "\n{{ agent.first_name }}"},
                       {"external_id": "broken", "title": "Broken", "body": "{{ ticket.subject + 1 }}"}]}
    assert client.post("/api/macros", json=body, headers=agent).status_code == 403
    imported = client.post("/api/macros", json=body, headers=publisher).json
    assert imported["created"] == 2 and imported["errors"] == []
    listed = {m["external_id"]: m for m in client.get("/api/macros", headers=agent).json["macros"]}
    assert set(listed) == {"share", "broken"}

    client.post("/api/articles/import", headers=admin, json={"articles": [
        {"external_id": "a1", "title": "Refund timeline", "language": "en", "resolution": "Five to seven days."}]})
    art = db.execute("SELECT id FROM articles WHERE external_id = 'a1'").fetchone()[0]
    share = listed["share"]["id"]
    resp = client.post(f"/api/macros/{share}/render", json={"ticket": TICKET, "article_id": art}, headers=agent)
    assert resp.status_code == 200
    # Customer-facing text never links into the sidecar's API: an article not on Help Center has no URL to give ...
    assert resp.json["text"] == "Hi Anna, see Refund timeline: \nMarta"
    # ... one published there gives its public Help Center URL.
    db.execute("UPDATE articles SET helpdesk_url = 'https://acme.zendesk.com/hc/en-us/articles/55' WHERE id = ?",
               (art,))
    resp = client.post(f"/api/macros/{share}/render", json={"ticket": TICKET, "article_id": art}, headers=agent)
    assert resp.json["text"] == "Hi Anna, see Refund timeline: https://acme.zendesk.com/hc/en-us/articles/55\nMarta"
    # Internal (or not validated) knowledge never goes into a customer reply.
    client.post("/api/articles/import", headers=admin, json={"articles": [
        {"external_id": "a2", "title": "Internal refund override", "language": "en", "resolution": "Use the admin",
         "visibility": "internal"}]})
    secret = db.execute("SELECT id FROM articles WHERE external_id = 'a2'").fetchone()[0]
    refused = client.post(f"/api/macros/{share}/render", json={"ticket": TICKET, "article_id": secret}, headers=agent)
    assert refused.status_code == 400 and "internal" in refused.json["message"]
    inward = client.post(f"/api/macros/{share}/render", headers=agent, json={
        "ticket": {}, "article": {"title": "x", "url": f"http://127.0.0.1:8000/api/articles/{art}"}})
    assert inward.status_code == 400 and "cannot open" in inward.json["message"]
    given = client.post(f"/api/macros/{share}/render", headers=agent,
                        json={"ticket": {}, "article": {"title": "Refunds", "url": "https://help.example/r"}})
    assert given.json["text"] == "Hi there, see Refunds: https://help.example/r\nMarta"

    broken = client.post(f"/api/macros/{listed['broken']['id']}/render", json={"ticket": TICKET}, headers=agent)
    assert broken.status_code == 400 and "TypeError" in broken.json["message"]
    assert "broken" in broken.json["message"]
    assert client.post("/api/macros/999/render", json={}, headers=agent).status_code == 404
    assert client.post(f"/api/macros/{share}/render", json={"ticket": "x"}, headers=agent).status_code == 400
    assert client.post(f"/api/macros/{share}/render", json={"article_id": 999}, headers=agent).status_code == 400
    assert client.post(f"/api/macros/{share}/render", json={}).status_code == 401


def test_shipped_macros_load_render_and_rank(client, admin, db):
    shipped = library.load_shipped()
    assert len(shipped) >= 10
    assert {m["language"] for m in shipped} >= {"en", "de", "pl", "ru"}
    assert all(m["taxonomy"] for m in shipped)
    result = library.import_macros(db, shipped, "en")
    assert result["created"] == len(shipped) and result["errors"] == []
    for macro in library.listing(db):
        text = render.render(macro["body"], TICKET, "Marta Kowalska")
        assert "{{" not in text and "{%" not in text and text.strip()
    answer = client.post("/api/suggest", headers=admin,
                         json={"subject": "Mein Paket ist beschädigt", "description": "Ich möchte eine Erstattung"})
    assert answer.json["macros"][0]["external_id"] == "macro-de-refund-confirmed"


@pytest.mark.parametrize("body, words", [
    ("Hi {{ lipsum(n=1000000) }}", "'lipsum' is undefined"),
    ("{% for i in range(1000) %}{% for j in range(1000) %}{% for k in range(1000) %}{% endfor %}{% endfor %}"
     "{% endfor %}x", "took longer than 2 s"),
    ("{% for i in range(10**6) %}{% endfor %}", "range() of more than 1000 items"),
    ('{{ "x" * 10**9 }}', "a repeated text longer than 20000 characters"),
    ("{{ 2 ** 100000000 }}", "exponent too large"),
])
def test_a_macro_cannot_tie_up_a_worker(body, words):
    with pytest.raises(render.RenderError, match=re.escape(words)):
        render.render(body, {"requester_name": "Ann Lee"})
