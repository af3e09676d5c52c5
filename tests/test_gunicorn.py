"""Concurrency on the real server: gunicorn with two workers over one SQLite file."""
from __future__ import annotations

import contextlib
import json
import os
import subprocess
import sys
import time
import urllib.error
import urllib.request
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

import pytest
from conftest import ADMIN_TOKEN, TEST_SECRET, free_port, sign, ticket_event

ROOT = Path(__file__).resolve().parent.parent
pytestmark = pytest.mark.slow


def call(method: str, url: str, body: bytes | None = None, headers: dict | None = None):
    req = urllib.request.Request(url, data=body, method=method, headers=headers or {})
    try:
        with urllib.request.urlopen(req, timeout=30) as r:
            return r.status, json.loads(r.read() or b"null")
    except urllib.error.HTTPError as e:
        return e.code, json.loads(e.read() or b"null")


@contextlib.contextmanager
def serving(database: Path, log: Path):
    """The real gunicorn with two workers (and the project's gunicorn.conf.py) on `database`; yields its URL.
    Its stderr goes to `log`, read by the tests once it has stopped."""
    port = free_port()
    env = dict(os.environ, KS_DATABASE=str(database), KS_ADMIN_TOKEN=ADMIN_TOKEN,
               KS_ZENDESK_WEBHOOK_SECRET=TEST_SECRET)
    with log.open("w") as err:
        proc = subprocess.Popen([sys.executable, "-m", "gunicorn", "-w", "2", "-b", f"127.0.0.1:{port}",
                                 "app:create_app()"], cwd=ROOT, env=env, stdout=subprocess.DEVNULL, stderr=err)
    url = f"http://127.0.0.1:{port}"
    try:
        deadline = time.monotonic() + 30
        while True:
            try:
                if call("GET", url + "/healthz")[0] == 200:
                    break
            except OSError:
                pass
            if proc.poll() is not None or time.monotonic() > deadline:
                pytest.fail("gunicorn did not start: " + log.read_text()[-2000:])
            time.sleep(0.1)
        yield url, proc
    finally:
        proc.terminate()
        try:
            proc.wait(15)
        except subprocess.TimeoutExpired:
            proc.kill()


@pytest.fixture
def gunicorn(tmp_path):
    with serving(tmp_path / "g.db", tmp_path / "gunicorn.log") as (url, _):
        yield url, tmp_path / "g.db"


def test_parallel_deliveries_and_redeliveries_are_each_handled_once(gunicorn):
    url, path = gunicorn
    auth = {"Authorization": f"Bearer {ADMIN_TOKEN}", "Content-Type": "application/json"}
    arts = [{"external_id": f"a{i}", "title": f"Printer error {i}", "body": f"Error code E{i}: restart the spooler.",
             "language": "en", "taxonomy": ["hardware", "printers"]} for i in range(50)]
    assert call("POST", url + "/api/articles/import", json.dumps({"articles": arts}).encode(), auth)[0] == 200
    deliveries = []
    for i in range(40):
        raw = ticket_event(str(1000 + i), f"Printer shows error E{i}", "It stopped printing")
        headers = sign(raw, invocation=f"inv-{i}")
        deliveries += [(raw, headers), (raw, headers)]  # every delivery is sent twice (Zendesk retries)
    with ThreadPoolExecutor(max_workers=8) as pool:
        results = list(pool.map(lambda d: call("POST", url + "/webhooks/zendesk", d[0], d[1]), deliveries))
    statuses = [s for s, _ in results]
    assert all(s in (200, 202) for s in statuses), statuses
    assert statuses.count(202) == 40
    import sqlite3

    conn = sqlite3.connect(path)
    assert conn.execute("SELECT COUNT(*) FROM webhook_deliveries").fetchone()[0] == 40
    assert conn.execute("SELECT COUNT(*) FROM suggestion_sets").fetchone()[0] == 40
    assert conn.execute("SELECT COUNT(DISTINCT ticket_id) FROM suggestion_sets").fetchone()[0] == 40
    status, sug = call("GET", url + "/api/tickets/zendesk/1007/suggestions", headers=auth)
    assert status == 200 and sug["articles"][0]["external_id"] == "a7"


def test_import_on_one_worker_is_searchable_from_the_other(gunicorn):
    url, _ = gunicorn
    auth = {"Authorization": f"Bearer {ADMIN_TOKEN}", "Content-Type": "application/json"}
    for i in range(6):
        art = {"external_id": f"vpn-{i}", "title": f"VPN client version {i} disconnects",
               "body": "Reinstall the VPN client and clear its profile cache.", "language": "en"}
        assert call("POST", url + "/api/articles/import", json.dumps({"articles": [art]}).encode(), auth)[0] == 200
        # Several queries, so both workers answer at least once after each import.
        for _ in range(4):
            status, body = call("POST", url + "/api/suggest",
                                json.dumps({"subject": f"vpn client version {i} disconnects"}).encode(), auth)
            assert status == 200
            assert f"vpn-{i}" in [a["external_id"] for a in body["articles"]]


def test_index_is_built_once_in_the_master_and_shared_by_the_workers(tmp_path):
    from kb.articles import import_articles
    from store import connect, migrate

    db = connect(tmp_path / "warm.db")
    migrate(db)
    import_articles(db.conn, [{"external_id": f"w{i}", "title": f"Router model {i} keeps rebooting",
                               "body": f"Update the firmware of router {i}, then reset it.", "language": "en"}
                              for i in range(300)], "en")
    db.conn.close()
    auth = {"Authorization": f"Bearer {ADMIN_TOKEN}", "Content-Type": "application/json"}
    log = tmp_path / "gunicorn.log"
    with serving(tmp_path / "warm.db", log) as (url, proc):
        for i in range(8):  # enough requests for both workers to answer
            status, body = call("POST", url + "/api/suggest",
                                json.dumps({"subject": f"router model {i} keeps rebooting"}).encode(), auth)
            assert status == 200 and body["articles"][0]["external_id"] == f"w{i}"
    loads = [line for line in log.read_text().splitlines() if "search index: full load" in line]
    assert len(loads) == 1, log.read_text()[-3000:]
    assert "full load of 300 articles" in loads[0] and f"(pid {proc.pid})" in loads[0]


def test_a_restarted_server_starts_from_the_index_snapshot(tmp_path):
    from kb.articles import import_articles
    from store import connect, migrate

    db = connect(tmp_path / "snap.db")
    migrate(db)
    import_articles(db.conn, [{"external_id": f"s{i}", "title": f"Switch port {i} is down",
                               "body": f"Reseat the cable in port {i}.", "language": "en"} for i in range(200)], "en")
    db.conn.close()
    auth = {"Authorization": f"Bearer {ADMIN_TOKEN}", "Content-Type": "application/json"}
    first, second = tmp_path / "first.log", tmp_path / "second.log"
    with serving(tmp_path / "snap.db", first):
        pass
    assert "full load of 200 articles" in first.read_text() and (tmp_path / "snap.db.index").exists()
    with serving(tmp_path / "snap.db", second) as (url, proc):
        for i in range(6):
            status, body = call("POST", url + "/api/suggest",
                                json.dumps({"subject": f"switch port {i} is down"}).encode(), auth)
            assert status == 200 and body["articles"][0]["external_id"] == f"s{i}"
    text = second.read_text()
    assert "snapshot at log position" in text and "loaded from" in text, text[-3000:]
    assert "full load" not in text, text[-3000:]
