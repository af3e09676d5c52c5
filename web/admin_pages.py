"""The /admin pages: taxonomy tree, mapping rules, articles' KCS states, open flags, API tokens, and the
Zendesk trigger body. Plain HTML forms (POST, then redirect), signed in like /reports (web.signin)."""
from __future__ import annotations

from urllib.parse import parse_qsl, urlencode, urlsplit

from flask import Blueprint, abort, redirect, render_template, request, url_for

from api_tokens import tokens
from integrations.freshdesk.rule import RULE_BODY, SECRET_HEADER
from integrations.zendesk.trigger import TRIGGER_BODY
from kb import articles, catalog, flags, mapping, taxonomy
from tickets import deliveries, stats
from web import signin
from web.db import cfg, get_db
from web.payload import row_id

bp = Blueprint("admin_pages", __name__, url_prefix="/admin")

DONE = {"node": "Taxonomy node saved.", "rule": "Mapping rule added.", "deleted": "Mapping rule deleted.",
        "state": "Article state changed.", "revoked": "Token revoked: its sessions and sign-ins ended."}


def _render(template: str, status: int = 200, **ctx):
    ctx.setdefault("error", None)
    notice = DONE.get(request.args.get("done", ""))
    return render_template(template, who=signin.page_actor(), csrf=signin.csrf_token(), notice=notice,
                           **ctx), status


def _segments(text: str) -> list[str]:
    """'orders / refunds' or 'orders/refunds' → ['orders', 'refunds']."""
    return [s.strip() for s in (text or "").split("/") if s.strip()]


@bp.get("")
@signin.page("admin")
def overview():
    """Admin home: what is configured, and the Zendesk trigger body to paste."""
    conn = get_db()
    counts = stats.overview(conn)
    webhook_url = cfg()["server"]["public_url"].rstrip("/") + "/webhooks/zendesk"
    return _render("admin.html", counts=counts, trigger_body=TRIGGER_BODY, webhook_url=webhook_url,
                   open_flags=len(flags.open_flags(conn)))


@bp.get("/integrations")
@signin.page("admin")
def integrations_page():
    """The helpdesks the sidecar takes webhooks from: configured or not, the last delivery, its status, the last
    error (a failed delivery, a write-back that waits), and what to paste into Freshdesk's automation rule."""
    return _render("admin_integrations.html", integrations=deliveries.integrations_overview(get_db(), cfg()),
                   rule_body=RULE_BODY, secret_header=SECRET_HEADER)


@bp.get("/taxonomy")
@signin.page("admin")
def taxonomy_page():
    """The taxonomy tree with article counts, and a form to add a node."""
    return _render("admin_taxonomy.html", nodes=taxonomy.tree(get_db()))


@bp.post("/taxonomy")
@signin.page("admin")
def taxonomy_add():
    segments = _segments(request.form.get("path", ""))
    conn = get_db()
    try:
        taxonomy.create(conn, segments, signin.page_actor()["name"])
    except taxonomy.TaxonomyError as exc:
        return _render("admin_taxonomy.html", 400, nodes=taxonomy.tree(conn), error=str(exc),
                       typed=request.form.get("path", ""))
    return redirect(url_for(".taxonomy_page", done="node"), 303)


@bp.get("/mappings")
@signin.page("admin")
def mappings_page():
    """Mapping rules in the order they are tried, with forms to add and delete."""
    return _render("admin_mappings.html", rules=mapping.rules(get_db()), kinds=mapping.KINDS, form={})


@bp.post("/mappings")
@signin.page("admin")
def mappings_add():
    form = request.form
    conn = get_db()
    try:
        priority = int(form.get("priority") or 100)
    except ValueError:
        priority = None
    try:
        if priority is None:
            raise mapping.RuleError("priority must be a whole number")
        mapping.add_rule(conn, form.get("kind", ""), form.get("value", ""), _segments(form.get("taxonomy", "")),
                         field_id=form.get("field_id") or None, priority=priority,
                         actor=signin.page_actor()["name"])
    except (mapping.RuleError, taxonomy.TaxonomyError) as exc:
        return _render("admin_mappings.html", 400, rules=mapping.rules(conn), kinds=mapping.KINDS, form=form,
                       error=str(exc))
    return redirect(url_for(".mappings_page", done="rule"), 303)


@bp.post("/mappings/<int:rule_id>/delete")
@signin.page("admin")
def mappings_delete(rule_id: int):
    if not mapping.delete_rule(get_db(), rule_id, signin.page_actor()["name"]):
        abort(404, description=f"no mapping rule {rule_id}")
    return redirect(url_for(".mappings_page", done="deleted"), 303)


@bp.get("/articles")
@signin.page("publisher")
def articles_page():
    """Articles with filters (state, language, node) and a state change per row."""
    args = request.args
    state = args.get("state") if args.get("state") in articles.STATES else None
    error = None
    try:
        found = catalog.articles(get_db(), state=state, language=args.get("language") or None,
                                 node=args.get("node") or None, limit=200)
    except catalog.CatalogError as exc:
        found, error = {"total": 0, "articles": []}, str(exc)
    return _render("admin_articles.html", 400 if error else 200, found=found, states=articles.STATES,
                   filters={"state": state or "", "language": args.get("language", ""), "node": args.get("node", "")},
                   error=error, back=request.full_path.rstrip("?"))


@bp.post("/articles/<int:article_id>/state")
@signin.page("publisher")
def article_state(article_id: int):
    conn = get_db()
    if articles.get(conn, article_id) is None:
        abort(404, description=f"no article {article_id}")
    try:
        articles.set_state(conn, article_id, request.form.get("state", ""), signin.page_actor()["name"])
    except articles.ArticleError as exc:
        abort(400, description=str(exc))
    back = urlsplit(request.form.get("back", ""))
    query = [(k, v) for k, v in parse_qsl(back.query) if k != "done"] + [("done", "state")]
    path = back.path if back.path == url_for(".articles_page") else url_for(".articles_page")
    return redirect(f"{path}?{urlencode(query)}", 303)


@bp.get("/flags")
@signin.page("lead")
def flags_page():
    """Open flags agents raised on articles."""
    return _render("admin_flags.html", flags=flags.open_flags(get_db()))


@bp.get("/tokens")
@signin.page("admin")
def tokens_page():
    """API tokens: who has which role; create a new one (shown once)."""
    return _render("admin_tokens.html", tokens=tokens.listing(get_db()), roles=tokens.ROLES, created=None)


@bp.post("/tokens")
@signin.page("admin")
def tokens_add():
    """Create a token (form: name, role, expires_on: an optional date, UTC, from which it stops working)."""
    conn = get_db()
    name, role = request.form.get("name", ""), request.form.get("role", "")
    try:
        token = tokens.create(conn, name, role, expires_at=tokens.expiry(request.form.get("expires_on") or None))
    except tokens.TokenError as exc:
        return _render("admin_tokens.html", 400, tokens=tokens.listing(conn), roles=tokens.ROLES, created=None,
                       error=str(exc))
    body, status = _render("admin_tokens.html", 201, tokens=tokens.listing(conn), roles=tokens.ROLES,
                           created={"name": name.strip(), "role": role, "token": token})
    return body, status, {"Cache-Control": "no-store"}


@bp.post("/tokens/<int:token_id>/revoke")
@signin.page("admin")
def tokens_revoke(token_id: int):
    """Revoke a token: its Bearer calls, sessions and sign-in cookies stop working at once. The last live admin
    token cannot be revoked (409)."""
    conn = get_db()
    try:
        revoked = tokens.revoke(conn, row_id(token_id, "API token"))
    except tokens.LastAdmin as exc:
        return _render("admin_tokens.html", 409, tokens=tokens.listing(conn), roles=tokens.ROLES, created=None,
                       error=str(exc))
    if revoked is None:
        abort(404, description=f"no API token {token_id}")
    return redirect(url_for(".tokens_page", done="revoked"), 303)
