"""The worker: the one process that drains the outbox of write-backs to the helpdesk.

    python -m jobs.worker        (the Procfile `worker` line; the only place APScheduler runs)

Every worker.poll_seconds an interval job (max_instances=1, coalesce=True) calls drain(): claim the
oldest due job, perform it through the integration, then mark it done, retry it later (TransientError:
backoff from integrations.base.delay_for, Retry-After wins) or fail it (PermanentError, or attempts used
up). Several workers may run against one database: claims are conditional UPDATEs (store/outbox.py).

Zendesk not configured (zendesk.subdomain, email or api_token empty): nothing is claimed; waiting jobs
stay pending with last_error "zendesk not configured" and their attempts untouched, so they go out as
soon as a worker with credentials starts. Nothing fails and nothing is lost.

fetch_fields (the delivery carried no custom fields): fetch the ticket, store its fields, tags, form and
requester locale, and recompute the suggestion set (without queueing another write-back) when there is
no set yet, when the winning mapping rule differs from the one the latest set used, or when the locale
changed; otherwise the set stands and only the stored ticket is updated.
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
from integrations.base import PermanentError, Ticket, TransientError, WriteBack, delay_for
from kb import mapping
from store import connect, migrate, outbox
from tickets import intake

log = logging.getLogger("ks.worker")
BATCH = 100
NOTE_ARTICLES = 3


def note_body(articles: list[dict], taxonomy: list[str]) -> str:
    """The internal note: plain text (a Zendesk comment `body` is not HTML), agents only."""
    head = "Knowledge Sidecar suggests"
    if taxonomy:
        head += f" (issue: {' > '.join(taxonomy)})"
    lines = [head + ":"]
    for n, a in enumerate(articles[:NOTE_ARTICLES], start=1):
        line = f"{n}. {a['title']}"
        if a.get("snippet"):
            line += f" - {a['snippet']}"
        lines.append(line)
    lines.append("Open the Knowledge Sidecar app in this ticket's sidebar to reuse, link or flag an article.")
    return "\n".join(lines)


def link_body(payload: dict) -> str:
    """The internal note that links a reused article to the ticket (KCS: the link is the record of reuse)."""
    who = payload.get("agent") or "An agent"
    return (f"Knowledge Sidecar: {who} linked the article \"{payload.get('title', '')}\" "
            f"({payload.get('external_id', '')}) to this ticket as its resolution.")


def _note_content(conn: sqlite3.Connection, job: dict) -> tuple[list[dict], list[str]]:
    """The ticket's latest suggestion set when it has articles (fetch_fields may have refined it after the
    note was queued), else what was queued."""
    ticket = intake.load_ticket(conn, job["integration"], job["ticket_external_id"])
    latest = intake.latest_set(conn, ticket["id"]) if ticket else None
    if latest and latest.get("articles"):
        return latest["articles"], latest["taxonomy"]["path"]
    return job["payload"].get("articles") or [], job["payload"].get("taxonomy") or []


def refresh_ticket(conn: sqlite3.Connection, cfg: dict, client: WriteBack, integration: str,
                   ticket_id: str) -> bool:
    """fetch_fields: store the ticket as the helpdesk has it; True when the suggestion set was recomputed."""
    remote = client.fetch_ticket(ticket_id)
    stored = intake.load_ticket(conn, integration, ticket_id) or {}
    t = Ticket(integration, str(ticket_id), subject=remote["subject"] or stored.get("subject", ""),
               description=remote["description"] or stored.get("description", ""), tags=remote["tags"],
               fields=remote["fields"], form_id=remote["form_id"] or stored.get("form_id"),
               brand_id=remote["brand_id"] or stored.get("brand_id"),
               locale=remote["locale"] or stored.get("locale"), requester_id=remote["requester_id"])
    latest = intake.latest_set(conn, stored["id"]) if stored else None
    rule = mapping.match(conn, t.fields, t.tags, t.form_id)
    changed = (latest is None
               or latest["taxonomy"].get("rule_id") != (rule["id"] if rule else None)
               or (t.locale or None) != (stored.get("locale") or None))
    if changed:
        intake.handle(conn, cfg, t, write_back=False)
    else:
        intake.save_ticket(conn, t)
    return changed


def perform(conn: sqlite3.Connection, cfg: dict, client: WriteBack, job: dict) -> str:
    """Carry out one job; returns a few words for the log line. Raises the integration's typed errors."""
    kind, payload, ticket_id = job["kind"], job["payload"], job["ticket_external_id"]
    if kind == "note":
        articles, taxonomy = _note_content(conn, job)
        if not articles:
            return "nothing to note"
        client.add_internal_note(ticket_id, note_body(articles, taxonomy))
        return f"internal note with {min(len(articles), NOTE_ARTICLES)} article(s)"
    if kind == "link":
        client.add_internal_note(ticket_id, link_body(payload))
        return f"linked article {payload.get('external_id')!r}"
    if kind == "tags":
        client.add_tags(ticket_id, list(payload.get("add") or []))
        return f"tags {payload.get('add')}"
    if kind == "set_field":
        client.set_custom_field(ticket_id, payload["field_id"], payload["value"])
        return f"field {payload['field_id']} = {payload['value']!r}"
    if kind == "fetch_fields":
        again = refresh_ticket(conn, cfg, client, job["integration"], ticket_id)
        return "fields fetched, suggestions recomputed" if again else "fields fetched, suggestions unchanged"
    raise PermanentError(f"unknown outbox job kind {kind!r}")


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
            log.warning("%s not configured (%s.subdomain, email, api_token): write-back jobs wait", name, name)
    stop, busy = threading.Event(), threading.Lock()

    def tick() -> None:
        with busy:
            for name, client in clients.items():
                if not stop.is_set():
                    drain(conn, cfg, client, integration=name, stop=stop)

    scheduler = BlockingScheduler(timezone=UTC)
    scheduler.add_job(tick, "interval", seconds=cfg["worker"]["poll_seconds"], id="drain-outbox",
                      max_instances=1, coalesce=True, next_run_time=datetime.now(UTC))

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
