"""Bearer authentication: API tokens, or the short-lived agent sessions the widget receives.

Widget sessions are JWTs (HS256, PyJWT) signed with the server's session secret, carrying the
agent's name and the ticket they were opened for. A session made from an API token (page sign-in, the widget
opened with a token, the demo page) carries the token's id ("tid") and holds only while that token is live:
revoking the token ends it at once. A session Zendesk vouched for ("src": its signed token) has no token behind
it; it is short-lived and bound to the agent. A session with neither is refused.
"""
from __future__ import annotations

import time
from functools import wraps

import jwt
from flask import abort, g, request

from api_tokens import tokens
from store.db import instance_secret
from web.db import cfg, get_db

SESSION_AUDIENCE = "knowledge-sidecar-widget"
_INSTANCE_SECRETS: dict[str, str] = {}


def session_secret(config: dict) -> str:
    """server.session_secret when set, else this installation's random secret (created by a migration and
    shared by every process through the database)."""
    if config["server"]["session_secret"]:
        return config["server"]["session_secret"]
    path = config["database"]
    if path not in _INSTANCE_SECRETS:
        _INSTANCE_SECRETS[path] = instance_secret(get_db())
    return _INSTANCE_SECRETS[path]


def issue_session(config: dict, agent: str, ticket: str | None, role: str = "agent", display: str = "",
                  source: str | None = None, token_id: int | None = None) -> str:
    """A session for `agent` (bound to `ticket` when given). `display` is the agent's name as the helpdesk has it;
    `source` names who vouched for the agent ("zendesk": Zendesk's signed token), never the browser; `token_id` is
    the API token the session was made from (it lives only as long as that token)."""
    now = int(time.time())
    claims = {"sub": agent, "role": role, "ticket": ticket, "name": display, "src": source, "iat": now,
              "exp": now + config["server"]["session_ttl_s"], "aud": SESSION_AUDIENCE}
    if token_id is not None:
        claims["tid"] = token_id
    return jwt.encode(claims, session_secret(config), algorithm="HS256")


def token_live(token_id) -> bool:
    """Whether an API token is still live, asked once per request and token."""
    checked = g.setdefault("live_tokens", {})
    if token_id not in checked:
        checked[token_id] = tokens.live(get_db(), token_id)
    return checked[token_id]


def decode_session(token: str) -> dict | None:
    """The claims of a session this server issued ({name, role, ticket, via, token_id}), or None: also when the
    token it was made from is revoked or expired, or when neither a token nor a helpdesk stands behind it."""
    try:
        claims = jwt.decode(token, session_secret(cfg()), algorithms=["HS256"], audience=SESSION_AUDIENCE)
    except jwt.PyJWTError:
        return None
    if claims.get("role") not in tokens.ROLES:
        return None
    token_id = claims.get("tid")
    if token_id is not None and not token_live(token_id):
        return None
    if token_id is None and not claims.get("src"):
        return None
    return {"name": claims["sub"], "role": claims["role"], "ticket": claims.get("ticket"), "via": "session",
            "display": claims.get("name") or "", "source": claims.get("src"), "token_id": token_id}


def bearer() -> str:
    header = request.headers.get("Authorization", "")
    scheme, _, value = header.partition(" ")
    return value.strip() if scheme.lower() == "bearer" else ""


def actor() -> dict | None:
    """Who is calling, or None: {"name", "role", "via": "token" | "session", "token_id"}. Cached on g for the
    request."""
    if "actor" not in g:
        token = bearer()
        g.actor = None
        if token:
            # A session is a JWT (two dots); an API token may have two dots too, so it is tried as well.
            if token.count(".") == 2:
                g.actor = decode_session(token)
            if g.actor is None:
                found = tokens.lookup(get_db(), token)
                if found:
                    g.actor = {"name": found["name"], "role": found["role"], "via": "token",
                               "token_id": found["id"]}
    return g.actor


def same_ticket(ticket_id: str | None) -> None:
    """403 when the caller holds a sidebar session opened for another ticket. The widget and demo pages
    issue sessions bound to one ticket; API tokens and page sign-ins are not bound."""
    own = (actor() or {}).get("ticket")
    if own is not None and str(own) != str(ticket_id):
        abort(403, description=f"this session was opened for ticket {own}, not ticket {ticket_id}; "
                               "open that ticket's sidebar instead")


def require(role: str):
    """Decorator: 401 without a valid token, 403 when its role is below `role`."""
    def wrap(view):
        @wraps(view)
        def inner(*args, **kwargs):
            who = actor()
            if who is None:
                abort(401, description="send Authorization: Bearer <token>")
            if not tokens.allows(who["role"], role):
                abort(403, description=f"this needs the {role} role; your token has {who['role']}")
            return view(*args, **kwargs)
        inner.required_role = role
        return inner
    return wrap
