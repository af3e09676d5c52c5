"""The integration contract: the Ticket every helpdesk's webhook is read into, what a webhook receiver and a
write-back client implement, their typed errors, and the one retry policy.

An integration raises only two kinds of error from its write-back calls:
- TransientError: try again later (rate limited, helpdesk down, conflict, network); carries the
  helpdesk's Retry-After in seconds when it gave one;
- PermanentError: trying again cannot help (ticket gone, request rejected, credentials refused).
The worker (jobs/worker.py) owns the retry loop: it asks `delay_for` how long to wait and stores the
job back in the outbox; integrations never sleep. REST clients share `JsonApi` and `error_for_status` (below), so
every helpdesk's 429 / Retry-After, 5xx and refused credentials mean the same thing to that loop.
"""
from __future__ import annotations

import email.utils
import random
from collections.abc import Callable, Mapping
from dataclasses import asdict, dataclass, field
from datetime import UTC, datetime
from html.parser import HTMLParser
from typing import Protocol, runtime_checkable

import requests

MAX_DELAY_S = 3600.0
JITTER = 0.2


@dataclass
class Ticket:
    """The one ticket every integration normalises a delivery to."""
    integration: str
    external_id: str
    subject: str = ""
    description: str = ""
    tags: list[str] = field(default_factory=list)
    fields: dict[str, object] = field(default_factory=dict)
    form_id: str | None = None
    brand_id: str | None = None
    locale: str | None = None
    requester_id: str | None = None
    needs_fields: bool = False   # the delivery did not carry custom fields: fetch them later
    source_updated_at: str | None = None   # the helpdesk's own time of this text (UTC, ISO 8601 with Z)
    status: str | None = None              # new, open, pending, hold, solved, closed (lower case)
    group_id: str | None = None
    assignee_id: str | None = None
    source_created_at: str | None = None   # when the helpdesk created the ticket

    def as_dict(self) -> dict:
        return asdict(self)


CHANGE_KINDS = ("created", "status", "group", "assignee", "public_reply", "private_note", "tags", "field", "other")


@dataclass
class Change:
    """One thing that happened to a ticket in the helpdesk, as its event says.

    kind: created, status (previous/current: new, open, pending, hold, solved, closed), group and assignee
    (previous/current: ids, None when unassigned), public_reply and private_note (actor: the author's id), tags
    (the ticket's tags are in the delivery's ticket), field (field_id and value), other.
    event_id is the helpdesk's own id of the event (the same on every redelivery); at is when it happened there."""
    kind: str
    event_id: str
    at: str
    previous: str | None = None
    current: str | None = None
    actor: str | None = None
    field_id: str | None = None
    value: object = None


@dataclass
class Delivery:
    """One webhook delivery as read by its integration: the ticket it carries, whether it announces a new
    ticket (`creation`) or a later change of one (`event` names which), and that change."""
    ticket: Ticket
    creation: bool
    event: str = ""
    change: Change | None = None


class SignatureError(Exception):
    """The delivery is not provably from the helpdesk (401)."""


class PayloadError(ValueError):
    """The body is not a ticket payload the integration understands (400)."""


class Receiver(Protocol):
    """Webhooks in from one helpdesk (a module such as integrations.zendesk.webhook serves as one)."""

    def check(self, headers: Mapping[str, str], raw: bytes, cfg: dict) -> None:
        """Raise SignatureError unless the delivery is signed by the helpdesk and fresh."""

    def read(self, payload) -> Delivery:
        """The delivery's ticket and kind from the decoded JSON body; PayloadError when it is not one."""

    def delivery_id(self, headers: Mapping[str, str], raw: bytes) -> str:
        """The helpdesk's id of this delivery, the same on every redelivery (the dedupe key)."""

    def signed_at(self, headers: Mapping[str, str]) -> str:
        """The delivery's signature time as the helpdesk sent it (kept with the raw delivery)."""


class IntegrationError(Exception):
    """A write-back call to the helpdesk did not succeed. `status` is the helpdesk's HTTP status when it answered
    (None for a network failure)."""

    status: int | None = None


class PermanentError(IntegrationError):
    """The helpdesk refused the request for good (4xx): the job fails without retrying."""


class TransientError(IntegrationError):
    """The helpdesk could not take the request now (429, 5xx, 409, network): retry later."""

    def __init__(self, message: str, retry_after: float | None = None, status: int | None = None):
        super().__init__(message)
        self.retry_after, self.status = retry_after, status


def delay_for(attempt: int, base: float, retry_after: float | None = None, cap: float = MAX_DELAY_S,
              rand: Callable[[], float] = random.random) -> float:
    """Seconds to wait before attempt `attempt + 1`, after `attempt` failed attempts (1-based).

    Exponential backoff base * 2**(attempt-1), capped at `cap`, with jitter bounded to +-20% so
    workers retrying together spread out. The helpdesk's Retry-After wins when it is larger.
    """
    exponent = max(attempt, 1) - 1
    backoff = min(cap, base * (2 ** min(exponent, 32)))
    backoff *= 1 + JITTER * (2 * rand() - 1)
    if retry_after is not None and retry_after > backoff:
        return float(retry_after)
    return max(0.0, backoff)


@runtime_checkable
class WriteBack(Protocol):
    """Write-back to one helpdesk. Ticket ids are the helpdesk's ids (as text or number)."""

    integration: str

    def add_internal_note(self, ticket_id: str, body: str) -> None:
        """Add a private comment (visible to agents only)."""

    def add_tags(self, ticket_id: str, tags: list[str]) -> None:
        """Add tags to the ticket, keeping the tags it has."""

    def set_custom_field(self, ticket_id: str, field_id: str | int, value) -> None:
        """Set one custom ticket field."""

    def fetch_ticket(self, ticket_id: str) -> dict:
        """The ticket as the helpdesk has it now:
        {"id", "subject", "description", "tags": [...], "fields": {str(field id): value},
         "form_id": str | None, "brand_id": str | None, "requester_id": str | None, "locale": str | None}."""


# -- Shared by the REST write-back clients (integrations/zammad, integrations/freshdesk): one way to call a JSON API
# and one mapping of its answers to the typed errors above, so every helpdesk feeds the worker's one retry loop.

CREDENTIALS_RETRY_S = 900.0     # refused credentials (401/403): an admin can fix them, so the job waits, rarely retried


def retry_after_seconds(value: str | None) -> float | None:
    """Retry-After as seconds: delta-seconds or an HTTP date (RFC 9110, 10.2.3); None when absent or unreadable."""
    if value is None or not str(value).strip():
        return None
    text = str(value).strip()
    try:
        return max(0.0, float(text))
    except ValueError:
        pass
    try:
        when = email.utils.parsedate_to_datetime(text)
    except (TypeError, ValueError):
        return None
    if when.tzinfo is None:
        when = when.replace(tzinfo=UTC)
    return max(0.0, (when - datetime.now(UTC)).total_seconds())


def error_for_status(status: int, message: str, retry_after: str | None = None,
                     credentials_hint: str = "") -> IntegrationError:
    """The typed error for a helpdesk's non-2xx answer: 409, 429 and 5xx are transient (Retry-After kept); 401 and
    403 too, retried every CREDENTIALS_RETRY_S so nothing is lost while an admin fixes the credentials; any other
    4xx is permanent."""
    if status in (409, 429) or status >= 500:
        return TransientError(message, retry_after_seconds(retry_after))
    if status in (401, 403):
        hint = f" (check {credentials_hint})" if credentials_hint else ""
        return TransientError(message + hint, CREDENTIALS_RETRY_S)
    return PermanentError(message)


class JsonApi:
    """One helpdesk's JSON REST API behind a base URL (https://<account host>, or a fake on loopback in tests).

    `call` answers the decoded JSON body (None for an empty one) or raises TransientError / PermanentError; it never
    sleeps and never retries: the worker does (jobs/worker.py)."""

    def __init__(self, name: str, base_url: str, auth=None, headers: Mapping[str, str] | None = None,
                 credentials_hint: str = "", timeout: float = 30.0):
        self.name, self.base_url, self.timeout = name, base_url.rstrip("/"), timeout
        self.credentials_hint = credentials_hint
        self.session = requests.Session()
        self.session.auth = auth
        self.session.headers.update({"Accept": "application/json", **(headers or {})})

    def call(self, method: str, path: str, json=None, params: Mapping | None = None):
        try:
            resp = self.session.request(method, self.base_url + path, json=json, params=params, timeout=self.timeout)
        except (requests.Timeout, requests.ConnectionError) as exc:
            raise TransientError(f"{self.name} unreachable: {exc.__class__.__name__}: {exc}") from None
        except requests.RequestException as exc:
            raise TransientError(f"{self.name} request failed: {exc}") from None
        if resp.status_code >= 400:
            body = resp.content[:300].decode("utf-8", "replace").strip()
            raise error_for_status(resp.status_code, f"{method} {path} -> {resp.status_code} {body}".strip(),
                                   resp.headers.get("Retry-After"), self.credentials_hint)
        if not resp.content.strip():
            return None
        try:
            return resp.json()
        except ValueError:
            raise TransientError(f"{self.name} answered {method} {path} with something that is not JSON") from None


class _Text(HTMLParser):
    BREAKS = {"br", "p", "div", "li", "tr", "h1", "h2", "h3", "h4", "h5", "h6", "blockquote"}

    def __init__(self):
        super().__init__(convert_charrefs=True)
        self.parts: list[str] = []

    def handle_starttag(self, tag, attrs):
        if tag in self.BREAKS:
            self.parts.append("\n")

    def handle_endtag(self, tag):
        if tag in self.BREAKS:
            self.parts.append("\n")

    def handle_data(self, data):
        self.parts.append(data)


def html_to_text(html: str) -> str:
    """Plain text of a helpdesk's HTML (Zammad article bodies, Freshdesk descriptions): tags dropped, entities
    decoded, each block or <br> a line, blank lines and runs of spaces dropped. Ranking reads words, not markup."""
    parser = _Text()
    parser.feed(html or "")
    parser.close()
    lines = (" ".join(line.split()) for line in "".join(parser.parts).splitlines())
    return "\n".join(line for line in lines if line)
