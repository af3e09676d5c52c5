"""Delivering a notice, carried out by the worker for outbox jobs of integration "notify", kind "notice"
(queued by kb.notices.tell with payload {"notice_id", "channel": "email"|"webhook"}).

The notice's `delivery` records only what happened, so the product never claims an e-mail that was not sent:
emailed or webhook_sent once the server took it; failed when it never will be (the server refused it for good, the
person no longer has an e-mail address, the channel is no longer configured, or the retries were used up); until
then it stays email_queued / webhook_queued while the worker retries.

The person's address is read at send time, not when the notice was queued: an admin may have changed or removed it.
"""
from __future__ import annotations

import sqlite3

from integrations.base import PermanentError
from kb import notices, people
from notify.client import Notifier

SENT = {"email": "emailed", "webhook": "webhook_sent"}


def _send(conn: sqlite3.Connection, client: Notifier, notice: dict, how: str) -> str:
    person = people.get(conn, notice["recipient"]) or {}
    if how == "email":
        if not client.can_email:
            raise PermanentError(f"notice {notice['id']}: notify.smtp_host is no longer set; it cannot be e-mailed")
        address = person.get("email") or ""
        if not address:
            raise PermanentError(f"notice {notice['id']}: {notice['recipient']!r} has no e-mail address any more")
        client.email(notice, address, person.get("display_name") or "")
        return f"e-mailed to {address}"
    if how == "webhook":
        if not client.can_post:
            raise PermanentError(f"notice {notice['id']}: notify.webhook_url is no longer set")
        client.post(notice, person)
        return "posted to the webhook"
    raise PermanentError(f"notice {notice['id']}: unknown channel {how!r}")


def deliver(conn: sqlite3.Connection, cfg: dict, client: Notifier, job: dict) -> str:
    payload = job["payload"]
    notice = notices.get(conn, int(payload["notice_id"]))
    if notice is None:
        raise PermanentError(f"notice {payload['notice_id']} no longer exists")
    how = payload.get("channel")
    if notice["delivery"] == SENT.get(how):
        return f"notice {notice['id']} already {notice['delivery']}"   # a claim that timed out after sending
    try:
        what = _send(conn, client, notice, how)
    except PermanentError:
        notices.delivered(conn, notice["id"], "failed")
        raise
    except Exception:
        if job["attempts"] >= cfg["worker"]["max_attempts"]:   # the worker fails the job now: say so on the notice
            notices.delivered(conn, notice["id"], "failed")
        raise
    notices.delivered(conn, notice["id"], SENT[how])
    return f"notice {notice['id']} {what}"


HANDLERS = {"notice": deliver}
