"""Zendesk macros both ways: the account's macros imported as drafts, ours pushed through the outbox. Real SQLite,
the real HTTP fake of Zendesk on 127.0.0.1 (tests/fake_zendesk.py), the worker's own drain()."""
from __future__ import annotations

import pytest
from fake_zendesk import zendesk_config

from api_tokens import tokens
from app import create_app
from integrations.zendesk import client as zendesk
from integrations.zendesk.macros import html_to_text
from jobs.worker import drain
from kb import audit
from macros import library, render
from store import outbox
from sync import macros as macro_sync

TICKET = {"id": 4711, "subject": "Broken mug", "requester": {"name": "Ann Lee"}}
REFUND = ("Hi {{ticket.requester.first_name}},\n\nyour refund for ticket #{{ticket.id}} ({{ticket.title}}) is on "
          "its way to {{ticket.organization.name}}.\n\n{{current_user.name}}")
ROUTER = "Hello {{ticket.requester.name}}, please restart the router and reset the router password."
PARCEL_HTML = ('<p>Dear {{ticket.requester.first_name}},</p><p>your parcel &amp; invoice are '
               '<a href="https://example.com/track">here</a>.</p><ul><li>Keep the box</li><li>Call us</li></ul>')
OURS = {"external_id": "refund-thanks", "title": "Refund confirmed", "language": "en",
        "body": "Hi {{ requester.first_name or 'there' }}, about {{ ticket.subject }} (#{{ ticket.id }}): your refund "
                "is confirmed.\n{{ agent.name }}"}


@pytest.fixture
def app(config, fake_zendesk):
    config["zendesk"].update(zendesk_config(fake_zendesk))
    return create_app(config)


@pytest.fixture
def cfg(app) -> dict:
    return app.config["KS"]


def _zendesk_account(fake) -> dict:
    """Five macros as an admin made them in Zendesk: comment_value text, the [channel, text] pair, rich text only,
    both forms, and one that writes no comment."""
    add = fake.macros.add
    return {
        "refund": add("Billing::Refund sent", [{"field": "comment_value", "value": REFUND},
                                               {"field": "status", "value": "solved"}]),
        "router": add("Router reset", [{"field": "comment_value", "value": ["channel:all", ROUTER]},
                                       {"field": "comment_mode_is_public", "value": "true"}]),
        "parcel": add("Parcel tracking", [{"field": "comment_value_html", "value": PARCEL_HTML}]),
        "both": add("Both forms", [{"field": "comment_value_html", "value": "<p>Rich text loses</p>"},
                                   {"field": "comment_value", "value": "Plain text wins"}]),
        "tags": add("Tag as VIP", [{"field": "set_tags", "value": "vip"}, {"field": "priority", "value": "high"}]),
    }


def _by_zendesk_id(db) -> dict[str, dict]:
    return {m["helpdesk_id"]: m for m in library.listing(db) if m["source"] == "zendesk"}


def _publisher(db) -> dict:
    return {"Authorization": f"Bearer {tokens.create(db, 'pat publisher', 'publisher')}"}


def test_import_makes_drafts_with_our_placeholders_that_are_not_suggested(client, admin, db, fake_zendesk):
    zd = _zendesk_account(fake_zendesk)
    resp = client.post("/api/zendesk/macros/import", headers=_publisher(db))
    assert resp.status_code == 200, resp.json
    assert resp.json == {"total": 5, "created": 4, "updated": 0, "unchanged": 0, "kept_validated": 0,
                         "skipped_no_comment": 1, "skipped_ours": 0, "errors": []}

    drafts = _by_zendesk_id(db)
    assert set(drafts) == {str(zd[k]["id"]) for k in ("refund", "router", "parcel", "both")}
    for key in ("refund", "router", "parcel", "both"):
        m = drafts[str(zd[key]["id"])]
        assert (m["state"], m["active"], m["external_id"]) == ("wip", False, f"zendesk-macro-{zd[key]['id']}")
        assert m["title"] == zd[key]["title"] and m["language"] == "en"
        render.check(m["body"])
    refund = drafts[str(zd["refund"]["id"])]["body"]
    assert refund == ("Hi {{ requester.first_name }},\n\nyour refund for ticket #{{ ticket.id }} "
                      "({{ ticket.subject }}) is on its way to {% raw %}{{ticket.organization.name}}{% endraw %}."
                      "\n\n{{ agent.name }}")
    assert render.render(refund, TICKET, "Bob Kent") == (
        "Hi Ann,\n\nyour refund for ticket #4711 (Broken mug) is on its way to {{ticket.organization.name}}."
        "\n\nBob Kent")
    router = ROUTER.replace("{{ticket.requester.name}}", "{{ requester.name }}")
    assert drafts[str(zd["router"]["id"])]["body"] == router
    assert drafts[str(zd["parcel"]["id"])]["body"] == ("Dear {{ requester.first_name }},\n\nyour parcel & invoice are "
                                                       "here (https://example.com/track).\n\n- Keep the box\n- Call us")
    assert drafts[str(zd["both"]["id"])]["body"] == "Plain text wins"
    refund_id = drafts[str(zd["refund"]["id"])]["id"]
    assert [e["action"] for e in audit.history(db, "macro", refund_id)] == ["imported_from_zendesk"]

    ask = {"subject": "Refund for my ticket", "description": "Where is my refund? Please restart the router.",
           "min_confidence": 0}
    assert client.post("/api/suggest", json=ask, headers=admin).json["macros"] == []
    # A publisher validates one: from then on it is suggested like any macro.
    assert library.set_state(db, refund_id, "validated")
    assert [m["id"] for m in client.post("/api/suggest", json=ask, headers=admin).json["macros"]] == [refund_id]


def test_reimport_is_idempotent_and_never_overwrites_a_validated_macro(client, db, fake_zendesk):
    zd = _zendesk_account(fake_zendesk)
    headers = _publisher(db)
    assert client.post("/api/zendesk/macros/import", headers=headers).json["created"] == 4
    before = {m["id"]: m for m in library.listing(db)}
    again = client.post("/api/zendesk/macros/import", headers=headers).json
    assert (again["created"], again["updated"], again["unchanged"], again["skipped_no_comment"]) == (0, 0, 4, 1)
    assert {m["id"]: m for m in library.listing(db)} == before

    router_id = _by_zendesk_id(db)[str(zd["router"]["id"])]["id"]
    library.set_state(db, router_id, "validated")
    zd["refund"]["actions"][0]["value"] = "Hi {{ticket.requester.first_name}}, the refund was sent today."
    zd["refund"]["title"] = "Refund sent today"
    zd["router"]["actions"][0]["value"] = ["channel:all", "Overwritten in Zendesk"]
    third = client.post("/api/zendesk/macros/import", headers=headers).json
    assert (third["updated"], third["kept_validated"], third["unchanged"], third["created"]) == (1, 1, 2, 0)
    now = _by_zendesk_id(db)
    refund = now[str(zd["refund"]["id"])]
    assert (refund["title"], refund["state"], refund["active"]) == ("Refund sent today", "wip", False)
    assert refund["body"] == "Hi {{ requester.first_name }}, the refund was sent today."
    assert refund["id"] == before[refund["id"]]["id"]
    router = now[str(zd["router"]["id"])]
    assert router["body"] == before[router_id]["body"] and router["state"] == "validated"


def test_push_creates_once_then_updates_the_same_zendesk_macro(client, db, cfg, fake_zendesk):
    library.import_macros(db, [OURS], "en")
    macro = library.listing(db)[0]
    headers = _publisher(db)
    first = client.post(f"/api/macros/{macro['id']}/push", headers=headers)
    assert first.status_code == 202
    assert first.json["already_queued"] is False and first.json["zendesk_configured"] is True
    assert client.post(f"/api/macros/{macro['id']}/push", headers=headers).json == {**first.json,
                                                                                   "already_queued": True}
    assert drain(db, cfg, zendesk.from_config(cfg)) == {"done": 1, "retry": 0, "failed": 0, "held": 0}

    [created] = fake_zendesk.calls("POST", "/api/v2/macros.json")
    sent = created["json"]["macro"]
    assert sent["title"] == "Refund confirmed" and sent["active"] is True
    assert sent["actions"] == [{"field": "comment_value", "value": (
        "Hi {{ticket.requester.first_name}}, about {{ticket.title}} (#{{ticket.id}}): your refund is confirmed.\n"
        "{{current_user.name}}")}]
    assert "Knowledge Sidecar macro refund-thanks" in sent["description"].splitlines()
    [zendesk_id] = fake_zendesk.macros.items
    assert library.get(db, macro["id"])["helpdesk_id"] == str(zendesk_id)

    library.import_macros(db, [{**OURS, "title": "Refund confirmed (v2)"}], "en")
    assert client.post(f"/api/macros/{macro['id']}/push", headers=headers).status_code == 202
    assert drain(db, cfg, zendesk.from_config(cfg))["done"] == 1
    assert len(fake_zendesk.calls("POST", "/api/v2/macros.json")) == 1
    [updated] = fake_zendesk.calls("PUT")
    assert updated["path"] == f"/api/v2/macros/{zendesk_id}.json"
    assert list(fake_zendesk.macros.items) == [zendesk_id]
    assert fake_zendesk.macros.items[zendesk_id]["title"] == "Refund confirmed (v2)"
    pushes = audit.history(db, "macro", macro["id"])
    assert [(e["action"], e["detail"]["zendesk_id"], e["detail"]["how"]) for e in pushes] == [
        ("pushed_to_zendesk", zendesk_id, "updated"), ("pushed_to_zendesk", zendesk_id, "created")]
    assert pushes[0]["actor"] == "pat publisher"

    # Importing the account back leaves our own macro alone.
    result = client.post("/api/zendesk/macros/import", headers=headers).json
    assert (result["total"], result["skipped_ours"], result["created"]) == (1, 1, 0)
    assert len(library.listing(db)) == 1


def test_a_retry_after_a_lost_answer_finds_the_macro_instead_of_creating_another(db, cfg, fake_zendesk):
    for n in range(120):        # the account's own macros: ours lands on the second page of the list
        fake_zendesk.macros.add(f"Other macro {n}", [{"field": "comment_value", "value": f"Text {n}"}])
    library.import_macros(db, [OURS], "en")
    macro = library.listing(db)[0]
    macro_sync.queue_push(db, cfg, macro["id"], "pat")
    client = zendesk.from_config(cfg)

    job = outbox.claim(db, 60)
    assert job["attempts"] == 1
    macro_sync.HANDLERS["push_macro"](db, cfg, client, job)   # Zendesk created it ...
    [ours] = [m for m in fake_zendesk.macros.items.values() if m["title"] == OURS["title"]]
    library.set_helpdesk_id(db, macro["id"], None)             # ... but the answer was lost on the way back
    outbox.retry(db, job, "connection reset", 0, 5)

    assert drain(db, cfg, client)["done"] == 1
    assert len(fake_zendesk.calls("POST", "/api/v2/macros.json")) == 1
    assert [c["query"]["page"] for c in fake_zendesk.calls("GET", "/api/v2/macros.json")] == [["1"], ["2"]]
    assert [c["path"] for c in fake_zendesk.calls("PUT")] == [f"/api/v2/macros/{ours['id']}.json"]
    assert library.get(db, macro["id"])["helpdesk_id"] == str(ours["id"])
    assert len(fake_zendesk.macros.items) == 121


def test_a_macro_deleted_in_zendesk_is_created_again(client, db, cfg, fake_zendesk):
    library.import_macros(db, [OURS], "en")
    macro_id = library.listing(db)[0]["id"]
    headers = _publisher(db)
    client.post(f"/api/macros/{macro_id}/push", headers=headers)
    drain(db, cfg, zendesk.from_config(cfg))
    first = int(library.get(db, macro_id)["helpdesk_id"])
    fake_zendesk.macros.items.pop(first)                       # an admin deleted it in Zendesk

    client.post(f"/api/macros/{macro_id}/push", headers=headers)
    assert drain(db, cfg, zendesk.from_config(cfg))["done"] == 1
    [second] = fake_zendesk.macros.items
    assert second != first and library.get(db, macro_id)["helpdesk_id"] == str(second)
    assert [c["method"] for c in fake_zendesk.calls() if c["path"].startswith("/api/v2/macros")] == \
        ["POST", "PUT", "POST"]
    latest = audit.history(db, "macro", macro_id)[0]["detail"]
    assert (latest["zendesk_id"], latest["previous_zendesk_id"], latest["how"]) == \
        (second, str(first), "created again (deleted in Zendesk)")


def test_only_our_validated_active_macros_can_be_pushed(client, db, cfg, fake_zendesk):
    zd = _zendesk_account(fake_zendesk)
    headers = _publisher(db)
    client.post("/api/zendesk/macros/import", headers=headers)
    draft = _by_zendesk_id(db)[str(zd["refund"]["id"])]["id"]
    library.import_macros(db, [OURS, {**OURS, "external_id": "old-one", "title": "Old one"}], "en")
    ours = {m["external_id"]: m["id"] for m in library.listing(db) if m["source"] == "sidecar"}
    library.set_state(db, ours["old-one"], "archived")
    requests_before = len(fake_zendesk.calls())

    resp = client.post(f"/api/macros/{draft}/push", headers=headers)
    assert resp.status_code == 409
    assert "was imported from zendesk" in resp.json["message"]
    library.set_state(db, ours["refund-thanks"], "wip")
    resp = client.post(f"/api/macros/{ours['refund-thanks']}/push", headers=headers)
    assert resp.status_code == 409 and resp.json["message"] == (
        f"macro {ours['refund-thanks']} (refund-thanks) is wip: a publisher must validate it before it is pushed")
    assert "is archived" in client.post(f"/api/macros/{ours['old-one']}/push", headers=headers).json["message"]
    library.set_state(db, ours["refund-thanks"], "validated", active=False)
    assert "is inactive" in client.post(f"/api/macros/{ours['refund-thanks']}/push", headers=headers).json["message"]
    assert client.post("/api/macros/999999/push", headers=headers).status_code == 404
    agent = {"Authorization": f"Bearer {tokens.create(db, 'al agent', 'agent')}"}
    assert client.post(f"/api/macros/{ours['refund-thanks']}/push", headers=agent).status_code == 403

    assert outbox.counts(db) == {}
    assert drain(db, cfg, zendesk.from_config(cfg)) == {"done": 0, "retry": 0, "failed": 0, "held": 0}
    assert len(fake_zendesk.calls()) == requests_before


def test_a_push_of_a_macro_archived_while_queued_fails_without_sending(client, db, cfg, fake_zendesk):
    library.import_macros(db, [OURS], "en")
    macro_id = library.listing(db)[0]["id"]
    assert client.post(f"/api/macros/{macro_id}/push", headers=_publisher(db)).status_code == 202
    library.set_state(db, macro_id, "archived")
    assert drain(db, cfg, zendesk.from_config(cfg))["failed"] == 1
    assert fake_zendesk.calls() == []
    error = db.execute("SELECT last_error FROM outbox").fetchone()[0]
    assert "not pushed" in error and "is archived" in error


def test_import_answers_clearly_when_zendesk_cannot(client, db, fake_zendesk):
    headers = _publisher(db)
    fake_zendesk.fail_next(500)
    resp = client.post("/api/zendesk/macros/import", headers=headers)
    assert resp.status_code == 502 and "/api/v2/macros.json -> 500" in resp.json["message"]
    assert library.listing(db) == []


def test_import_without_zendesk_configured_is_refused(config, admin):
    resp = create_app(config).test_client().post("/api/zendesk/macros/import", headers=admin)
    assert resp.status_code == 409 and "Zendesk is not configured" in resp.json["message"]


@pytest.mark.parametrize("text", [
    "Org {{ticket.organization.name}} {% if ticket.status == 'open' %}open{% endif %}",
    "Braces { {{ {# {% endraw %} and {{ticket.id}}",
    "x{{{ticket.id}}}", "{# never closed {{current_user.first_name}}", "{{ ticket.id | upcase }}", "ends with {",
])
def test_zendesk_text_always_becomes_a_template_that_gives_it_back(text):
    body = macro_sync.from_zendesk(text)
    render.check(body)
    assert macro_sync.to_zendesk(body) == text


def test_rich_text_becomes_plain_text():
    assert html_to_text("<p>One&nbsp;&lt;two&gt;</p><p>Line<br>break <a href='https://x.test'>https://x.test</a></p>"
                        ) == "One <two>\n\nLine\nbreak https://x.test"


def test_a_publisher_validates_an_imported_draft_over_http_and_the_cli_imports(app, fake_zendesk):
    fake_zendesk.macros.add("Printer offline", [{"field": "comment_value",
                                                 "value": "Hi {{ticket.requester.first_name}}, please restart the "
                                                          "printer spooler."}])
    result = app.test_cli_runner().invoke(args=["zendesk-import", "macros"])
    assert result.exit_code == 0, result.output
    assert '"created": 1' in result.output
    client, admin = app.test_client(), {"Authorization": "Bearer test-admin-token"}
    draft = client.get("/api/macros", headers=admin).json["macros"][0]
    assert draft["state"] == "wip" and draft["active"] is False
    assert client.patch(f"/api/macros/{draft['id']}", json={"state": "nope"}, headers=admin).status_code == 400
    assert client.patch("/api/macros/999999", json={"state": "validated"}, headers=admin).status_code == 404
    done = client.patch(f"/api/macros/{draft['id']}", json={"state": "validated"}, headers=admin)
    assert done.status_code == 200 and done.json["state"] == "validated" and done.json["active"] is True
    suggested = client.post("/api/suggest", json={"subject": "printer offline, restart the spooler",
                                                  "min_confidence": 0}, headers=admin).json
    assert [m["id"] for m in suggested["macros"]] == [draft["id"]]


def test_the_cli_says_when_zendesk_is_not_configured(tmp_path):
    bare = create_app({"database": str(tmp_path / "bare.db")})
    for what in ("help-center", "macros"):
        result = bare.test_cli_runner().invoke(args=["zendesk-import", what])
        assert result.exit_code == 1 and "not configured" in result.output
