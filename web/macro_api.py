"""Response macros over HTTP: import and list them, render one for a ticket."""
from __future__ import annotations

from flask import Blueprint, abort, jsonify, request

from kb import articles
from macros import library, render
from web.auth import actor, require
from web.db import cfg, get_db
from web.payload import id_arg, json_object, records, row_id

bp = Blueprint("macros", __name__, url_prefix="/api/macros")


@bp.post("")
@require("publisher")
def import_macros():
    """Upsert macros on external_id from {"macros": [...]} or JSON Lines (publisher)."""
    batch = records("macros")
    return jsonify(batch.report(library.import_macros(get_db(), batch.items, cfg()["suggest"]["default_language"])))


@bp.get("")
@require("agent")
def list_macros():
    """Macros, by language and title: ?language=&active=1."""
    return jsonify({"macros": library.listing(get_db(), request.args.get("language") or None,
                                              request.args.get("active") in ("1", "true"))})


@bp.get("/<int:macro_id>")
@require("agent")
def get_macro(macro_id: int):
    """One macro with its template."""
    macro = library.get(get_db(), row_id(macro_id, "macro"))
    if macro is None:
        abort(404, description=f"no macro {macro_id}")
    return jsonify(macro)


@bp.patch("/<int:macro_id>")
@require("publisher")
def set_macro_state(macro_id: int):
    """Move a macro through the KCS states (publisher): {"state": "wip|not_validated|validated|archived"}; only a
    validated macro is suggested (an imported Zendesk macro arrives as wip)."""
    data = json_object()
    try:
        found = library.set_state(get_db(), row_id(macro_id, "macro"), data.get("state"))
    except library.MacroError as exc:
        abort(400, description=str(exc))
    if not found:
        abort(404, description=f"no macro {macro_id}")
    return jsonify(library.get(get_db(), macro_id))


def _article(data: dict) -> dict | None:
    """The article to mention in customer-facing text: {"article_id"} from the knowledge base (validated and public
    only; its public Help Center URL, never the sidecar's API), or {"article": {"title", "url"}} given by the
    caller (a URL into the sidecar itself is refused: customers cannot open it)."""
    given = data.get("article") or {}
    if not isinstance(given, dict):
        abort(400, description='article must be an object {"title", "url"}')
    own = cfg()["server"]["public_url"].rstrip("/")
    if str(given.get("url") or "").startswith(own):
        abort(400, description="article.url points into the Knowledge Sidecar, which customers cannot open; use the "
                               "article's public Help Center URL")
    article_id = id_arg(data, "article_id")
    if article_id is None:
        return given or None
    try:
        ref = articles.customer_reference(articles.get(get_db(), article_id))
    except articles.ArticleError as exc:
        abort(400, description=str(exc))
    return {"title": given.get("title") or ref["title"], "url": given.get("url") or ref["url"]}


@bp.post("/<int:macro_id>/render")
@require("agent")
def render_macro(macro_id: int):
    """The macro's text for a ticket: {"ticket": {"id", "subject", "requester": {"name"}}, "article_id"?} (agent)."""
    data = json_object()
    macro = library.get(get_db(), row_id(macro_id, "macro"))
    if macro is None:
        abort(404, description=f"no macro {macro_id}")
    ticket = data.get("ticket") or {}
    if not isinstance(ticket, dict):
        abort(400, description='ticket must be an object {"id", "subject", "requester": {"name"}}')
    # The agent's display name comes from the helpdesk (ZAF currentUser.name). A widget session's name is an
    # internal id ("zendesk:acme:user:42") that must never reach a customer; an API token's name is a person's.
    who = actor()
    agent_name = data.get("agent_name") or (who["name"] if who.get("via") == "token" else "")
    try:
        text = render.render(macro["body"], ticket, str(agent_name), _article(data))
    except render.RenderError as exc:
        abort(400, description=f"macro {macro_id} ({macro['external_id']}): {exc}")
    return jsonify({"macro_id": macro_id, "text": text})
