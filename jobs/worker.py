"""The worker: the one process that drains the outbox of write-backs to the helpdesk.

    python -m jobs.worker        (the Procfile `worker` line; the only place APScheduler runs)

Every worker.poll_seconds an interval job (max_instances=1, coalesce=True) calls drain(): claim the
oldest due job, perform it through the integration, then mark it done, retry it later (TransientError:
backoff from integrations.base.delay_for, Retry-After wins) or fail it (PermanentError, or attempts used
up). Several workers may run against one database: claims are conditional UPDATEs (store/outbox.py).

Zendesk not configured (zendesk.subdomain, email or api_token empty): nothing is claimed; waiting jobs
stay pending with last_error "zendesk not configured" and their attempts untouched, so they go out as
soon as a worker with credentials starts. Nothing fails and nothing is lost.

What each job kind does is its handler's (HANDLERS): ticket write-backs in jobs/write_back.py, notices in
jobs/notices.py. Notices go out as integration "notify" through notify.client.Notifier (e-mail or webhook); it
is drained beside the helpdesks, and its jobs are held the same way while notify is not configured.
"""
from __future__ import annotations

import logging
import signal
import sqlite3
import sys
import threading
from datetime import UTC, datetime

import settings
from integrations import registry
from integrations.base import PermanentError, TransientError, WriteBack, delay_for
from jobs import notices, write_back
from kb import audits
from notify import client as notify_client
from store import connect, migrate, outbox
from sync import help_center, macros

log = logging.getLogger("ks.worker")
BATCH = 100
# Outbox job kind -> handler(conn, cfg, client, job); the one registry of what the worker can carry out.
HANDLERS = {**write_back.HANDLERS, **help_center.HANDLERS, **macros.HANDLERS, **notices.HANDLERS}


def perform(conn: sqlite3.Connection, cfg: dict, client: WriteBack, job: dict) -> str:
    """Carry out one job; returns a few words for the log line. Raises the integration's typed errors."""
    handler = HANDLERS.get(job["kind"])
    if handler is None:
        raise PermanentError(f"unknown outbox job kind {job['kind']!r}")
    return handler(conn, cfg, client, job)


def run_job(conn: sqlite3.Connection, cfg: dict, client: WriteBack, job: dict) -> str:
    """Perform a claimed job and record the outcome: 'done', 'retry' or 'failed'. Job errors never escape."""
    wc = cfg["worker"]
    where = f"job {job['id']} {job['kind']} {job['integration']}:{job['ticket_external_id']} " \
            f"attempt {job['attempts']}"
    try:
        what = perform(conn, cfg, client, job)
    except PermanentError as exc:
        outbox.fail(conn, job["id"], str(exc))
        log.warning("%s: failed (permanent): %s", where, exc)
        return "failed"
    except Exception as exc:  # TransientError, or a bug / bad data: retried with backoff, bounded by max_attempts
        retry_after = exc.retry_after if isinstance(exc, TransientError) else None
        delay = delay_for(job["attempts"], wc["backoff_base_s"], retry_after)
        error = str(exc) if isinstance(exc, TransientError) else f"{exc.__class__.__name__}: {exc}"
        state = outbox.retry(conn, job, error, delay, wc["max_attempts"])
        if not isinstance(exc, TransientError):
            log.exception("%s: unexpected error", where)
        if state == "failed":
            log.warning("%s: failed after %d attempts: %s", where, job["attempts"], error)
            return "failed"
        log.info("%s: retry in %.0fs: %s", where, delay, error)
        return "retry"
    outbox.done(conn, job["id"])
    log.info("%s: done (%s)", where, what)
    return "done"


def drain(conn: sqlite3.Connection, cfg: dict, client: WriteBack | None, max_jobs: int = BATCH,
          integration: str = registry.ZENDESK.name, stop: threading.Event | None = None,
          who: str | None = None) -> dict:
    """Perform due jobs one by one until none is due, max_jobs were taken, or stop is set.
    Returns how many ended done / retry / failed, and how many wait because the client is missing."""
    result = {"done": 0, "retry": 0, "failed": 0, "held": 0}
    if client is None:
        result["held"] = outbox.hold(conn, integration, f"{integration} not configured")
        return result
    for _ in range(max_jobs):
        if stop is not None and stop.is_set():
            break
        job = outbox.claim(conn, cfg["worker"]["claim_timeout_s"], who, integration=client.integration)
        if job is None:
            break
        result[run_job(conn, cfg, client, job)] += 1
    return result


def schedule_audit(scheduler, conn: sqlite3.Connection, cfg: dict, busy: threading.Lock,
                   stop: threading.Event) -> bool:
    """Add the knowledge audit (kb.audits) to the scheduler every audit.interval_hours (0: not scheduled; then only
    `flask --app app audit` runs it). It takes the drain's `busy` lock, so the two never run at once on the one
    connection; the first run is an interval after the last one kept, so a restart neither skips nor repeats it."""
    hours = cfg["audit"]["interval_hours"]
    if not hours:
        return False

    def audit() -> None:
        with busy:
            if stop.is_set():
                return
            try:
                done = audits.run(conn, cfg, "schedule")
            except Exception:
                log.exception("knowledge audit failed")
                return
            log.info("knowledge audit %s: %d findings, %d digests", done["id"], done["summary"]["total"],
                     len(done["summary"]["digests"]))

    scheduler.add_job(audit, "interval", hours=hours, id="knowledge-audit", max_instances=1, coalesce=True,
                      next_run_time=audits.next_due(conn, hours))
    return True


def main() -> int:
    logging.basicConfig(level=logging.INFO, stream=sys.stdout,
                        format="%(asctime)s worker[%(process)d] %(levelname)s %(message)s")
    logging.getLogger("apscheduler").setLevel(logging.ERROR)
    try:
        cfg = settings.load()
    except settings.ConfigError as exc:
        print(f"configuration error: {exc}", file=sys.stderr)
        return 2
    from apscheduler.schedulers.blocking import BlockingScheduler

    db = connect(cfg["database"])
    migrate(db)
    conn = db.conn
    clients = {i.name: i.client(cfg) for i in registry.writing_back()}
    for name, client in clients.items():
        if client is None:
            log.warning("%s not configured (its API settings in the %s section): write-back jobs wait", name, name)
    clients[notify_client.INTEGRATION] = notify_client.from_config(cfg)
    if clients[notify_client.INTEGRATION] is None:
        log.info("notify not configured (notify.smtp_host, webhook_url): notices are kept in the sidecar only")
    stop, busy = threading.Event(), threading.Lock()

    def tick() -> None:
        with busy:
            for name, client in clients.items():
                if not stop.is_set():
                    drain(conn, cfg, client, integration=name, stop=stop)

    scheduler = BlockingScheduler(timezone=UTC)
    scheduler.add_job(tick, "interval", seconds=cfg["worker"]["poll_seconds"], id="drain-outbox",
                      max_instances=1, coalesce=True, next_run_time=datetime.now(UTC))
    schedule_audit(scheduler, conn, cfg, busy, stop)

    def on_signal(signum, _frame) -> None:
        log.info("%s: stopping after the current job", signal.Signals(signum).name)
        stop.set()
        scheduler.shutdown(wait=False)

    signal.signal(signal.SIGTERM, on_signal)
    signal.signal(signal.SIGINT, on_signal)
    log.info("worker started: database %s, polling every %ss", cfg["database"], cfg["worker"]["poll_seconds"])
    scheduler.start()
    with busy:  # the job in flight, if any, has finished and been recorded
        conn.close()
    log.info("worker stopped")
    return 0


if __name__ == "__main__":
    sys.exit(main())
