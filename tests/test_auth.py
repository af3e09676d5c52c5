"""Bearer credentials: API tokens of any shape and sidecar sessions (JWTs) both work."""
from __future__ import annotations

from app import create_app
from web.auth import issue_session


def test_an_api_token_with_two_dots_is_still_a_token(config):
    config = dict(config, admin_token="acme.sidecar.admin-2026")
    app = create_app(config)
    client = app.test_client()
    assert client.get("/api/tokens", headers={"Authorization": "Bearer acme.sidecar.admin-2026"}).status_code == 200
    assert client.get("/api/tokens", headers={"Authorization": "Bearer acme.sidecar.admin-2027"}).status_code == 401
    with app.app_context():
        session = issue_session(app.config["KS"], "ann", None, "admin")
    assert client.get("/api/tokens", headers={"Authorization": f"Bearer {session}"}).status_code == 200


def test_a_sidebar_session_acts_only_on_its_own_ticket(app, client, admin):
    assert client.post("/api/articles/import", headers=admin, json={"articles": [
        {"external_id": "a1", "title": "Reset a password", "body": "Use the link."}]}).status_code == 200
    art = client.get("/api/articles", headers=admin).json["articles"][0]["id"]
    with app.app_context():
        session = {"Authorization": f"Bearer {issue_session(app.config['KS'], 'ann', '133598')}"}
    reuse = {"kind": "reused", "article_id": art}
    assert client.post("/api/tickets/zendesk/133598/events", headers=session, json=reuse).status_code == 201
    other = client.post("/api/tickets/zendesk/555001/events", headers=session, json=reuse)
    assert other.status_code == 403 and "opened for ticket 133598" in other.json["message"]
    assert client.get("/api/tickets/zendesk/555001/suggestions", headers=session).status_code == 403
    assert client.post("/api/tickets/zendesk/555001/events", headers=admin,          # tokens are not bound
                       json={"kind": "reused", "article_id": art}).status_code == 201
    assert client.post("/api/suggest", headers=session, json={"subject": "password"}).status_code == 200
