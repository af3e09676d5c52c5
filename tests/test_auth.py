"""Bearer credentials: API tokens of any shape and sidecar sessions (JWTs) both work."""
from __future__ import annotations

from conftest import ADMIN_TOKEN, known_ticket

from api_tokens import tokens
from app import create_app
from web.auth import issue_session
from web.db import get_db


def _admin_token_id() -> int:
    """Sessions made from an API token carry its id; these tests make them from the bootstrap admin token."""
    return tokens.lookup(get_db(), ADMIN_TOKEN)["id"]


def test_an_api_token_with_two_dots_is_still_a_token(config):
    config = dict(config, admin_token="acme.sidecar.admin-2026")
    app = create_app(config)
    client = app.test_client()
    assert client.get("/api/tokens", headers={"Authorization": "Bearer acme.sidecar.admin-2026"}).status_code == 200
    assert client.get("/api/tokens", headers={"Authorization": "Bearer acme.sidecar.admin-2027"}).status_code == 401
    with app.app_context():
        token_id = tokens.lookup(get_db(), "acme.sidecar.admin-2026")["id"]
        session = issue_session(app.config["KS"], "ann", None, "admin", token_id=token_id)
        unbacked = issue_session(app.config["KS"], "ann", None, "admin")     # neither a token nor a helpdesk
    assert client.get("/api/tokens", headers={"Authorization": f"Bearer {session}"}).status_code == 200
    assert client.get("/api/tokens", headers={"Authorization": f"Bearer {unbacked}"}).status_code == 401


def test_a_sidebar_session_acts_only_on_its_own_ticket(app, client, admin, db):
    known_ticket(db, "133598", "555001")
    assert client.post("/api/articles/import", headers=admin, json={"articles": [
        {"external_id": "a1", "title": "Reset a password", "body": "Use the link."}]}).status_code == 200
    art = client.get("/api/articles", headers=admin).json["articles"][0]["id"]
    with app.app_context():
        sidebar = issue_session(app.config["KS"], "ann", "133598", token_id=_admin_token_id())
        session = {"Authorization": f"Bearer {sidebar}"}
    reuse = {"kind": "reused", "article_id": art}
    assert client.post("/api/tickets/zendesk/133598/events", headers=session, json=reuse).status_code == 201
    other = client.post("/api/tickets/zendesk/555001/events", headers=session, json=reuse)
    assert other.status_code == 403 and "opened for ticket 133598" in other.json["message"]
    assert client.get("/api/tickets/zendesk/555001/suggestions", headers=session).status_code == 403
    assert client.post("/api/tickets/zendesk/555001/events", headers=admin,          # tokens are not bound
                       json={"kind": "reused", "article_id": art}).status_code == 201
    assert client.post("/api/suggest", headers=session, json={"subject": "password"}).status_code == 200


def test_a_sidebar_session_opens_no_other_ticket_and_no_people_page(app, client, admin):
    from integrations.base import Ticket
    from tickets import intake
    from web.db import get_db

    with app.app_context():
        for number, subject in (("100", "Printer offline"), ("200", "Payroll for the CEO")):
            intake.handle(get_db(), app.config["KS"], Ticket("zendesk", number, subject=subject, description="x"))
        session = {"Authorization": f"Bearer {issue_session(app.config['KS'], 'ann', '100', source='zendesk')}"}
    assert client.get("/widget/panel?ticket=100&integration=zendesk", headers=session).status_code == 200
    for url in ("/widget/panel?ticket=200&integration=zendesk", "/widget?ticket=200&integration=zendesk"):
        resp = client.get(url, headers=session)
        assert resp.status_code == 403 and "Payroll" not in resp.get_data(as_text=True)
    assert client.get("/widget?ticket=100&integration=zendesk", headers=session).status_code == 200
    for page in ("/demo/tickets/200", "/demo/tickets/100", "/reports"):
        assert client.get(page, headers=session).status_code == 401          # the sign-in form, not the page
    assert client.get("/demo/tickets/200", headers=admin).status_code == 200
