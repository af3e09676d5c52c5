"""A ticket's whole life from Zendesk's signed event webhooks: the timeline, the current state, the outcome figures,
re-mapping when a field or tag moves the ticket to another node, and our own write-backs never re-triggering us."""
from __future__ import annotations

import json
import secrets

import pytest
from conftest import sign, ticket_event

from kb import mapping

ARTICLES = [
    {"external_id": "refund-damaged", "title": "Refund for a parcel that arrived damaged", "language": "en",
     "body": "Ask for a photo of the damage and refund the order to the original payment method.",
     "taxonomy": ["Orders", "Refunds"]},
    {"external_id": "card-declined", "title": "Card payment declined at checkout", "language": "en",
     "body": "Check the card's expiry date and billing address, then retry the payment.",
     "taxonomy": ["Billing", "Payments"]},
]
CREATED_AT = "2026-11-02T09:00:00Z"


def event(ticket_id: str, kind: str, at: str, event: dict, **detail) -> bytes:
    """A Zendesk ticket event (2022-11-06 shape): envelope with its own id and time, `detail` the ticket now."""
    body = json.loads(ticket_event(ticket_id, "Parcel arrived damaged", "The mug is broken, I want a refund"))
    body.update(type=f"zen:event-type:ticket.{kind}", id=secrets.token_hex(16), time=at, event=event)
    body["detail"].update(created_at=CREATED_AT, updated_at=at, **detail)
    return json.dumps(body).encode()


def deliver(client, raw: bytes, invocation: str | None = None):
    return client.post("/webhooks/zendesk", data=raw, headers=sign(raw, invocation=invocation))


@pytest.fixture
def created(client, admin):
    assert client.post("/api/articles/import", json={"articles": ARTICLES}, headers=admin).status_code == 200
    body = json.loads(ticket_event("700", "Parcel arrived damaged", "The mug is broken, I want a refund"))
    body["time"] = CREATED_AT
    body["detail"].update(created_at=CREATED_AT, updated_at=CREATED_AT, status="NEW", group_id="20")
    assert deliver(client, json.dumps(body).encode()).status_code == 202
    return "700"


def ticket_of(client, admin, ticket_id="700") -> dict:
    resp = client.get(f"/api/tickets/zendesk/{ticket_id}/suggestions", headers=admin)
    assert resp.status_code == 200
    return resp.get_json()["ticket"]


def test_a_scripted_life_delivered_twice_and_out_of_order_gives_the_exact_timeline(client, admin, db, created):
    life = [
        event("700", "comment_added", "2026-11-02T09:30:00Z",
              {"comment": {"id": 1, "body": "We are on it", "is_public": True,
                           "author": {"id": "2002", "is_staff": True, "name": "Sam Agent"}}}),
        event("700", "comment_added", "2026-11-02T09:35:00Z",
              {"comment": {"id": 2, "body": "internal: check stock", "is_public": False,
                           "author": {"id": "2002", "is_staff": True, "name": "Sam Agent"}}}),
        event("700", "group_assignment_changed", "2026-11-02T10:00:00Z", {"previous": "20", "current": "21"},
              group_id="21"),
        event("700", "status_changed", "2026-11-02T12:00:00Z", {"previous": "NEW", "current": "SOLVED"},
              status="SOLVED"),
        event("700", "status_changed", "2026-11-03T08:00:00Z", {"previous": "SOLVED", "current": "OPEN"},
              status="OPEN"),
        event("700", "status_changed", "2026-11-03T14:00:00Z", {"previous": "OPEN", "current": "SOLVED"},
              status="SOLVED"),
    ]
    # Delivered out of order; some twice (same invocation id: a redelivery), one again under a new invocation id
    # (a second webhook subscribed to the same events): each event is kept once.
    order = [5, 0, 3, 3, 1, 2, 4, 0]
    for n, i in enumerate(order):
        invocation = f"inv-{i}" if n != 7 else "another-webhook-0"
        resp = deliver(client, life[i], invocation=invocation)
        assert resp.status_code == 200, resp.get_json()
    ticket = ticket_of(client, admin)
    assert [(e["kind"], e["at"], e["previous"], e["current"], e["actor"]) for e in ticket["timeline"]] == [
        ("created", CREATED_AT, None, "new", None),
        ("public_reply", "2026-11-02T09:30:00Z", None, None, "2002"),
        ("group", "2026-11-02T10:00:00Z", "20", "21", None),
        ("status", "2026-11-02T12:00:00Z", "new", "solved", None),
        ("status", "2026-11-03T08:00:00Z", "solved", "open", None),
        ("status", "2026-11-03T14:00:00Z", "open", "solved", None),
    ]
    assert ticket["status"] == "solved" and ticket["group_id"] == "21"       # the latest, not the last delivered
    assert ticket["outcome"] == {"status": "solved", "created_at": CREATED_AT, "solved_at": "2026-11-03T14:00:00Z",
                                 "reopened": True, "first_contact_resolution": False, "escalated": True,
                                 "handle_hours": 29.0}
    assert db.execute("SELECT COUNT(*) FROM suggestion_sets").fetchone()[0] == 1
    assert db.execute("SELECT COUNT(*) FROM outbox WHERE kind = 'note'").fetchone()[0] == 1


def test_solved_once_without_reopening_is_first_contact_resolution(client, admin, created):
    deliver(client, event("700", "status_changed", "2026-11-02T11:30:00Z", {"previous": "NEW", "current": "SOLVED"},
                          status="SOLVED"))
    assert ticket_of(client, admin)["outcome"] | {"created_at": None} == {
        "status": "solved", "created_at": None, "solved_at": "2026-11-02T11:30:00Z", "reopened": False,
        "first_contact_resolution": True, "escalated": False, "handle_hours": 2.5}


def test_a_late_older_status_does_not_roll_the_ticket_back(client, admin, created):
    deliver(client, event("700", "status_changed", "2026-11-02T12:00:00Z", {"previous": "OPEN", "current": "SOLVED"},
                          status="SOLVED"))
    deliver(client, event("700", "status_changed", "2026-11-02T10:00:00Z", {"previous": "NEW", "current": "OPEN"},
                          status="OPEN"))
    ticket = ticket_of(client, admin)
    assert ticket["status"] == "solved" and ticket["outcome"]["reopened"] is False


def test_a_field_change_that_moves_the_node_refreshes_the_set_without_a_note(config, client, admin, db, created):
    mapping.add_rule(db, "field", "billing", ["Billing", "Payments"], field_id="360001")
    before = client.get("/api/tickets/zendesk/700/suggestions", headers=admin).get_json()
    assert before["taxonomy"]["path"] == ["Orders", "Refunds"]
    resp = deliver(client, event("700", "custom_field_changed", "2026-11-02T10:00:00Z",
                                 {"custom_field": {"id": "360001", "title": "Topic", "type": "tagger"},
                                  "current": "billing", "previous": None}))
    assert resp.status_code == 200 and resp.get_json()["remapped"] is True
    after = client.get("/api/tickets/zendesk/700/suggestions", headers=admin).get_json()
    assert after["taxonomy"]["path"] == ["Billing", "Payments"] and after["taxonomy"]["source"] == "rule"
    assert after["ticket"]["fields"]["360001"] == "billing"
    assert db.execute("SELECT COUNT(*) FROM outbox WHERE kind = 'note'").fetchone()[0] == 1     # no second note
    # The widget shows the new node.
    page = client.get("/widget?ticket=700&integration=zendesk", headers=admin).get_data(as_text=True)
    assert "Billing › Payments" in page
    # The same change again (nothing moves) and our own loop-guard tag: no re-map.
    again = deliver(client, event("700", "tags_changed", "2026-11-02T10:05:00Z",
                                  {"tags_added": ["ks_suggested"], "tags_removed": []}, tags=["ks_suggested"]))
    assert again.get_json()["remapped"] is False
    assert db.execute("SELECT COUNT(*) FROM suggestion_sets").fetchone()[0] == 2


def test_a_tag_change_re_maps_too(client, admin, db, created):
    mapping.add_rule(db, "tag", "payment_issue", ["Billing", "Payments"])
    resp = deliver(client, event("700", "tags_changed", "2026-11-02T10:00:00Z",
                                 {"tags_added": ["payment_issue"], "tags_removed": []}, tags=["payment_issue"]))
    assert resp.get_json()["remapped"] is True
    assert client.get("/api/tickets/zendesk/700/suggestions",
                      headers=admin).get_json()["taxonomy"]["path"] == ["Billing", "Payments"]


def test_our_own_taxonomy_field_never_re_maps_the_ticket(tmp_path, config):
    from app import create_app

    config["zendesk"]["taxonomy_field_id"] = 360009
    app = create_app(config)
    client, admin = app.test_client(), {"Authorization": "Bearer test-admin-token"}
    client.post("/api/articles/import", json={"articles": ARTICLES}, headers=admin)
    from store import connect

    db = connect(config["database"]).conn
    mapping.add_rule(db, "field", "Billing/Payments", ["Billing", "Payments"], field_id="360009")
    created = ticket_event("710", "Parcel arrived damaged", "The mug is broken, I want a refund")
    assert deliver(client, created).status_code == 202
    echo = event("710", "custom_field_changed", "2026-11-02T10:00:00Z",
                 {"custom_field": {"id": "360009", "title": "Issue (sidecar)", "type": "text"},
                  "current": "Billing/Payments"})
    resp = deliver(client, echo)
    assert resp.status_code == 200 and resp.get_json()["remapped"] is False
    assert db.execute("SELECT COUNT(*) FROM suggestion_sets").fetchone()[0] == 1
    db.close()
