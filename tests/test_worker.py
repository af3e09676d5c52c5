"""The worker as the Procfile runs it: real `python -m jobs.worker` processes over one SQLite file, talking to
the real HTTP fake of Zendesk on 127.0.0.1."""
from __future__ import annotations

import os
import signal
import subprocess
import sys
import time
from collections import Counter
from pathlib import Path

from fake_zendesk import API_TOKEN, EMAIL

from store import outbox, write

ROOT = Path(__file__).resolve().parent.parent


def _env(config: dict, fake=None) -> dict:
    env = {k: v for k, v in os.environ.items() if not k.startswith("KS_")}  # ZENPY_FORCE_* come from the fixture
    env.update(KS_DATABASE=config["database"], KS_WORKER_POLL_SECONDS="0.2", PYTHONUNBUFFERED="1")
    if fake is not None:
        env.update(KS_ZENDESK_SUBDOMAIN=fake.subdomain, KS_ZENDESK_EMAIL=EMAIL, KS_ZENDESK_API_TOKEN=API_TOKEN)
    return env


class Worker:
    def __init__(self, env: dict, log: Path):
        self.log = log
        self.proc = subprocess.Popen([sys.executable, "-m", "jobs.worker"], cwd=ROOT, env=env,
                                     stdout=log.open("w"), stderr=subprocess.STDOUT)

    def output(self) -> str:
        return self.log.read_text()

    def stop(self) -> int:
        if self.proc.poll() is None:
            self.proc.send_signal(signal.SIGTERM)
        try:
            return self.proc.wait(15)
        except subprocess.TimeoutExpired:
            self.proc.kill()
            raise


def _until(predicate, what: str, timeout: float = 20.0) -> None:
    """Poll across processes with a deadline."""
    deadline = time.monotonic() + timeout
    while not predicate():
        if time.monotonic() > deadline:
            raise AssertionError(f"timed out waiting for {what}")
        time.sleep(0.05)


def test_two_worker_processes_perform_each_job_exactly_once(conn, config, fake_zendesk, tmp_path):
    fake_zendesk.latency_s = 0.02  # a Zendesk that takes a moment, so the two workers overlap
    for n in range(1, 51):
        fake_zendesk.add_ticket(n, f"Ticket {n}")
    env = _env(config, fake_zendesk)
    workers = [Worker(env, tmp_path / f"worker{i}.log") for i in (1, 2)]
    try:
        _until(lambda: all("worker started" in w.output() for w in workers), "both workers to start")
        with write(conn):
            for n in range(1, 51):
                outbox.enqueue(conn, "zendesk", str(n), "tags", {"add": ["ks_reused"]})
        _until(lambda: outbox.counts(conn) == {"done": 50}, "50 jobs done")
    finally:
        codes = [w.stop() for w in workers]
    assert codes == [0, 0]

    puts = Counter(c["path"] for c in fake_zendesk.calls("PUT"))
    assert puts == Counter({f"/api/v2/tickets/{n}/tags.json": 1 for n in range(1, 51)})
    assert len(fake_zendesk.requests) == 50
    assert all(fake_zendesk.tickets[n]["tags"] == ["ks_reused", "ks_suggested"] for n in range(1, 51))
    by_worker = Counter(r[0] for r in conn.execute("SELECT claimed_by FROM outbox"))
    assert len(by_worker) == 2, f"both workers should have taken jobs: {by_worker}"
    logs = [w.output() for w in workers]
    assert sum(log.count(": done (tags") for log in logs) == 50  # one line per job
    assert all("worker stopped" in log for log in logs)


def test_unconfigured_worker_keeps_jobs_waiting_and_stops_on_sigterm(conn, config, tmp_path):
    job_id = outbox.enqueue(conn, "zendesk", "7", "tags", {"add": ["ks_reused"]})
    worker = Worker(_env(config), tmp_path / "worker.log")
    try:
        _until(lambda: conn.execute("SELECT last_error FROM outbox WHERE id = ?", (job_id,)).fetchone()[0]
               == "zendesk not configured", "the job to be held")
    finally:
        code = worker.stop()
    assert code == 0
    row = conn.execute("SELECT state, attempts FROM outbox WHERE id = ?", (job_id,)).fetchone()
    assert row == ("pending", 0)
    out = worker.output()
    assert "zendesk not configured" in out and "SIGTERM: stopping" in out and "worker stopped" in out


def test_worker_refuses_bad_configuration(config):
    env = _env(config)
    env["KS_WORKER_POLL_SECONDS"] = "0"
    done = subprocess.run([sys.executable, "-m", "jobs.worker"], cwd=ROOT, env=env, capture_output=True,
                          text=True, timeout=30)
    assert done.returncode == 2
    assert done.stderr.strip().splitlines() == ["configuration error: worker.poll_seconds: must be positive, got 0.0"]
    assert not Path(config["database"]).exists()  # nothing was touched
