"""Zendesk macros both ways over HTTP (admins and publishers): import the account's macros, push ours."""
from __future__ import annotations

from flask import Blueprint, abort, jsonify

from integrations.base import IntegrationError
from sync import macros as macro_sync
from web.auth import actor, require
from web.db import cfg, get_db
from web.payload import row_id

bp = Blueprint("macro_sync_api", __name__)


def _who() -> str:
    return (actor() or {}).get("name") or ""


@bp.post("/api/zendesk/macros/import")
@require("publisher")
def import_zendesk_macros():
    """Import the Zendesk account's macros now, as drafts (state wip, not suggested until validated) (publisher).

    Answers the counts: total, created, updated, unchanged, kept_validated (validated since: left alone),
    skipped_no_comment, skipped_ours (pushed from here), errors. 409 when Zendesk is not configured, 502 when
    Zendesk refuses or cannot be reached."""
    try:
        return jsonify(macro_sync.import_now(get_db(), cfg(), _who()))
    except macro_sync.NotConfigured as exc:
        abort(409, description=str(exc))
    except IntegrationError as exc:
        abort(502, description=f"Zendesk did not answer the macro list: {exc}")


@bp.post("/api/macros/<int:macro_id>/push")
@require("publisher")
def push_macro(macro_id: int):
    """Queue the push of one of our validated, active macros to Zendesk as a Zendesk macro (publisher).

    202 {"job_id", "macro_id", "zendesk_id", "already_queued", "zendesk_configured"}: the worker creates the Zendesk
    macro on the first push and updates the same one after. 404 for an unknown macro; 409 with the reason for one
    that cannot be pushed (a draft, archived, inactive, or imported from Zendesk)."""
    try:
        queued = macro_sync.queue_push(get_db(), cfg(), row_id(macro_id, "macro"), _who())
    except macro_sync.UnknownMacro as exc:
        abort(404, description=str(exc))
    except macro_sync.NotPushable as exc:
        abort(409, description=str(exc))
    return jsonify(queued), 202
