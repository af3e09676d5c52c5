"""Help Center both ways over HTTP (admins and publishers): import from Zendesk Help Center, publish to it."""
from __future__ import annotations

from flask import Blueprint, abort, jsonify

from integrations.base import IntegrationError
from sync import help_center
from web.auth import actor, require
from web.db import cfg, get_db
from web.payload import row_id

bp = Blueprint("help_center_api", __name__)

REFUSAL_STATUS = {"unknown": 404, "not_configured": 409, "refused": 409}


@bp.post("/api/zendesk/help-center/import")
@require("admin")
def import_help_center():
    """Import Zendesk Help Center now (admin): sections become taxonomy nodes, articles are upserted on their Zendesk
    id, one row per known language. Answers {"sections": {"created", "updated", "skipped"}, "articles": {"created",
    "updated", "skipped"}, "errors": [...]}; 409 when Zendesk is not configured, 502 when Help Center cannot be
    read."""
    try:
        return jsonify(help_center.run_import(get_db(), cfg(), actor()["name"]))
    except help_center.NotConfigured as exc:
        abort(409, description=str(exc))
    except IntegrationError as exc:
        abort(502, description=f"Zendesk Help Center could not be read: {exc}")


@bp.post("/api/articles/<int:article_id>/publish")
@require("publisher")
def publish_article(article_id: int):
    """Queue a publish of the article to Zendesk Help Center (publisher): 202 {"job_id", "article_id", "queued"}.
    Only validated, public articles whose taxonomy node maps to a Help Center section; 409 with the reason
    otherwise (internal, not validated, archived, no section, publishing not configured), 404 for an unknown
    article. The worker sends it; the publish is then in the article's audit history."""
    try:
        job = help_center.queue_publish(get_db(), cfg(), row_id(article_id, "article"), actor()["name"])
    except help_center.PublishRefused as exc:
        abort(REFUSAL_STATUS[exc.reason], description=str(exc))
    return jsonify(job), 202
