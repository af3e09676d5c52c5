"""The integrations this sidecar knows, by name: the one list the webhook route, the API, the widget and the
worker read. Ticket ids are per integration everywhere (`/api/tickets/<integration>/<id>/...`).

Each entry says how deliveries come in (`receiver`, an integrations.base.Receiver, or None when the helpdesk
sends no webhooks here) and how write-backs go out (`client`, config → an integrations.base.WriteBack, or None
when it is not configured; None as the factory itself: this integration never writes back).
"""
from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass

from integrations.base import Receiver, WriteBack
from integrations.zendesk import client as zendesk_client
from integrations.zendesk import webhook as zendesk_webhook


@dataclass(frozen=True)
class Integration:
    name: str
    title: str
    receiver: Receiver | None = None
    client: Callable[[dict], WriteBack | None] | None = None


ZENDESK = Integration("zendesk", "Zendesk", receiver=zendesk_webhook, client=zendesk_client.from_config)
# Tickets named through the API or the demo pages only: no webhook, nothing written back.
DEMO = Integration("demo", "Demo tickets")

INTEGRATIONS: dict[str, Integration] = {i.name: i for i in (ZENDESK, DEMO)}
NAMES = tuple(INTEGRATIONS)


def get(name: str) -> Integration | None:
    return INTEGRATIONS.get(name)


def writing_back() -> list[Integration]:
    """The integrations whose write-backs the worker carries out."""
    return [i for i in INTEGRATIONS.values() if i.client is not None]
