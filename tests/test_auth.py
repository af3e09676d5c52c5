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
