"""For admins and publishers: taxonomy, mapping rules, articles' KCS states, open flags, API tokens.

JSON routes under /api (admin unless a route says otherwise); the /admin pages are web.admin_pages, the macros
API web.macro_api.
"""
from __future__ import annotations

from flask import Blueprint, abort, jsonify, request

from api_tokens import tokens
from integrations.zendesk import account
from kb import articles, catalog, flags, mapping, taxonomy
from store.values import MAX_ROW_ID, row_id_fits
from web.auth import actor, require
from web.db import cfg, get_db
from web.payload import json_object, row_id

bp = Blueprint("admin", __name__)


def _path(data: dict, key: str) -> list[str]:
    value = data.get(key)
    if not isinstance(value, list) or not value or not all(isinstance(s, str) and s.strip() for s in value):
        abort(400, description=f'{key} must be a non-empty list of path segments, e.g. ["orders", "refunds"]')
    return value


def _query_int(name: str, default: int, lo: int, hi: int) -> int:
    raw = request.args.get(name)
    if raw is None or raw == "":
        return default
    # isascii: "²".isdigit() is true but int("²") fails; the length test keeps int() off absurdly long strings
    if not (raw.isascii() and raw.isdigit() and len(raw.lstrip("0")) <= len(str(hi))) or not lo <= int(raw) <= hi:
        abort(400, description=f"{name} must be a whole number from {lo} to {hi}")
    return int(raw)


def _node_arg() -> str | None:
    """?node= as an id or a slash path; an id no node can have (beyond SQLite's range) is refused here."""
    node = request.args.get("node") or None
    digits = (node or "").strip().strip("/")
    if digits.isdigit() and not (digits.isascii() and len(digits.lstrip("0")) <= len(str(MAX_ROW_ID))
                                 and row_id_fits(int(digits))):
        abort(400, description=f"no taxonomy node {digits!r}: a node id is a whole number (0-9) up to {MAX_ROW_ID}")
    return node


@bp.get("/api/taxonomy")
@require("admin")
def taxonomy_tree():
    """Every taxonomy node (id, parent_id, name, path, articles), in path order."""
    return jsonify({"nodes": taxonomy.tree(get_db())})


@bp.post("/api/taxonomy")
@require("admin")
def taxonomy_create():
    """Create a node and its missing parents: {"path": ["orders", "refunds"]}. 201 new, 200 existing."""
    path = _path(json_object(), "path")
    conn = get_db()
    try:
        node, created = taxonomy.create(conn, path)
    except taxonomy.TaxonomyError as exc:
        abort(400, description=str(exc))
    return jsonify(node), 201 if created else 200


@bp.get("/api/mappings")
@require("admin")
def mappings_list():
    """Mapping rules in the order they are tried (priority, then age)."""
    return jsonify({"rules": mapping.rules(get_db())})


@bp.post("/api/mappings")
@require("admin")
def mappings_create():
    """Add a rule: {"kind": "field|tag|form", "field_id"?, "value", "taxonomy": [...], "priority"?: 100}."""
    data = json_object()
    conn = get_db()
    try:
        rule = mapping.add_rule(conn, data.get("kind"), data.get("value"), data.get("taxonomy"),
                                    field_id=data.get("field_id"), priority=data.get("priority", 100))
    except (mapping.RuleError, taxonomy.TaxonomyError) as exc:
        abort(400, description=str(exc))
    return jsonify(rule), 201


@bp.delete("/api/mappings/<int:rule_id>")
@require("admin")
def mappings_delete(rule_id: int):
    """Delete a mapping rule."""
    if not mapping.delete_rule(get_db(), row_id(rule_id, "mapping rule")):
        abort(404, description=f"no mapping rule {rule_id}")
    return "", 204


@bp.get("/api/articles")
@require("publisher")
def articles_list():
    """Articles, newest change first: ?state=&language=&node=<id or a/b path, subtree>&limit=&offset= (publisher)."""
    state, language = request.args.get("state") or None, request.args.get("language") or None
    if state and state not in articles.STATES:
        abort(400, description=f"state must be one of {list(articles.STATES)}")
    try:
        result = catalog.articles(get_db(), state=state, language=language, node=_node_arg(),
                                  limit=_query_int("limit", 100, 1, 500), offset=_query_int("offset", 0, 0, 10**9))
    except catalog.CatalogError as exc:
        abort(400, description=str(exc))
    return jsonify(result)


@bp.patch("/api/articles/<int:article_id>")
@require("publisher")
def article_state(article_id: int):
    """Move an article to another KCS state: {"state": "wip|not_validated|validated|archived"} (publisher)."""
    data = json_object()
    conn = get_db()
    if articles.get(conn, row_id(article_id, "article")) is None:
        abort(404, description=f"no article {article_id}")
    try:
        return jsonify(articles.set_state(conn, article_id, data.get("state"), actor()["name"]))
    except articles.ArticleError as exc:
        abort(400, description=str(exc))


@bp.get("/api/articles/<int:article_id>/versions")
@require("publisher")
def article_versions(article_id: int):
    """Every version of an article, newest first (publisher)."""
    found = catalog.versions(get_db(), row_id(article_id, "article"))
    if found is None:
        abort(404, description=f"no article {article_id}")
    return jsonify({"article_id": article_id, "versions": found})


@bp.get("/api/flags")
@require("lead")
def open_flags():
    """Open flags (raised since the article last changed) with their articles (lead)."""
    return jsonify({"flags": flags.open_flags(get_db())})


@bp.get("/api/zendesk/ticket-fields")
@require("admin")
def zendesk_ticket_fields():
    """The Zendesk account's ticket fields and their options (for mapping rules), cached for zendesk.cache_ttl_s;
    ?refresh=1 reads them again. {"fields": [{"id", "type", "title", "active", "options": [{"name", "value"}]}],
    "fetched_at", "stale"}: stale is true when Zendesk could not be asked and an older copy is shown."""
    refresh = request.args.get("refresh", "") in ("1", "true", "yes")
    try:
        return jsonify(account.ticket_fields(get_db(), cfg(), refresh=refresh))
    except account.AccountError as exc:
        abort(503, description=str(exc))


@bp.get("/api/tokens")
@require("admin")
def tokens_list():
    """API tokens (names, roles, dates; never the tokens)."""
    return jsonify({"tokens": tokens.listing(get_db())})


@bp.post("/api/tokens")
@require("admin")
def tokens_create():
    """Create a token: {"name", "role"}; the token is in this answer only."""
    data = json_object()
    name, role = data.get("name"), data.get("role", "agent")
    if not isinstance(name, str) or not isinstance(role, str):
        abort(400, description='give {"name": "...", "role": "agent|lead|publisher|admin"}')
    try:
        token = tokens.create(get_db(), name, role)
    except tokens.TokenError as exc:
        abort(400, description=str(exc))
    return jsonify({"name": name.strip(), "role": role, "token": token}), 201
