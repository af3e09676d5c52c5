"""Time as the store keeps it: UTC, ISO 8601 to the second, with a Z ("2026-12-02T13:05:09Z").

Stamps in this one form sort and compare as text, so SQL can order and filter by them; every module
that writes or compares a time uses these helpers, never a format string of its own.
"""
from __future__ import annotations

from datetime import UTC, datetime, timedelta

FORMAT = "%Y-%m-%dT%H:%M:%SZ"


def stamp(moment: datetime) -> str:
    """A datetime as a stored stamp (a naive datetime is taken as UTC)."""
    if moment.tzinfo is None:
        moment = moment.replace(tzinfo=UTC)
    return moment.astimezone(UTC).strftime(FORMAT)


def now() -> str:
    """The stamp of this moment."""
    return stamp(datetime.now(UTC))


def after(seconds: float) -> str:
    """The stamp `seconds` from now (negative: in the past)."""
    return stamp(datetime.now(UTC) + timedelta(seconds=seconds))


def parse(value) -> str | None:
    """An ISO 8601 time from outside (a helpdesk's updated_at, with any offset or a Z) as a stored stamp;
    None when absent or unreadable."""
    if not isinstance(value, str) or not value.strip():
        return None
    try:
        moment = datetime.fromisoformat(value.strip().replace("Z", "+00:00"))
    except ValueError:
        return None
    return stamp(moment)


def seconds_since(stored: str) -> float:
    """How long ago a stored stamp was (negative when it lies ahead)."""
    moment = datetime.strptime(stored, FORMAT).replace(tzinfo=UTC)
    return (datetime.now(UTC) - moment).total_seconds()
