"""The one Ticket every integration normalises to."""
from __future__ import annotations

from dataclasses import asdict, dataclass, field


@dataclass
class Ticket:
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

    def as_dict(self) -> dict:
        return asdict(self)
