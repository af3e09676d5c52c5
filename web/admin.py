"""For admins and publishers: taxonomy, mapping rules, the article list, the account's ticket fields, API tokens.

JSON routes under /api (admin unless a route says otherwise); the /admin pages are web.admin_pages, the macros
API web.macro_api.
"""
from __future__ import annotations

from flask import Blueprint, abort, jsonify, request

from api_tokens import tokens
from integrations.zendesk import account
from kb import articles, audit, catalog, mapping, taxonomy
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
        node, created = taxonomy.create(conn, path, actor()["name"])
    except taxonomy.TaxonomyError as exc:
        abort(400, description=str(exc))
    return jsonify(node), 201 if created else 200


@bp.patch("/api/taxonomy/<int:node_id>")
@require("admin")
def taxonomy_update(node_id: int):
    """Set a node's default owner: {"owner": "<a person's name>" | ""}; articles filed under it without an owner
    take it. The change is audited (who, when, before/after)."""
    owner = json_object().get("owner")
    if not isinstance(owner, str):
        abort(400, description='give {"owner": "<name>"} ("" for none)')
    try:
        found = taxonomy.set_owner(get_db(), row_id(node_id, "taxonomy node"), owner, actor()["name"])
    except taxonomy.TaxonomyError as exc:
        abort(400, description=str(exc))
    if not found:
        abort(404, description=f"no taxonomy node {node_id}")
    return jsonify(next(n for n in taxonomy.tree(get_db()) if n["id"] == node_id))


@bp.get("/api/audit-log")
@require("admin")
def audit_log():
    """Who changed what, when, with before/after: ?subject=taxonomy|mapping|article|macro&id=<its id> (admin)."""
    subject = request.args.get("subject", "")
    if subject not in audit.SUBJECTS:
        abort(400, description=f"subject must be one of {list(audit.SUBJECTS)}")
    raw = request.args.get("id", "")
    if not (raw.isascii() and raw.isdigit() and len(raw) <= 18):
        abort(400, description="id must be the id of the taxonomy node, mapping rule, article or macro")
    return jsonify({"subject": subject, "id": int(raw), "entries": audit.history(get_db(), subject, int(raw))})


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
                                field_id=data.get("field_id"), priority=data.get("priority", 100),
                                actor=actor()["name"])
    except (mapping.RuleError, taxonomy.TaxonomyError) as exc:
        abort(400, description=str(exc))
    return jsonify(rule), 201


@bp.delete("/api/mappings/<int:rule_id>")
@require("admin")
def mappings_delete(rule_id: int):
    """Delete a mapping rule."""
    if not mapping.delete_rule(get_db(), row_id(rule_id, "mapping rule"), actor()["name"]):
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
    """API tokens: id, name, role, created_at, revoked_at, expires_at and status (live|revoked|expired); never
    the tokens."""
    return jsonify({"tokens": tokens.listing(get_db())})


@bp.post("/api/tokens")
@require("admin")
def tokens_create():
    """Create a token: {"name", "role", "expires_at"?: ISO date or datetime ahead, or "expires_in_days"?: 1-3650};
    the token is in this answer only. Without an expiry it lasts until revoked."""
    data = json_object()
    name, role = data.get("name"), data.get("role", "agent")
    if not isinstance(name, str) or not isinstance(role, str):
        abort(400, description='give {"name": "...", "role": "agent|lead|publisher|admin"}')
    try:
        expires_at = tokens.expiry(data.get("expires_at"), data.get("expires_in_days"))
        token = tokens.create(get_db(), name, role, expires_at=expires_at)
    except tokens.TokenError as exc:
        abort(400, description=str(exc))
    return jsonify({"name": name.strip(), "role": role, "token": token, "expires_at": expires_at}), 201


@bp.delete("/api/tokens/<int:token_id>")
@require("admin")
def tokens_revoke(token_id: int):
    """Revoke a token (ids from GET /api/tokens): 204, also when it was revoked already. Its Bearer calls, sessions
    and sign-in cookies stop working at once. 409 for the last live admin token: an installation must keep one
    admin."""
    try:
        revoked = tokens.revoke(get_db(), row_id(token_id, "API token"))
    except tokens.LastAdmin as exc:
        abort(409, description=str(exc))
    if revoked is None:
        abort(404, description=f"no API token {token_id}")
    return "", 204
