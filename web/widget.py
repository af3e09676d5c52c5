"""The agent's sidebar widget: the page Zendesk loads in the ticket sidebar (ZAF v2, signed URLs).

Two ways in:
- POST /widget with form field `token`: Zendesk's signed-URL JWT (RS256, the app's key), checked by
  integrations.zendesk.account.sign_in; the agent's name is read from Zendesk for the verified user. The
  ticket id is not in that token: the page asks the ZAF client for it and loads the panel from
  GET /widget/panel.
- GET /widget?ticket=<id>&integration=zendesk with `Authorization: Bearer <API token or session>`
  (tests, local tries): the panel is rendered in the page at once.
Either way the server issues a short-lived agent session (web.auth.issue_session) and puts it in the
page in a JSON script tag; every call the page makes uses `Authorization: Bearer <session>`.
"""
from __future__ import annotations

from flask import Blueprint, abort, make_response, render_template, request

from api_tokens import tokens
from integrations import registry
from integrations.zendesk import account, signed_url
from web.auth import actor, issue_session, require, same_ticket
from web.db import cfg, get_db
from web.payload import row_id
from web.widget_view import article_view, error_page, panel_context, record_view, secure_headers, zaf_sdk_present

bp = Blueprint("widget", __name__)
MAX_ID = 100

NO_AUTH_HINT = ("Open the Knowledge Sidecar app from a ticket in Zendesk, or call "
                "/widget?ticket=<id>&integration=zendesk with Authorization: Bearer <API token>.")


def _target() -> tuple[str, str | None]:
    integration = request.args.get("integration", "zendesk")
    if registry.get(integration) is None:
        abort(404, description=f"unknown integration {integration!r}; known: {list(registry.NAMES)}")
    ticket = (request.args.get("ticket") or "").strip() or None
    if ticket is not None and (len(ticket) > MAX_ID or not ticket.isprintable()):
        abort(400, description="ticket must be a helpdesk ticket id")
    return integration, ticket


def _unauthorized(message: str):
    body, status = error_page(401, "Sign-in needed", message, NO_AUTH_HINT)
    resp = secure_headers(make_response(body, status), cfg())
    resp.headers["WWW-Authenticate"] = 'Bearer realm="knowledge-sidecar"'
    return resp


@bp.route("/widget", methods=["GET", "POST"])
def widget():
    """The sidebar page. POST: Zendesk's signed request. GET: a caller with a Bearer token."""
    config = cfg()
    integration, ticket_id = _target()
    display, source, token_id = "", None, None
    if request.method == "POST":
        try:
            verified, display = account.sign_in(get_db(), config, request.form.get("token", ""))
        except signed_url.SignedUrlError as exc:
            return _unauthorized(str(exc))
        agent, source = verified.name, "zendesk"
    else:
        who = actor()
        if who is None:
            return _unauthorized("This page needs Zendesk's signed request or an API token; none was sent.")
        if not tokens.allows(who["role"], "agent"):
            abort(403, description="this token may not open the widget")
        same_ticket(ticket_id)          # a sidebar session cannot open, or mint a session for, another ticket
        agent, display, source = who["name"], who.get("display") or "", who.get("source")
        token_id = who.get("token_id")    # the session lives only as long as the token it came from
    conn = get_db()
    ctx = panel_context(conn, config, integration, ticket_id, agent)
    if ticket_id:
        record_view(conn, config, integration, ticket_id, agent, vouched=source == integration)
    boot = {"session": issue_session(config, agent, ticket_id, display=display, source=source, token_id=token_id),
            "integration": integration, "ticket": ticket_id, "agent": agent, "agent_name": display}
    html = render_template("widget.html", boot=boot, agent=agent, zaf_sdk=zaf_sdk_present(), **ctx)
    return secure_headers(make_response(html), config)


@bp.get("/widget/articles/<int:article_id>")
@require("agent")
def article(article_id: int):
    """An article's read view inside the sidebar (an HTML fragment): the KCS fields, its state and visibility,
    and with ?from=N&to=M what changed between those versions. Opening it reads the caller's change notices
    about it."""
    who = actor()
    conn = get_db()
    view = article_view(conn, row_id(article_id, "article"), who["name"], request.args.get("from"),
                        request.args.get("to"))
    if view is None:
        abort(404, description=f"no article {article_id}")
    return secure_headers(make_response(render_template("widget_article.html", **view)), cfg())


@bp.get("/widget/panel")
@require("agent")
def panel():
    """The panel for one ticket as an HTML fragment, for a page that learnt the ticket id from the ZAF client."""
    who = actor()
    integration, ticket_id = _target()
    if ticket_id is None:
        abort(400, description="give ?ticket=<id>")
    same_ticket(ticket_id)
    conn = get_db()
    ctx = panel_context(conn, cfg(), integration, ticket_id, who["name"])
    record_view(conn, cfg(), integration, ticket_id, who["name"], vouched=who.get("source") == integration)
    return secure_headers(make_response(render_template("widget_panel.html", **ctx)), cfg())
