"""Generic JSON webhooks: sources configured in a YAML file (HMAC-SHA256 and shared-secret), their deliveries read
through JSON paths into suggestions, reuse through the API and the standalone widget, redelivery, bad signatures,
and strict checks of the sources file at start."""
from __future__ import annotations

import base64
import hashlib
import hmac
import json
import re

import pytest

import settings
from integrations import registry

HMAC_SECRET = "helpscout-signing-secret-0123"
SHARED_SECRET = "form-tool-shared-secret-4567"
SOURCES = f"""
helpscout:
  title: Help Scout
  auth: hmac-sha256
  header: X-HelpScout-Signature
  encoding: base64
  secret_env: KS_TEST_HELPSCOUT_SECRET
  delivery_id_header: X-Delivery-Id
  paths:
    id: id
    subject: subject
    description: threads.0.body
    tags: tags
    fields: customFields
    locale: customer.language
    status: status
formtool:
  auth: shared-secret
  header: X-Form-Secret
  secret: {SHARED_SECRET}
  paths:
    id: $.submission.ref
    description: submission.message
"""
ARTICLES = [
    {"external_id": "vpn-drops", "title": "VPN drops every few minutes", "language": "en",
     "body": "Switch the VPN client to TCP and disable power saving on the wireless adapter.",
     "taxonomy": ["Network", "VPN"]},
    {"external_id": "vpn-slow", "title": "VPN is slow from home", "language": "en",
     "body": "Use the nearest VPN gateway and check the home router's wireless band.", "taxonomy": ["Network", "VPN"]},
]
CONVERSATION = {"id": 4711, "number": 88, "subject": "VPN keeps dropping", "status": "active",
                "tags": ["remote", "laptop"], "customFields": [{"id": 9, "name": "Site", "value": "Berlin"}],
                "customer": {"email": "ann@example.com", "language": "en"},
                "threads": [{"type": "customer", "body": "<p>My VPN drops every few minutes on the wireless.</p>"}]}


@pytest.fixture
def config(config, tmp_path, monkeypatch):
    path = tmp_path / "sources.yaml"
    path.write_text(SOURCES)
    monkeypatch.setenv("KS_TEST_HELPSCOUT_SECRET", HMAC_SECRET)
    config["generic"] = {"sources_file": str(path)}
    yield config
    settings.load({}, environ={})       # the next test's registry holds no generic sources


def _signed(body: dict, delivery: str = "d-1") -> tuple[bytes, dict]:
    raw = json.dumps(body).encode()
    signature = base64.b64encode(hmac.new(HMAC_SECRET.encode(), raw, hashlib.sha256).digest()).decode()
    return raw, {"Content-Type": "application/json", "X-HelpScout-Signature": signature, "X-Delivery-Id": delivery}


def test_hmac_source_suggestions_reuse_widget_and_redelivery(client, admin, db):
    assert client.post("/api/articles/import", json={"articles": ARTICLES}, headers=admin).status_code == 200
    raw, headers = _signed(CONVERSATION)
    first = client.post("/webhooks/generic/helpscout", data=raw, headers=headers)
    assert first.status_code == 202, first.get_json()
    again = client.post("/webhooks/generic/helpscout", data=raw, headers=headers)
    assert again.status_code == 200 and again.get_json()["status"] == "duplicate"

    sug = client.get("/api/tickets/helpscout/4711/suggestions", headers=admin).get_json()
    assert sug["ticket"]["subject"] == "VPN keeps dropping"
    assert sug["ticket"]["description"] == "My VPN drops every few minutes on the wireless."
    assert (sug["ticket"]["tags"], sug["ticket"]["fields"], sug["ticket"]["locale"], sug["ticket"]["status"]) == (
        ["remote", "laptop"], {"9": "Berlin"}, "en", "active")
    assert sug["articles"][0]["external_id"] == "vpn-drops" and sug["taxonomy"]["path"] == ["Network", "VPN"]

    ids = dict(db.execute("SELECT external_id, id FROM articles").fetchall())
    assert client.post("/api/tickets/helpscout/4711/events", headers=admin,
                       json={"kind": "reused", "article_id": ids["vpn-drops"]}).status_code == 201
    page = client.get("/widget?integration=helpscout&ticket=4711", headers=admin)
    html = page.get_data(as_text=True)
    assert page.status_code == 200 and "VPN drops every few minutes" in html and "Reused" in html
    boot = json.loads(re.search(r'id="ks-boot">(.*?)</script>', html, re.S).group(1))
    assert boot["integration"] == "helpscout"
    assert client.post("/api/tickets/helpscout/4711/events", headers={"Authorization": f"Bearer {boot['session']}"},
                       json={"kind": "reused", "article_id": ids["vpn-slow"]}).status_code == 201
    assert db.execute("SELECT COUNT(*) FROM events WHERE kind = 'reused'").fetchone()[0] == 2
    # a generic source never writes back: nothing waits in the outbox for it
    assert db.execute("SELECT COUNT(*) FROM outbox").fetchone()[0] == 0

    # a later delivery for the same conversation is kept and answered "ignored": the ticket has its suggestions
    raw, headers = _signed({**CONVERSATION, "status": "closed"}, delivery="d-2")
    later = client.post("/webhooks/generic/helpscout", data=raw, headers=headers)
    assert later.status_code == 200 and later.get_json()["status"] == "ignored"


def test_shared_secret_source_and_json_path_errors(client, admin):
    body = json.dumps({"submission": {"ref": "F-100", "message": "VPN drops at home"}}).encode()
    resp = client.post("/webhooks/generic/formtool", data=body, headers={"X-Form-Secret": SHARED_SECRET})
    assert resp.status_code == 202
    again = client.post("/webhooks/generic/formtool", data=body, headers={"X-Form-Secret": SHARED_SECRET})
    assert again.get_json()["status"] == "duplicate"               # no delivery id header: the body's digest
    assert client.get("/api/tickets/formtool/F-100/suggestions", headers=admin).status_code == 200
    no_id = json.dumps({"submission": {"message": "hello"}}).encode()
    resp = client.post("/webhooks/generic/formtool", data=no_id, headers={"X-Form-Secret": SHARED_SECRET})
    assert resp.status_code == 400 and "submission.ref" in resp.get_json()["message"]
    bad_id = json.dumps({"submission": {"ref": "a/b", "message": "hello"}}).encode()
    assert client.post("/webhooks/generic/formtool", data=bad_id,
                       headers={"X-Form-Secret": SHARED_SECRET}).status_code == 400


@pytest.mark.parametrize("how", ["wrong key", "tampered", "missing", "shared secret wrong"])
def test_bad_signature_is_401_and_stores_nothing(client, admin, db, how):
    raw, headers = _signed(CONVERSATION)
    url = "/webhooks/generic/helpscout"
    if how == "wrong key":
        headers["X-HelpScout-Signature"] = base64.b64encode(hmac.new(b"other", raw, hashlib.sha256).digest()).decode()
    elif how == "tampered":
        raw = raw.replace(b"VPN keeps", b"VPN keep")
    elif how == "missing":
        del headers["X-HelpScout-Signature"]
    else:
        url, headers = "/webhooks/generic/formtool", {"X-Form-Secret": SHARED_SECRET[:-1] + "X"}
        raw = json.dumps({"submission": {"ref": "4711", "message": "VPN"}}).encode()
    assert client.post(url, data=raw, headers=headers).status_code == 401
    assert db.execute("SELECT COUNT(*) FROM webhook_deliveries").fetchone()[0] == 0
    for source in ("helpscout", "formtool"):
        assert client.get(f"/api/tickets/{source}/4711/suggestions", headers=admin).status_code == 404


def test_routes_keep_generic_and_built_in_apart(client):
    raw, headers = _signed(CONVERSATION)
    assert client.post("/webhooks/helpscout", data=raw, headers=headers).status_code == 404
    assert client.post("/webhooks/generic/zendesk", data=raw, headers=headers).status_code == 404
    assert client.post("/webhooks/generic/nosuch", data=raw, headers=headers).status_code == 404
    assert registry.get("helpscout").webhook_path == "/webhooks/generic/helpscout"


@pytest.mark.parametrize("text, message", [
    ("zendesk: {auth: shared-secret, header: X-S, secret: 0123456789abcdefgh, paths: {id: id, subject: s}}",
     "built-in"),
    ("Bad Name: {}", "a name is"),
    ("s1: {auth: basic, header: X-S, secret: 0123456789abcdefgh, paths: {id: id, subject: s}}", "s1'.auth"),
    ("s1: {auth: shared-secret, header: X-S, secret: short, paths: {id: id, subject: s}}", "at least 16"),
    ("s1: {auth: shared-secret, header: X-S, secret_env: KS_NOT_SET_ANYWHERE, paths: {id: id, subject: s}}",
     "KS_NOT_SET_ANYWHERE"),
    ("s1: {auth: shared-secret, header: X-S, secret: 0123456789abcdefgh, paths: {subject: s}}", "id and at least"),
    ("s1: {auth: shared-secret, header: X-S, secret: 0123456789abcdefgh, paths: {id: 'a..b', subject: s}}",
     "dotted JSON path"),
    ("s1: {auth: shared-secret, header: 'X S', secret: 0123456789abcdefgh, paths: {id: id, subject: s}}", "header"),
    ("s1: {auth: shared-secret, header: X-S, secret: 0123456789abcdefgh, paths: {id: id, subject: s}, extra: 1}",
     "unknown key"),
    ("[1, 2]", "mapping"),
])
def test_sources_file_is_checked_at_start(tmp_path, text, message):
    path = tmp_path / "sources.yaml"
    path.write_text(text)
    with pytest.raises(settings.ConfigError, match=re.escape(message)):
        settings.load({"generic": {"sources_file": str(path)}}, environ={})
    with pytest.raises(settings.ConfigError, match="cannot read"):
        settings.load({"generic": {"sources_file": str(tmp_path / "missing.yaml")}}, environ={})
