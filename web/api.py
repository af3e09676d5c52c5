"""The agents' and integrators' JSON API: suggestions, ticket suggestion sets and events, article import."""
from __future__ import annotations

from flask import Blueprint, abort, jsonify

from integrations import registry
from kb import articles
from tickets import events, intake
from web.auth import actor, require, same_ticket
from web.db import cfg, get_db
from web.payload import int_arg, json_object, records, row_id, text_arg

bp = Blueprint("api", __name__, url_prefix="/api")


@bp.post("/articles/import")
@require("publisher")
def import_articles():
    """Upsert articles on external_id from {"articles": [...]} or JSON Lines."""
    batch = records("articles")
    result = articles.import_articles(get_db(), batch.items, cfg()["suggest"]["default_language"], actor()["name"])
    return jsonify(batch.report(result))


@bp.get("/articles/<int:article_id>")
@require("agent")
def article(article_id: int):
    """One article with its KCS fields."""
    art = articles.get(get_db(), row_id(article_id, "article"))
    if art is None:
        abort(404, description=f"no article {article_id}")
    return jsonify(art)


@bp.post("/suggest")
@require("agent")
def suggest():
    """Stateless ranking for a text: taxonomy, articles, macros, each suggestion with its confidence (0 to 1).
    Only suggestions at or above suggest.min_confidence come back unless the body sets "min_confidence" (0: the
    whole ranking), so the lists may be empty when nothing fits. Nothing is recorded."""
    data = json_object()
    subject = text_arg(data, "subject")
    description = text_arg(data, "description")
    if not (subject.strip() or description.strip()):
        abort(400, description="give subject or description")
    language = data.get("language")
    if language is not None and not isinstance(language, str):
        abort(400, description="language must be text such as 'en' or 'pl'")
    fields, tags = data.get("fields") or {}, data.get("tags") or []
    if not isinstance(fields, dict):
        abort(400, description="fields must be an object of field id → value")
    if not isinstance(tags, list):
        abort(400, description="tags must be a list")
    limit = int_arg(data, "limit", cfg()["suggest"]["limit"], 1, 50)
    floor = data.get("min_confidence")       # None: suggest.min_confidence; 0: the whole ranking
    if floor is not None and (isinstance(floor, bool) or not isinstance(floor, int | float) or not 0 <= floor <= 1):
        abort(400, description="min_confidence must be a number from 0 to 1")
    return jsonify(intake.suggestions(get_db(), cfg(), subject=subject, description=description, language=language,
                                      fields=fields, tags=tags, form_id=data.get("form_id"), limit=limit,
                                      min_confidence=floor))


def _known(integration: str, ticket_id: str) -> None:
    """404 for an integration we do not know; 403 for a sidebar session used on another ticket than its own
    (the widget and demo sessions are issued for one ticket; API tokens and page sign-ins are not bound)."""
    if registry.get(integration) is None:
        abort(404, description=f"unknown integration {integration!r}; known: {list(registry.NAMES)}")
    same_ticket(ticket_id)


@bp.get("/tickets/<integration>/<ticket_id>/suggestions")
@require("agent")
def ticket_suggestions(integration: str, ticket_id: str):
    """The latest suggestion set stored for a ticket, with the ticket: its current status, its timeline (status,
    group and assignee changes, public replies, as the helpdesk reported them) and the outcome figures."""
    _known(integration, ticket_id)
    result = intake.stored_suggestions(get_db(), integration, ticket_id)
    if result is None:
        abort(404, description=f"no suggestions yet for {integration} ticket {ticket_id}")
    return jsonify(result)


@bp.post("/tickets/<integration>/<ticket_id>/events")
@require("agent")
def ticket_event(integration: str, ticket_id: str):
    """Record what the agent did: viewed, reused, macro_inserted, flagged, created, searched. Only on a ticket the
    sidecar knows, or (a sidebar session Zendesk signed) one Zendesk confirms: 404 otherwise."""
    _known(integration, ticket_id)
    try:
        who = actor()
        verified = who.get("display", "") if who.get("via") == "session" else None
        ev = events.parse(json_object(), who["name"], may_act_for_others=who["role"] == "admin" and
                          who.get("via") == "token", verified_name=verified)
        out = events.record(get_db(), cfg(), integration, ticket_id, ev, vouched=who.get("source") == integration)
    except events.EventError as exc:
        abort(400, description=str(exc))
    except intake.UnknownTicket as exc:
        abort(404, description=str(exc))
    except intake.HelpdeskUnavailable as exc:
        abort(503, description=f"{exc}; try again in a minute")
    return jsonify(out), 201
