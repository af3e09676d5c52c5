"""A local stand-in for a Zendesk ticket page: the ticket on the left, the sidebar widget on the right.

Only served when config `demo.enabled` is true (`make run` turns it on), and only to someone signed in
with an agent role or higher: the page shows a ticket's text and hands the widget an agent session.
It loads static/demo_zaf.js, a stand-in for the ZAF client whose invoke('ticket.comment.appendText',
text) writes into the page's comment box.
"""
from __future__ import annotations

from functools import wraps

from flask import Blueprint, abort, make_response, render_template, request

from integrations import registry
from tickets import intake
from web import signin
from web.auth import issue_session
from web.db import cfg, get_db
from web.widget_view import error_page, panel_context, record_view, secure_headers

bp = Blueprint("demo", __name__)
DEMO_AGENT = "demo-agent"
DEMO_NAME = "Demo Agent"
SIMULATE_HINT = ('Create one with: flask --app app simulate-ticket "Printer shows offline" '
                 '"Since this morning the office printer is offline for everyone."')


def _enabled(view):
    @wraps(view)
    def inner(*args, **kwargs):
        if not cfg()["demo"]["enabled"]:
            abort(404)
        return view(*args, **kwargs)
    return inner


@bp.get("/demo/tickets/<ticket_id>")
@_enabled
@signin.page("agent")
def ticket(ticket_id: str):
    """A fake Zendesk ticket page with the real sidebar widget beside it (only when demo.enabled)."""
    config = cfg()
    conn = get_db()
    wanted = request.args.get("integration")
    if wanted is not None and registry.get(wanted) is None:
        abort(404, description=f"unknown integration {wanted!r}; known: {list(registry.NAMES)}")
    integration = next((i for i in ([wanted] if wanted else registry.NAMES)
                        if intake.load_ticket(conn, i, ticket_id) is not None), None)
    if integration is None:
        body, status = error_page(404, "No such ticket", f"The sidecar has not received ticket {ticket_id} yet.",
                                  SIMULATE_HINT)
        return secure_headers(make_response(body, status), config, allow_zendesk_frame=False)
    ctx = panel_context(conn, config, integration, ticket_id, DEMO_AGENT)
    record_view(conn, config, integration, ticket_id, DEMO_AGENT)
    session = issue_session(config, DEMO_AGENT, ticket_id, display=DEMO_NAME,
                            token_id=signin.page_actor().get("token_id"))    # ends when that token is revoked
    boot = {"session": session, "integration": integration, "ticket": ticket_id, "agent": DEMO_AGENT,
            "agent_name": DEMO_NAME}
    html = render_template("demo_ticket.html", boot=boot, agent=DEMO_AGENT, **ctx)
    return secure_headers(make_response(html), config, allow_zendesk_frame=False)
