"""The outbox on a real SQLite file: claiming is exclusive across connections, due times, retries, holds."""
from __future__ import annotations

import threading
from collections import Counter

import pytest

from store import connect, outbox


def test_concurrent_claimers_take_each_job_exactly_once(conn, config):
    ids = {outbox.enqueue(conn, "zendesk", str(n), "tags", {"add": ["x"]}) for n in range(50)}
    taken: list[tuple[str, int]] = []
    lock = threading.Lock()
    start = threading.Barrier(4)

    def claimer(name: str) -> None:
        own = connect(config["database"]).conn  # each worker has its own connection
        start.wait()
        while (job := outbox.claim(own, 300, who=name)) is not None:
            with lock:
                taken.append((name, job["id"]))
            outbox.done(own, job["id"])
        own.close()

    threads = [threading.Thread(target=claimer, args=(f"w{i}",)) for i in range(4)]
    for t in threads:
        t.start()
    for t in threads:
        t.join(30)
    counts = Counter(job_id for _, job_id in taken)
    assert set(counts) == ids and set(counts.values()) == {1}
    assert outbox.counts(conn) == {"done": 50}
    recorded = dict(conn.execute("SELECT id, claimed_by FROM outbox").fetchall())
    assert all(recorded[job_id] == name for name, job_id in taken)


def test_claim_order_due_time_and_integration(conn):
    later = outbox.enqueue(conn, "zendesk", "1", "note", {}, delay_s=60)
    other = outbox.enqueue(conn, "freshdesk", "2", "tags", {"add": ["a"]})
    first = outbox.enqueue(conn, "zendesk", "3", "tags", {"add": ["a"]})
    job = outbox.claim(conn, 300, who="w", integration="zendesk")
    assert job["id"] == first and job["payload"] == {"add": ["a"]} and job["attempts"] == 1
    assert job["state"] == "running" and job["claimed_by"] == "w"
    assert outbox.claim(conn, 300, integration="zendesk") is None  # `later` is not due
    assert outbox.claim(conn, 300)["id"] == other
    assert conn.execute("SELECT state FROM outbox WHERE id = ?", (later,)).fetchone()[0] == "pending"


def test_stale_claim_is_taken_over(conn):
    job_id = outbox.enqueue(conn, "zendesk", "1", "tags", {"add": ["a"]})
    assert outbox.claim(conn, 300, who="dead")["id"] == job_id
    assert outbox.claim(conn, 300, who="alive") is None
    conn.execute("UPDATE outbox SET claimed_at = '2000-01-01T00:00:00Z' WHERE id = ?", (job_id,))
    job = outbox.claim(conn, 300, who="alive")
    assert (job["id"], job["claimed_by"], job["attempts"]) == (job_id, "alive", 2)


def test_retry_until_max_attempts_then_failed(conn):
    outbox.enqueue(conn, "zendesk", "1", "tags", {"add": ["a"]})
    job = outbox.claim(conn, 300)
    assert outbox.retry(conn, job, "503 busy", 0, max_attempts=2) == "pending"
    job = outbox.claim(conn, 300)
    assert job["attempts"] == 2
    assert outbox.retry(conn, job, "503 still busy", 0, max_attempts=2) == "failed"
    row = conn.execute("SELECT state, last_error, claimed_by FROM outbox").fetchone()
    assert row == ("failed", "503 still busy", None)
    assert outbox.claim(conn, 300) is None


def test_hold_marks_waiting_jobs_without_claiming(conn):
    outbox.enqueue(conn, "zendesk", "1", "tags", {"add": ["a"]})
    outbox.enqueue(conn, "freshdesk", "2", "tags", {"add": ["a"]})
    assert outbox.hold(conn, "zendesk", "zendesk not configured") == 1
    assert outbox.hold(conn, "zendesk", "zendesk not configured") == 0  # already said
    rows = conn.execute("SELECT integration, state, attempts, last_error FROM outbox ORDER BY id").fetchall()
    assert rows == [("zendesk", "pending", 0, "zendesk not configured"), ("freshdesk", "pending", 0, None)]


def test_unknown_kind_is_refused(conn):
    with pytest.raises(ValueError, match="unknown outbox kind"):
        outbox.enqueue(conn, "zendesk", "1", "close_ticket", {})
