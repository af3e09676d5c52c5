"""The Notifier: what the worker drains outbox jobs of integration "notify" with (jobs/notices.py uses it).

It only knows how to send (e-mail over SMTP, or a signed webhook); which notice goes where, and recording the
outcome on the notice, is the job handler's. Built from config by from_config: None when neither notify.smtp_host
nor notify.webhook_url is set, so the worker holds such jobs (as for a helpdesk without credentials) instead of
failing them.
"""
from __future__ import annotations

from notify import email as mail
from notify import webhook
from store import now

INTEGRATION = "notify"
NOTICES_PATH = "/notices"


class Notifier:
    integration = INTEGRATION

    def __init__(self, nc: dict, public_url: str = ""):
        self.nc = nc
        self.public_url = (public_url or "").rstrip("/")

    @property
    def can_email(self) -> bool:
        return bool(self.nc.get("smtp_host"))

    @property
    def can_post(self) -> bool:
        return bool(self.nc.get("webhook_url"))

    def link(self) -> str:
        """Where the person reads their notices in the sidecar."""
        return self.public_url + NOTICES_PATH if self.public_url else ""

    def email(self, notice: dict, to: str, display_name: str = "") -> None:
        """E-mail one notice (a kb.notices row) to the address `to`."""
        msg = mail.message(self.nc["from_address"], to, notice["title"], notice.get("body") or "", self.link(),
                           display_name, notice.get("id"))
        mail.send(self.nc, msg)

    def post(self, notice: dict, person: dict | None = None) -> None:
        """Post one notice to the webhook: the notice as kept, who it is for, and the link to read it."""
        person = person or {}
        payload = {"event": "notice", "id": notice["id"], "kind": notice["kind"], "recipient": notice["recipient"],
                   "recipient_name": person.get("display_name") or "", "recipient_email": person.get("email") or "",
                   "title": notice["title"], "body": notice.get("body") or "", "article_id": notice.get("article_id"),
                   "flag_id": notice.get("flag_id"), "data": notice.get("data") or {},
                   "created_at": notice.get("created_at"), "url": self.link(), "sent_at": now()}
        webhook.post(self.nc, payload)


def from_config(cfg: dict) -> Notifier | None:
    nc = cfg["notify"]
    if not (nc.get("smtp_host") or nc.get("webhook_url")):
        return None
    return Notifier(nc, cfg.get("server", {}).get("public_url", ""))
