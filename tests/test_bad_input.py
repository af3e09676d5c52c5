"""Malformed but plausible input gets a clear 400/404, never a 500: JSON Lines imports, ids and numbers beyond
SQLite's range, Unicode digits, lone surrogates, NUL, bodies that are not UTF-8."""
from __future__ import annotations

import json
import sqlite3

import pytest

from api_tokens import tokens
from kb import articles, mapping
from store import write

NDJSON = "application/x-ndjson"
HUGE = "9" * 30


def _line(**article) -> str:
    return json.dumps({"language": "en", **article}, ensure_ascii=False)


def _import(client, admin, body: bytes | str, ctype: str = NDJSON, path: str = "/api/articles/import"):
    return client.post(path, data=body, content_type=ctype, headers=admin)


@pytest.fixture
def agent(db) -> dict:
    return {"Authorization": "Bearer " + tokens.create(db, "Agent Ana", "agent")}


# --- JSON Lines imports ---------------------------------------------------------------------------------------

def test_line_separators_inside_json_strings_are_text_not_line_breaks(client, admin, db):
    body = (_line(external_id="ls", title="Printer offline", body="Step one.\u2028Step two: restart the spooler.")
            + "\n" + _line(external_id="nel", title="Paste from Word", body="First\x85second") + "\n")
    resp = _import(client, admin, body.encode())
    assert resp.status_code == 200
    assert resp.json == {"created": 2, "updated": 0, "skipped": 0, "errors": []}
    stored = dict(db.execute("SELECT external_id, body FROM articles").fetchall())
    assert stored == {"ls": "Step one.\u2028Step two: restart the spooler.", "nel": "First\x85second"}


def test_every_json_lines_error_names_its_line(client, admin):
    lines = [_line(external_id="g1", title="Good", body="fine"), "", '{"external_id": "x", ',
             _line(external_id="g3", body="no title"), "[1, 2]", _line(external_id="g6", title="Ok", body="b")]
    resp = _import(client, admin, "\r\n".join(lines).encode())
    assert resp.status_code == 200 and resp.json["created"] == 2
    errors = resp.json["errors"]
    assert [e["line"] for e in errors] == [3, 4, 5]                # blank line 2 still counts; 1-based, in order
    assert all("index" not in e for e in errors)
    assert errors[0]["error"].startswith("not JSON: Expecting property name") and "column" in errors[0]["error"]
    assert errors[1] == {"line": 4, "external_id": "g3", "error": "title is required"}
    assert errors[2]["error"] == "each article must be a JSON object"


def test_json_array_errors_keep_their_index(client, admin):
    resp = client.post("/api/articles/import", headers=admin, json={"articles": [
        {"external_id": "ok", "title": "Fine", "body": "b"}, {"external_id": "t", "body": "no title"}]})
    assert resp.json["errors"] == [{"index": 1, "external_id": "t", "error": "title is required"}]


def test_macro_json_lines_errors_name_their_line(client, admin):
    body = "\n".join([json.dumps({"external_id": "m1", "title": "Thanks", "body": "Thank you!"}),
                      json.dumps({"external_id": "m2", "title": "Broken", "body": "{{ oops"})])
    resp = _import(client, admin, body.encode(), path="/api/macros")
    assert resp.status_code == 200 and resp.json["created"] == 1
    assert [(e["line"], e["external_id"]) for e in resp.json["errors"]] == [(2, "m2")]


def test_utf8_byte_order_mark_is_dropped(client, admin):
    resp = _import(client, admin, b"\xef\xbb\xbf" + _line(external_id="bom", title="Good", body="fine").encode())
    assert resp.status_code == 200 and resp.json["created"] == 1 and resp.json["errors"] == []
    as_json = _import(client, admin, b"\xef\xbb\xbf" + json.dumps({"articles": []}).encode(), "application/json")
    assert as_json.status_code == 200


@pytest.mark.parametrize("ctype", [NDJSON, "application/json"])
def test_a_body_that_is_not_utf8_is_refused_with_the_byte(client, admin, db, ctype):
    latin = _line(external_id="cafe", title="Café menu", body="crème brûlée refund").encode("latin-1")
    body = latin if ctype == NDJSON else b'{"articles": [' + latin + b"]}"
    resp = _import(client, admin, body, ctype)
    assert resp.status_code == 400
    assert resp.json["message"].startswith("the body is not UTF-8 text (byte 0xe9 at offset")
    assert db.execute("SELECT COUNT(*) FROM articles").fetchone()[0] == 0     # nothing stored as mojibake


def test_a_json_object_body_that_is_not_utf8_is_refused(client, admin):
    resp = client.post("/api/suggest", data='{"subject": "Café"}'.encode("latin-1"),
                       content_type="application/json", headers=admin)
    assert resp.status_code == 400 and "not UTF-8" in resp.json["message"]


# --- lone surrogates, NUL, absurd nesting ---------------------------------------------------------------------

def test_an_article_with_a_lone_surrogate_is_one_error_not_a_failed_batch(client, admin, db):
    body = (b'{"articles": [{"external_id": "ok", "title": "fine", "body": "b"},'
            b' {"external_id": "s1", "title": "T \\ud800", "body": "b"}]}')
    resp = _import(client, admin, body, "application/json")
    assert resp.status_code == 200 and resp.json["created"] == 1
    [error] = resp.json["errors"]
    assert error["index"] == 1 and error["external_id"] == "s1"
    assert error["error"].startswith("title contains '\\ud800', a lone surrogate that is not valid Unicode")
    assert db.execute("SELECT external_id FROM articles").fetchall() == [("ok",)]


def test_json_lines_and_macros_with_a_lone_surrogate_report_the_line(client, admin):
    body = b'{"external_id": "a", "title": "ok", "body": "b"}\n{"external_id": "b", "title": "x", "body": "\\udc00"}'
    resp = _import(client, admin, body)
    assert resp.json["created"] == 1
    assert [(e["line"], e["external_id"]) for e in resp.json["errors"]] == [(2, "b")]
    macros = _import(client, admin, b'{"macros": [{"external_id": "m", "title": "\\udbff", "body": "x"}]}',
                     "application/json", path="/api/macros")
    assert macros.status_code == 200 and macros.json["created"] == 0
    assert "lone surrogate" in macros.json["errors"][0]["error"] and macros.json["errors"][0]["index"] == 0


def test_kb_refuses_lone_surrogates_itself(db):
    result = articles.import_articles(db, [{"external_id": "x", "title": "a\udfffb", "body": "b"},
                                           {"external_id": "y", "title": "t", "body": "b", "taxonomy": ["\ud801"]}],
                                      "en")
    assert [(e["index"], e["error"].split(" contains")[0]) for e in result["errors"]] == [(0, "title"),
                                                                                          (1, "taxonomy")]
    with pytest.raises(mapping.RuleError, match="lone surrogate"), write(db):
        mapping.add_rule(db, "tag", "vip\ud800", ["orders"])


def test_nul_characters_are_dropped_from_imported_text(client, admin, db):
    resp = _import(client, admin, b'{"articles": [{"external_id": "n1", "title": "Printer \\u0000 offline",'
                                  b' "body": "b\\u0000ody"}]}', "application/json")
    assert resp.json["created"] == 1
    assert db.execute("SELECT title, body FROM articles").fetchone() == ("Printer  offline", "body")


@pytest.mark.parametrize("path,body", [
    ("/api/suggest", b'{"subject": "printer \\ud800 offline"}'),
    ("/api/taxonomy", b'{"path": ["orders", "\\ud800"]}'),
    ("/api/mappings", b'{"kind": "tag", "value": "\\ud800", "taxonomy": ["a"]}'),
    ("/api/tickets/zendesk/5/events", b'{"kind": "searched", "query": "\\udc00x"}'),
])
def test_a_json_body_with_a_lone_surrogate_is_refused(client, admin, db, path, body):
    resp = client.post(path, data=body, content_type="application/json", headers=admin)
    assert resp.status_code == 400
    assert "a lone surrogate that is not valid Unicode" in resp.json["message"]
    assert db.execute("SELECT COUNT(*) FROM events").fetchone()[0] == 0


def test_absurdly_nested_json_is_a_400(client, admin):
    resp = client.post("/api/suggest", data=b"[" * 100_000, content_type="application/json", headers=admin)
    assert resp.status_code == 400 and "nested too deeply" in resp.json["message"]
    lines = _import(client, admin, b"[" * 100_000 + b"\n" + _line(external_id="a", title="t", body="b").encode())
    assert lines.status_code == 200 and lines.json["created"] == 1
    assert lines.json["errors"] == [{"line": 1, "error": "not JSON: nested too deeply"}]


# --- numbers: Unicode digits, ids and priorities beyond SQLite's range ----------------------------------------

@pytest.mark.parametrize("query,message", [
    ("limit=%C2%B2", "limit must be a whole number from 1 to 500"),                 # "²".isdigit() is true
    ("offset=" + "9" * 5000, "offset must be a whole number from 0 to 1000000000"),  # beyond int()'s digit limit
    ("node=" + "9" * 23, "no taxonomy node '99999999999999999999999': a node id is a whole number"),
    ("node=%C2%B2", "no taxonomy node '²'"),
])
def test_article_list_query_numbers(client, admin, query, message):
    resp = client.get(f"/api/articles?{query}", headers=admin)
    assert resp.status_code == 400 and resp.json["message"].startswith(message)


def test_leading_zeros_are_still_a_number(client, admin):
    assert client.get("/api/articles?limit=0050", headers=admin).json["limit"] == 50


@pytest.mark.parametrize("method,path,what", [
    ("get", f"/api/articles/{HUGE}", "article"),
    ("patch", "/api/articles/" + "9" * 20, "article"),
    ("get", f"/api/articles/{HUGE}/versions", "article"),
    ("delete", "/api/mappings/" + "9" * 20, "mapping rule"),
    ("get", f"/api/macros/{HUGE}", "macro"),
    ("post", f"/api/macros/{HUGE}/render", "macro"),
])
def test_ids_beyond_sqlite_range_name_no_row(client, admin, method, path, what):
    resp = getattr(client, method)(path, json={"state": "wip"}, headers=admin)
    assert resp.status_code == 404
    number = path.split("/")[3]
    assert resp.json["message"] == f"no {what} {number} (ids go up to 9223372036854775807)"


def test_kb_lookups_of_huge_ids_find_nothing(db):
    assert articles.get(db, 10**30) is None
    assert mapping.get_rule(db, 10**20) is None
    assert mapping.delete_rule(db, 10**20) is False


@pytest.mark.parametrize("article_id", ["²", 10**30, "9" * 5000, -1, True])
def test_macro_render_article_id_must_be_an_id(client, admin, agent, article_id):
    made = client.post("/api/macros", headers=admin, json={"macros": [
        {"external_id": "m", "title": "Share", "body": "See {{ article.title }}"}]})
    macro = client.get("/api/macros", headers=agent).json["macros"][0]["id"]
    assert made.json["created"] == 1
    resp = client.post(f"/api/macros/{macro}/render", json={"article_id": article_id}, headers=agent)
    assert resp.status_code == 400
    assert resp.json["message"] == "article_id must be a whole number from 0 to 9223372036854775807"


def test_macro_render_accepts_an_article_id_as_digits(client, admin, agent):
    client.post("/api/articles/import", headers=admin, json={"articles": [
        {"external_id": "a1", "title": "Refund timeline", "language": "en", "body": "Five days."}]})
    client.post("/api/macros", headers=admin, json={"macros": [
        {"external_id": "m", "title": "Share", "body": "See {{ article.title }}"}]})
    macro = client.get("/api/macros", headers=agent).json["macros"][0]["id"]
    resp = client.post(f"/api/macros/{macro}/render", json={"article_id": "1"}, headers=agent)
    assert resp.status_code == 200 and resp.json["text"] == "See Refund timeline"


@pytest.mark.parametrize("priority", [10**30, -(10**30), 1_000_000_001])
def test_mapping_priority_has_a_range(client, admin, db, priority):
    resp = client.post("/api/mappings", json={"kind": "tag", "value": "x", "taxonomy": ["a"], "priority": priority},
                       headers=admin)
    assert resp.status_code == 400
    assert resp.json["message"] == "priority must be a whole number from -1000000000 to 1000000000"
    assert db.execute("SELECT COUNT(*) FROM mapping_rules").fetchone()[0] == 0


# --- the safety net behind the precise checks -----------------------------------------------------------------

@pytest.fixture
def net(app):
    """Routes that hit SQLite's limits the way a missing check would, registered before the first request."""
    app.config["PROPAGATE_EXCEPTIONS"] = False

    def bind(value):
        sqlite3.connect(":memory:").execute("SELECT ?", (value,))
        return "bound"

    app.add_url_rule("/api/test-net/overflow", "net_overflow", lambda: bind(10**30))
    app.add_url_rule("/api/test-net/surrogate", "net_surrogate", lambda: bind("a\udc80b"))
    app.add_url_rule("/api/test-net/ours", "net_ours", lambda: "é".encode("ascii"))
    return app.test_client()


def test_safety_net_turns_sqlite_range_and_unicode_errors_into_400(net):
    over = net.get("/api/test-net/overflow")
    assert over.status_code == 400
    assert over.json == {"error": "bad_request", "message": "a value in the request is out of range "
                                                            "(Python int too large to convert to SQLite INTEGER)"}
    sur = net.get("/api/test-net/surrogate")
    assert sur.status_code == 400
    assert sur.json["message"] == "the request contains \\udc80, a lone surrogate that is not valid Unicode"
    assert net.get("/api/test-net/ours").status_code == 500     # an encoding bug of ours is not the caller's 400

