"""What a Zendesk ticket event says happened, as an integrations.base.Change.

Zendesk event webhooks (zendesk_event_version 2022-11-06, developer.zendesk.com "Ticket events") carry the
ticket as it is now in `detail` and what changed in `event`; the envelope's `id` is the event's own id and `time`
when it happened. Shapes read here:

  ticket.created                  event {} (detail.status is the first status)
  ticket.status_changed           event {"previous": "OPEN", "current": "SOLVED"}   (case varies: compared lower)
  ticket.group_assignment_changed event {"previous": "20", "current": "21"}   (ids; an object {"id"} accepted too)
  ticket.agent_assignment_changed event {"previous": null, "current": "7"}
  ticket.comment_added            event {"comment": {"id", "body", "is_public", "author": {"id", "is_staff", "name"}}}
  ticket.tags_changed             event {"tags_added": [...], "tags_removed": [...]}   (detail.tags: all of them)
  ticket.custom_field_changed     event {"custom_field": {"id", "title", "type"}, "current": value | {"value"}, ...}
  ticket.form_changed             event {"previous", "current"}   (detail.form_id: the form now)
Anything else is kind "other". The trigger body (integrations/zendesk/trigger.py) is a creation with no event id of
its own: the invocation id stands in for it.
"""
from __future__ import annotations

from integrations.base import Change
from store import clock
from store.values import storable

PREFIX = "zen:event-type:ticket."
SIMPLE = {"status_changed": "status", "group_assignment_changed": "group", "agent_assignment_changed": "assignee"}


def id_of(value) -> str | None:
    """An id from an event value: "21", 21, {"id": "21"}; None for null, "" or 0 (unassigned)."""
    if isinstance(value, dict):
        value = value.get("id")
    if value in (None, "", 0, "0") or isinstance(value, bool):
        return None
    return storable(str(value)).strip()[:100] or None


def status_of(value) -> str | None:
    if isinstance(value, dict):
        value = value.get("status") or value.get("name")
    text = storable(str(value)).strip().lower() if value not in (None, "") else ""
    return text[:40] or None


def change(payload: dict, event_type: str, fallback_id: str) -> Change:
    """The change an event-webhook payload announces (or a creation, for the trigger body)."""
    event = payload.get("event") if isinstance(payload.get("event"), dict) else {}
    detail = payload.get("detail") if isinstance(payload.get("detail"), dict) else {}
    event_id = storable(str(payload.get("id") or fallback_id))[:200]
    at = clock.parse(payload.get("time")) or clock.parse(detail.get("updated_at")) or clock.now()
    name = event_type[len(PREFIX):] if event_type.startswith(PREFIX) else ""
    if not event_type or name == "created":
        return Change("created", event_id, clock.parse(detail.get("created_at")) or at,
                      current=status_of(detail.get("status")) or "new")
    if name == "status_changed":
        return Change("status", event_id, at, previous=status_of(event.get("previous")),
                      current=status_of(event.get("current")) or status_of(detail.get("status")))
    if name in SIMPLE:
        return Change(SIMPLE[name], event_id, at, previous=id_of(event.get("previous")),
                      current=id_of(event.get("current")))
    if name == "comment_added":
        comment = event.get("comment") if isinstance(event.get("comment"), dict) else {}
        author = comment.get("author") if isinstance(comment.get("author"), dict) else {}
        public = comment.get("is_public", comment.get("public", False)) in (True, "true")
        return Change("public_reply" if public else "private_note", event_id, at, actor=id_of(author.get("id")))
    if name == "tags_changed":
        return Change("tags", event_id, at)
    if name == "custom_field_changed":
        custom = event.get("custom_field") if isinstance(event.get("custom_field"), dict) else {}
        current = event.get("current")
        if isinstance(current, dict) and "value" in current:
            current = current["value"]
        return Change("field", event_id, at, field_id=id_of(custom.get("id")), value=current)
    if name == "form_changed":
        return Change("field", event_id, at, field_id="form", value=id_of(event.get("current")))
    return Change("other", event_id, at)
