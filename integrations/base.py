"""The integration contract: the Ticket every helpdesk's webhook is read into, what a webhook receiver and a
write-back client implement, their typed errors, and the one retry policy.

An integration raises only two kinds of error from its write-back calls:
- TransientError: try again later (rate limited, helpdesk down, conflict, network); carries the
  helpdesk's Retry-After in seconds when it gave one;
- PermanentError: trying again cannot help (ticket gone, request rejected, credentials refused).
The worker (jobs/worker.py) owns the retry loop: it asks `delay_for` how long to wait and stores the
job back in the outbox; integrations never sleep.
"""
from __future__ import annotations

import random
from collections.abc import Callable, Mapping
from dataclasses import asdict, dataclass, field
from typing import Protocol, runtime_checkable

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
