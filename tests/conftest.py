"""Fixtures: a fresh app on a fresh SQLite file per test, real HTTP servers on loopback, real Chromium."""
from __future__ import annotations

import base64
import hashlib
import hmac
import json
import os
import secrets
import socket
import threading
from datetime import UTC, datetime
from pathlib import Path

import pytest
from werkzeug.serving import make_server

from app import create_app

TEST_SECRET = "dGhpc19zZWNyZXRfaXNfZm9yX3Rlc3Rpbmdfb25seQ=="
APP_INSTALLATION = 424242          # the Zendesk app installation the test tokens are for
ADMIN_TOKEN = "test-admin-token"
CHROMIUM = "/usr/bin/chromium"
CHROMIUM_ARGS = ["--headless", "--no-sandbox", "--disable-gpu", "--disable-background-networking",
                 "--disable-component-update", "--disable-sync", "--no-first-run"]


class AppKey:
    """An RSA key pair standing in for a Zendesk app's: Zendesk signs the sidebar's ZAF JWT with the private key
    (RS256); the sidecar is given the public key."""

    def __init__(self):
        from cryptography.hazmat.primitives import serialization
        from cryptography.hazmat.primitives.asymmetric import rsa

        self.private = rsa.generate_private_key(public_exponent=65537, key_size=2048)
        self.public_pem = self.private.public_key().public_bytes(
            serialization.Encoding.PEM, serialization.PublicFormat.SubjectPublicKeyInfo).decode("ascii")

    def token(self, subdomain: str = "acme", **kwargs) -> str:
        from integrations.zendesk.signed_url import sign_for_tests

        kwargs.setdefault("installation_id", APP_INSTALLATION)
        return sign_for_tests(self.private, subdomain, **kwargs)


@pytest.fixture(scope="session")
def app_key() -> AppKey:
    return AppKey()


@pytest.fixture(scope="session")
def other_key() -> AppKey:
    """Another app's key: tokens it signs must be refused."""
    return AppKey()


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


@pytest.fixture
def config(tmp_path: Path) -> dict:
    return {"database": str(tmp_path / "sidecar.db"), "admin_token": ADMIN_TOKEN,
            "zendesk": {"webhook_secret": TEST_SECRET, "subdomain": "", "email": "", "api_token": ""},
            "server": {"session_secret": "test-session-secret-of-at-least-32-bytes"}, "demo": {"enabled": True}}


@pytest.fixture
def app(config: dict):
    return create_app(config)


@pytest.fixture
def client(app):
    return app.test_client()


@pytest.fixture
def admin() -> dict:
    return {"Authorization": f"Bearer {ADMIN_TOKEN}"}


@pytest.fixture
def conn(config: dict):
    """A migrated database without an app (for the worker and the outbox)."""
    from store import connect, migrate

    database = connect(config["database"])
    migrate(database)
    yield database.conn
    database.conn.close()


@pytest.fixture
def db(app):
    from store import connect

    conn = connect(app.config["KS"]["database"]).conn
    yield conn
    conn.close()


def sign(body: bytes, secret: str = TEST_SECRET, ts: str | None = None, invocation: str | None = None) -> dict:
    """Headers Zendesk sends with a webhook: base64(HMAC-SHA256(secret, timestamp + body))."""
    ts = ts or datetime.now(UTC).strftime("%Y-%m-%dT%H:%M:%SZ")
    sig = base64.b64encode(hmac.new(secret.encode(), ts.encode() + body, hashlib.sha256).digest()).decode()
    return {"X-Zendesk-Webhook-Signature": sig, "X-Zendesk-Webhook-Signature-Timestamp": ts,
            "X-Zendesk-Webhook-Id": "01TESTWEBHOOK", "X-Zendesk-Account-Id": "424242",
            "X-Zendesk-Webhook-Invocation-Id": invocation or secrets.token_hex(8),
            "Content-Type": "application/json"}


def ticket_event(ticket_id: str, subject: str, description: str, tags=(), locale: str | None = "en-US",
                 custom_fields=None) -> bytes:
    """A Zendesk event webhook body (zen:event-type:ticket.created), ids as strings as Zendesk sends them."""
    now = datetime.now(UTC).strftime("%Y-%m-%dT%H:%M:%SZ")
    detail = {"id": str(ticket_id), "subject": subject, "description": description, "tags": list(tags),
              "status": "NEW", "priority": "NORMAL", "type": "QUESTION", "created_at": now, "updated_at": now,
              "requester_id": "1001", "submitter_id": "1001", "assignee_id": None, "group_id": "20",
              "brand_id": "30", "form_id": "40", "organization_id": None, "external_id": None,
              "is_public": True, "via": {"channel": "web"}}
    if locale:
        detail["requester_locale"] = locale
    if custom_fields is not None:
        detail["custom_fields"] = custom_fields
    return json.dumps({"account_id": 424242, "id": secrets.token_hex(16), "subject": f"zen:ticket:{ticket_id}",
                       "time": now, "type": "zen:event-type:ticket.created", "zendesk_event_version": "2022-11-06",
                       "event": {}, "detail": detail}).encode()


def known_ticket(conn, *ticket_ids: str, integration: str = "zendesk") -> None:
    """Tickets the sidecar holds (as a webhook would have stored them): agent events are recorded only on those."""
    from integrations.base import Ticket
    from tickets.intake import save_ticket

    for ticket_id in ticket_ids:
        save_ticket(conn, Ticket(integration, str(ticket_id), subject=f"Ticket {ticket_id}"))


class LiveServer:
    """The app served over real HTTP on 127.0.0.1 from a thread (werkzeug), for browsers and zenpy."""

    def __init__(self, app):
        self.port = free_port()
        self.server = make_server("127.0.0.1", self.port, app, threaded=True)
        self.url = f"http://127.0.0.1:{self.port}"
        self.thread = threading.Thread(target=self.server.serve_forever, daemon=True)

    def __enter__(self):
        self.thread.start()
        return self

    def __exit__(self, *exc):
        self.server.shutdown()
        self.thread.join(5)


@pytest.fixture
def live_server(app):
    with LiveServer(app) as server:
        yield server


@pytest.fixture
def fake_zendesk(monkeypatch):
    """A real HTTP fake of the Zendesk API on 127.0.0.1 (tests/fake_zendesk.py); zenpy is pointed at it."""
    from fake_zendesk import serve

    yield from serve(monkeypatch)


@pytest.fixture(scope="session")
def browser():
    """Debian's headless Chromium driven by Playwright; never a downloaded browser."""
    if not os.path.exists(CHROMIUM):
        pytest.fail(f"{CHROMIUM} is missing: `make test` installs Debian's chromium package")
    from playwright.sync_api import sync_playwright

    with sync_playwright() as pw:
        b = pw.chromium.launch(executable_path=CHROMIUM, args=CHROMIUM_ARGS, headless=True)
        yield b
        b.close()


@pytest.fixture
def page(browser):
    context = browser.new_context()
    pg = context.new_page()
    dialogs: list[str] = []
    pg.on("dialog", lambda d: (dialogs.append(d.message), d.dismiss()))
    pg.dialogs = dialogs
    yield pg
    context.close()


def sign_in(pg, url: str, token: str) -> None:
    """Open a signed-in page the way a person does: the page shows the sign-in form, the token is typed in and
    posted, and the browser is sent back to the page with a session cookie."""
    pg.goto(url)
    pg.fill("#token", token)
    with pg.expect_navigation():
        pg.click("#signin-form button[type=submit]")
