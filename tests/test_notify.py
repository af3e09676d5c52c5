"""Notices delivered through the outbox: e-mail to a real SMTP server on 127.0.0.1 (aiosmtpd, plain and STARTTLS with
a login), or a POST to a real HTTP receiver on 127.0.0.1 that checks X-KS-Signature. Notices are told with
kb.notices.tell and the outbox is drained by jobs.worker.drain(..., integration="notify"), as the worker does."""
from __future__ import annotations

import datetime as dt
import hashlib
import hmac
import ipaddress
import json
import threading
from email import message_from_bytes
from email import policy as email_policy
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

import pytest
from aiosmtpd.controller import Controller
from aiosmtpd.smtp import AuthResult
from conftest import free_port

import settings
from jobs.worker import drain
from kb import articles, notices, people
from notify import client as notify_client
from store import clock

PUBLIC_URL = "http://sidecar.example.test"
FROM = "sidecar@example.test"
WEBHOOK_SECRET = "notice-webhook-secret"
SMTP_USER, SMTP_PASSWORD = "sidecar", "s3cret-pw"
ARTICLE = {"external_id": "printer-jam", "title": "Printer jams on every page", "language": "en",
           "body": "Open the rear tray, remove the crumpled paper and reseat the printer drum.",
           "taxonomy": ["Hardware", "Printers"]}


class Inbox:
    """An aiosmtpd handler: keeps every accepted message; answers RCPT for the addresses in `refuse` with the
    reply given there (e.g. "550 5.1.1 no such user")."""

    def __init__(self):
        self.messages: list[dict] = []
        self.refuse: dict[str, str] = {}

    async def handle_RCPT(self, server, session, envelope, address, rcpt_options):
        if address in self.refuse:
            return self.refuse[address]
        envelope.rcpt_tos.append(address)
        return "250 OK"

    async def handle_DATA(self, server, session, envelope):
        self.messages.append({"mail_from": envelope.mail_from, "rcpt_tos": list(envelope.rcpt_tos),
                              "message": message_from_bytes(envelope.content, policy=email_policy.default),
                              "tls": session.ssl is not None, "login": session.auth_data})
        return "250 Message accepted for delivery"


def _login(server, session, envelope, mechanism, auth_data):
    ok = (auth_data.login, auth_data.password) == (SMTP_USER.encode(), SMTP_PASSWORD.encode())
    return AuthResult(success=ok, handled=False, auth_data=auth_data.login if ok else None)   # refused: 535


def _smtp(port: int | None = None, **smtp_options) -> tuple[Controller, Inbox]:
    inbox = Inbox()
    controller = Controller(inbox, hostname="127.0.0.1", port=port or free_port(), **smtp_options)
    controller.start()
    return controller, inbox


@pytest.fixture
def smtp_server():
    controller, inbox = _smtp()
    yield controller, inbox
    controller.stop()


class Receiver:
    """A webhook receiver on 127.0.0.1 that checks the signature as a real one would (401 when it does not match)
    and answers the scripted statuses first, then 204."""

    def __init__(self, secret: str = WEBHOOK_SECRET):
        self.secret, self.posts, self.script = secret.encode(), [], []
        receiver = self

        class Handler(BaseHTTPRequestHandler):
            def log_message(self, *args):
                pass

            def do_POST(self):
                raw = self.rfile.read(int(self.headers.get("Content-Length") or 0))
                expected = hmac.new(receiver.secret, raw, hashlib.sha256).hexdigest()
                signed = hmac.compare_digest(expected, self.headers.get("X-KS-Signature", ""))
                receiver.posts.append({"path": self.path, "headers": dict(self.headers.items()), "raw": raw,
                                       "signed": signed})
                status, headers = receiver.script.pop(0) if receiver.script else (204, {})
                if not signed:
                    status, headers = 401, {}
                self.send_response(status)
                for name, value in headers.items():
                    self.send_header(name, value)
                self.send_header("Content-Length", "0")
                self.end_headers()

        self.server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.url = f"http://127.0.0.1:{self.server.server_address[1]}/hooks/notices"
        self.thread = threading.Thread(target=self.server.serve_forever, args=(0.05,), daemon=True)
        self.thread.start()

    def stop(self):
        self.server.shutdown()
        self.server.server_close()
        self.thread.join(5)


@pytest.fixture
def receiver():
    r = Receiver()
    yield r
    r.stop()


def _cfg(config: dict, **notify) -> dict:
    config["notify"] = {"from_address": FROM, "smtp_starttls": False, **notify}
    config["server"]["public_url"] = PUBLIC_URL
    config["worker"] = {"backoff_base_s": 5.0, **config.get("worker", {})}
    return settings.load(config, environ={})


def _smtp_cfg(config: dict, controller: Controller, **notify) -> dict:
    return _cfg(config, smtp_host="127.0.0.1", smtp_port=controller.port, **notify)


def _jobs(conn) -> list[dict]:
    cur = conn.execute("SELECT integration, kind, state, attempts, next_attempt_at, last_error, payload FROM outbox "
                       "ORDER BY id")
    return [dict(zip([c[0] for c in cur.description], row)) for row in cur.fetchall()]


def _drain(conn, cfg) -> dict:
    return drain(conn, cfg, notify_client.from_config(cfg), integration="notify")


def _tell(conn, cfg, recipient: str = "alice") -> dict:
    article = articles.get_by_external_id(conn, "printer-jam")
    if article is None:
        articles.import_articles(conn, [ARTICLE], "en")
        article = articles.get_by_external_id(conn, "printer-jam")
    return notices.tell(conn, cfg, recipient, "article_changed", "Printer jams: the resolution changed",
                        "The resolution now says: reseat the drum before clearing the tray.", article_id=article["id"])


def test_notice_to_a_person_with_an_email_is_emailed_once(conn, config, smtp_server):
    controller, inbox = smtp_server
    cfg = _smtp_cfg(config, controller)
    people.remember(conn, "alice", "Alice Agent", "alice@example.com")
    notice = _tell(conn, cfg)
    assert notice["delivery"] == "email_queued"
    assert [(j["integration"], j["kind"], json.loads(j["payload"])) for j in _jobs(conn)] == \
        [("notify", "notice", {"notice_id": notice["id"], "channel": "email"})]

    assert _drain(conn, cfg) == {"done": 1, "retry": 0, "failed": 0, "held": 0}
    assert len(inbox.messages) == 1
    got = inbox.messages[0]
    assert got["mail_from"] == FROM and got["rcpt_tos"] == ["alice@example.com"]
    msg = got["message"]
    assert msg["Subject"] == "Printer jams: the resolution changed"
    assert msg["From"] == FROM
    assert msg["To"].addresses[0].addr_spec == "alice@example.com"
    assert msg["To"].addresses[0].display_name == "Alice Agent"
    assert msg["X-KS-Notice-Id"] == str(notice["id"])
    assert msg.get_content_type() == "text/plain"
    text = msg.get_content()
    assert "The resolution now says: reseat the drum before clearing the tray." in text
    assert f"{PUBLIC_URL}/notices" in text
    stored = notices.get(conn, notice["id"])
    assert stored["delivery"] == "emailed" and stored["delivered_at"]
    assert [j["state"] for j in _jobs(conn)] == ["done"]

    assert _drain(conn, cfg)["done"] == 0      # nothing left: the e-mail goes once
    assert len(inbox.messages) == 1


def test_starttls_and_login(conn, config, tmp_path, monkeypatch):
    """notify.smtp_starttls upgrades the connection (the server's certificate is checked: trusted here through
    SSL_CERT_FILE) and notify.smtp_user logs in over it; a wrong password is retried, not failed."""
    import ssl

    cert, key = _self_signed(tmp_path)
    monkeypatch.setenv("SSL_CERT_FILE", str(cert))
    tls = ssl.create_default_context(ssl.Purpose.CLIENT_AUTH)
    tls.load_cert_chain(cert, key)
    controller, inbox = _smtp(tls_context=tls, require_starttls=True, authenticator=_login, auth_required=True)
    try:
        cfg = _smtp_cfg(config, controller, smtp_starttls=True, smtp_user=SMTP_USER, smtp_password=SMTP_PASSWORD)
        people.remember(conn, "alice", "", "alice@example.com")
        notice = _tell(conn, cfg)
        assert _drain(conn, cfg)["done"] == 1
        assert len(inbox.messages) == 1 and inbox.messages[0]["tls"]
        assert inbox.messages[0]["login"] == SMTP_USER.encode()
        assert notices.get(conn, notice["id"])["delivery"] == "emailed"

        wrong = _smtp_cfg(config, controller, smtp_starttls=True, smtp_user=SMTP_USER, smtp_password="nope")
        second = _tell(conn, wrong)
        assert _drain(conn, wrong)["retry"] == 1
        job = _jobs(conn)[-1]
        assert job["state"] == "pending" and "check notify.smtp_user" in job["last_error"]
        assert notices.get(conn, second["id"])["delivery"] == "email_queued"
        assert len(inbox.messages) == 1
    finally:
        controller.stop()


def test_without_smtp_the_webhook_gets_a_signed_notice(conn, config, receiver):
    cfg = _cfg(config, webhook_url=receiver.url, webhook_secret=WEBHOOK_SECRET)
    people.remember(conn, "alice", "Alice Agent", "alice@example.com")
    notice = _tell(conn, cfg)
    assert notice["delivery"] == "webhook_queued"

    assert _drain(conn, cfg) == {"done": 1, "retry": 0, "failed": 0, "held": 0}
    assert len(receiver.posts) == 1
    post = receiver.posts[0]
    assert post["path"] == "/hooks/notices" and post["signed"]
    assert post["headers"]["X-KS-Signature"] == hmac.new(WEBHOOK_SECRET.encode(), post["raw"],
                                                         hashlib.sha256).hexdigest()
    assert post["headers"]["Content-Type"].startswith("application/json")
    assert post["headers"]["X-KS-Notice-Id"] == str(notice["id"])
    body = json.loads(post["raw"])
    assert body["id"] == notice["id"] and body["kind"] == "article_changed"
    assert body["article_id"] == notice["article_id"]
    assert body["recipient"] == "alice" and body["recipient_email"] == "alice@example.com"
    assert body["title"] == "Printer jams: the resolution changed"
    assert body["url"] == f"{PUBLIC_URL}/notices"
    assert notices.get(conn, notice["id"])["delivery"] == "webhook_sent"


def test_webhook_answers_map_to_retry_or_failure(conn, config, receiver):
    cfg = _cfg(config, webhook_url=receiver.url, webhook_secret=WEBHOOK_SECRET)
    receiver.script = [(429, {"Retry-After": "600"})]
    first = _tell(conn, cfg)
    assert _drain(conn, cfg)["retry"] == 1
    job = _jobs(conn)[0]
    assert job["state"] == "pending" and "429" in job["last_error"]
    assert job["next_attempt_at"] >= clock.after(590)
    assert notices.get(conn, first["id"])["delivery"] == "webhook_queued"

    conn.execute("UPDATE outbox SET next_attempt_at = '2000-01-01T00:00:00Z' WHERE state = 'pending'")
    receiver.script = [(410, {})]
    assert _drain(conn, cfg)["failed"] == 1
    assert _jobs(conn)[0]["state"] == "failed" and "410" in _jobs(conn)[0]["last_error"]
    assert notices.get(conn, first["id"])["delivery"] == "failed"

    forged = _cfg(config, webhook_url=receiver.url, webhook_secret="not-the-receivers-secret")
    second = _tell(conn, forged)
    assert _drain(conn, forged)["retry"] == 1           # the receiver refused the signature: fix the secret, retry
    assert receiver.posts[-1]["signed"] is False
    assert "notify.webhook_secret" in _jobs(conn)[-1]["last_error"]
    assert notices.get(conn, second["id"])["delivery"] == "webhook_queued"


def test_smtp_down_is_retried_later_then_sent(conn, config):
    port = free_port()                       # nothing listens here yet
    cfg = _cfg(config, smtp_host="127.0.0.1", smtp_port=port)
    people.remember(conn, "alice", "", "alice@example.com")
    notice = _tell(conn, cfg)

    assert _drain(conn, cfg) == {"done": 0, "retry": 1, "failed": 0, "held": 0}
    job = _jobs(conn)[0]
    assert job["state"] == "pending" and job["attempts"] == 1 and "unreachable" in job["last_error"]
    assert job["next_attempt_at"] > clock.now()
    assert notices.get(conn, notice["id"])["delivery"] == "email_queued"
    assert _drain(conn, cfg)["retry"] == 0     # not due yet

    controller, inbox = _smtp(port)
    try:
        conn.execute("UPDATE outbox SET next_attempt_at = '2000-01-01T00:00:00Z' WHERE state = 'pending'")
        assert _drain(conn, cfg)["done"] == 1
        assert len(inbox.messages) == 1
        assert notices.get(conn, notice["id"])["delivery"] == "emailed"
    finally:
        controller.stop()


def test_retries_used_up_mark_the_notice_failed(conn, config):
    config["worker"] = {"max_attempts": 1}
    cfg = _cfg(config, smtp_host="127.0.0.1", smtp_port=free_port())
    people.remember(conn, "alice", "", "alice@example.com")
    notice = _tell(conn, cfg)
    assert _drain(conn, cfg)["failed"] == 1
    assert notices.get(conn, notice["id"])["delivery"] == "failed"


def test_550_no_such_user_fails_the_notice(conn, config, smtp_server):
    controller, inbox = smtp_server
    inbox.refuse["gone@example.com"] = "550 5.1.1 <gone@example.com>: no such user"
    inbox.refuse["busy@example.com"] = "451 4.7.1 greylisted, try again later"
    cfg = _smtp_cfg(config, controller)
    people.remember(conn, "gone", "", "gone@example.com")
    people.remember(conn, "busy", "", "busy@example.com")
    gone, busy = _tell(conn, cfg, "gone"), _tell(conn, cfg, "busy")

    assert _drain(conn, cfg) == {"done": 0, "retry": 1, "failed": 1, "held": 0}
    failed, waiting = _jobs(conn)
    assert failed["state"] == "failed" and "550" in failed["last_error"] and "no such user" in failed["last_error"]
    assert notices.get(conn, gone["id"])["delivery"] == "failed"
    assert waiting["state"] == "pending" and "451" in waiting["last_error"]
    assert notices.get(conn, busy["id"])["delivery"] == "email_queued"
    assert inbox.messages == []


def test_email_removed_after_queueing_fails_clearly(conn, config, smtp_server):
    controller, inbox = smtp_server
    cfg = _smtp_cfg(config, controller)
    people.remember(conn, "bob", "Bob", "bob@example.com")
    notice = _tell(conn, cfg, "bob")
    people.set_contact(conn, "bob", {"email": ""})       # an admin removed it meanwhile

    assert _drain(conn, cfg)["failed"] == 1
    assert "'bob' has no e-mail address any more" in _jobs(conn)[0]["last_error"]
    assert notices.get(conn, notice["id"])["delivery"] == "failed"
    assert inbox.messages == []


def test_nothing_configured_keeps_notices_in_app(conn, config):
    cfg = _cfg(config)
    people.remember(conn, "alice", "", "alice@example.com")
    notice = _tell(conn, cfg)
    assert notice["delivery"] == "in_app"
    assert _jobs(conn) == []
    assert notify_client.from_config(cfg) is None
    assert drain(conn, cfg, None, integration="notify") == {"done": 0, "retry": 0, "failed": 0, "held": 0}
    assert notices.for_recipient(conn, "alice")["notices"][0]["delivery"] == "in_app"


def _self_signed(tmp_path):
    """A certificate for 127.0.0.1 (an IP SAN, as the client checks the host it dialled)."""
    from cryptography import x509
    from cryptography.hazmat.primitives import hashes, serialization
    from cryptography.hazmat.primitives.asymmetric import ec
    from cryptography.x509.oid import NameOID

    key = ec.generate_private_key(ec.SECP256R1())
    name = x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, "127.0.0.1")])
    now = dt.datetime.now(dt.UTC)
    cert = (x509.CertificateBuilder().subject_name(name).issuer_name(name).public_key(key.public_key())
            .serial_number(x509.random_serial_number())
            .not_valid_before(now - dt.timedelta(minutes=5)).not_valid_after(now + dt.timedelta(days=1))
            .add_extension(x509.SubjectAlternativeName([x509.IPAddress(ipaddress.ip_address("127.0.0.1"))]),
                           critical=False)
            .add_extension(x509.BasicConstraints(ca=True, path_length=None), critical=True)
            .sign(key, hashes.SHA256()))
    cert_path, key_path = tmp_path / "smtp-cert.pem", tmp_path / "smtp-key.pem"
    cert_path.write_bytes(cert.public_bytes(serialization.Encoding.PEM))
    key_path.write_bytes(key.private_bytes(serialization.Encoding.PEM, serialization.PrivateFormat.PKCS8,
                                           serialization.NoEncryption()))
    return cert_path, key_path
