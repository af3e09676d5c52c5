"""The integrations this sidecar knows, by name: the one list the webhook route, the API, the widget and the
worker read. Ticket ids are per integration everywhere (`/api/tickets/<integration>/<id>/...`).

Each entry says how deliveries come in (`receiver`, an integrations.base.Receiver, or None when the helpdesk
sends no webhooks here) and how write-backs go out (`client`, config → an integrations.base.WriteBack, or None
when it is not configured; None as the factory itself: this integration never writes back). `section` names its
config section, which holds its write-back settings (write_back, loop_guard_tag, the taxonomy field) and its
webhook secret: `write_back_settings` is the one reader of those, so intake, deliveries and events treat every
helpdesk alike.

Generic JSON webhook sources (integrations/generic) are entries too, one per source in generic.sources_file:
settings.load hands the checked sources to `use_generic_sources`, which replaces the previous set (a process
serves one configuration). They post to /webhooks/generic/<name> and never write back.
"""
from __future__ import annotations

from collections.abc import Callable, Mapping
from dataclasses import dataclass

from integrations.base import Receiver, WriteBack
from integrations.freshdesk import client as freshdesk_client
from integrations.freshdesk import webhook as freshdesk_webhook
from integrations.generic.config import GenericSource
from integrations.generic.webhook import GenericReceiver
from integrations.zammad import client as zammad_client
from integrations.zammad import webhook as zammad_webhook
from integrations.zendesk import client as zendesk_client
from integrations.zendesk import webhook as zendesk_webhook

DEFAULT_LOOP_GUARD_TAG = "ks_suggested"


@dataclass(frozen=True)
class Integration:
    name: str
    title: str
    receiver: Receiver | None = None
    client: Callable[[dict], WriteBack | None] | None = None
    section: str | None = None        # its config section (write-back settings, webhook_secret)
    generic: bool = False             # a generic JSON webhook source: POST /webhooks/generic/<name>

    @property
    def webhook_path(self) -> str:
        if self.receiver is None:
            return ""
        return f"/webhooks/generic/{self.name}" if self.generic else f"/webhooks/{self.name}"


@dataclass(frozen=True)
class WriteBackSettings:
    """What goes back to one helpdesk: `mode` note_and_tags | note | tags | off; the loop-guard tag its write-backs
    add; the field that receives the taxonomy path (None: not written; its id or name as configured)."""
    mode: str = "off"
    loop_guard_tag: str = DEFAULT_LOOP_GUARD_TAG
    taxonomy_field: str | int | None = None


ZENDESK = Integration("zendesk", "Zendesk", receiver=zendesk_webhook, client=zendesk_client.from_config,
                      section="zendesk")
ZAMMAD = Integration("zammad", "Zammad", receiver=zammad_webhook, client=zammad_client.from_config, section="zammad")
FRESHDESK = Integration("freshdesk", "Freshdesk", receiver=freshdesk_webhook, client=freshdesk_client.from_config,
                        section="freshdesk")
# Tickets named through the API or the demo pages only: no webhook, nothing written back.
DEMO = Integration("demo", "Demo tickets")
BUILT_IN = (ZENDESK, ZAMMAD, FRESHDESK, DEMO)

INTEGRATIONS: dict[str, Integration] = {i.name: i for i in BUILT_IN}
NAMES = tuple(INTEGRATIONS)


def use_generic_sources(sources: Mapping[str, GenericSource]) -> None:
    """Make the configured generic sources the registry's generic entries (replacing any earlier ones)."""
    global NAMES
    for name in [n for n, i in INTEGRATIONS.items() if i.generic]:
        del INTEGRATIONS[name]
    for name, source in sources.items():
        if name in INTEGRATIONS:
            raise ValueError(f"generic source {name!r} is named like a built-in integration")
        INTEGRATIONS[name] = Integration(name, source.title, receiver=GenericReceiver(source), generic=True)
    NAMES = tuple(INTEGRATIONS)


def get(name: str) -> Integration | None:
    return INTEGRATIONS.get(name)


def writing_back() -> list[Integration]:
    """The integrations whose write-backs the worker carries out."""
    return [i for i in INTEGRATIONS.values() if i.client is not None]


def write_back_settings(cfg: dict, name: str) -> WriteBackSettings:
    """The write-back settings of the integration `name` from its config section; an integration that never
    writes back (no client: demo, generic sources, an unknown name) gets mode off, so no job waits for nobody."""
    source = get(name)
    if source is None or source.client is None or not source.section:
        return WriteBackSettings()
    section = cfg[source.section]
    field = section.get("taxonomy_field_id", section.get("taxonomy_field"))
    return WriteBackSettings(section["write_back"], section["loop_guard_tag"], field or None)


def webhook_configured(cfg: dict, name: str) -> bool:
    """Whether deliveries to the integration can be accepted at all (its secret is set; a generic source's
    secret is checked when the configuration is loaded)."""
    source = get(name)
    if source is None or source.receiver is None:
        return False
    return source.generic or bool(cfg[source.section].get("webhook_secret"))
