"""Signing in to the people's pages (/reports, /admin, /demo) with an API token.

A lead or admin pastes an API token into the sign-in form (a POST: a token in a URL would end up in
access logs and browser history). The token is checked and exchanged for a sidecar session
(web.auth.issue_session, a signed JWT) kept in an HttpOnly, SameSite=Strict cookie; the token itself
is never stored in the browser. Pages also accept the API's `Authorization: Bearer` header. Forms
posted with the cookie carry a CSRF field derived from the session (HMAC), checked on every POST, signing out
included. The cookie's session carries the token's id: revoking the token signs the browser out at once.
"""
from __future__ import annotations

import hashlib
import hmac
from functools import wraps
from urllib.parse import urlencode

from flask import Blueprint, abort, g, make_response, redirect, render_template, request

from api_tokens import tokens
from web.auth import actor, decode_session, issue_session, session_secret
from web.db import cfg, get_db

COOKIE = "ks_page_session"
bp = Blueprint("signin", __name__)


def _from_cookie() -> dict | None:
    """A page session: one issued at sign-in (not bound to a ticket, unlike the widget's)."""
    who = decode_session(request.cookies.get(COOKIE, ""))
    if who is None or who["ticket"] is not None:
        return None
    return {"name": who["name"], "role": who["role"], "via": "cookie", "token_id": who["token_id"]}


def page_actor() -> dict | None:
    """Who is looking at the page: a Bearer token or an unbound session, else the sign-in cookie. A sidebar
    session (bound to one ticket) opens no people's page."""
    if "page_actor" not in g:
        who = actor()
        g.page_actor = (who if who is not None and who.get("ticket") is None else None) or _from_cookie()
    return g.page_actor


def csrf_token() -> str:
    """Bound to the session cookie: a page from another site cannot know it."""
    value = request.cookies.get(COOKIE, "")
    return hmac.new(session_secret(cfg()).encode(), ("csrf:" + value).encode(), hashlib.sha256).hexdigest()[:32]


@bp.app_context_processor
def _signout_csrf() -> dict:
    """Every page's sign-out form takes its csrf field from here, whatever the view passed."""
    return {"signout_csrf": csrf_token}


def _check_csrf(who: dict) -> None:
    if request.method in ("GET", "HEAD") or who.get("via") != "cookie":
        return
    _csrf_matches()


def _csrf_matches() -> None:
    sent = request.form.get("csrf", "")
    if not hmac.compare_digest(sent, csrf_token()):
        abort(403, description="the form has expired or came from another site; reload the page and try again")


def _set_cookie(resp, who: dict):
    resp.set_cookie(COOKIE, issue_session(cfg(), who["name"], None, who["role"], token_id=who["id"]),
                    max_age=cfg()["server"]["session_ttl_s"], httponly=True, samesite="Strict",
                    secure=request.is_secure, path="/")
    return resp


def _safe_next(target: str | None) -> str:
    """Only paths on this site (no scheme, no //host) are followed after signing in."""
    if (not target or not target.startswith("/") or target.startswith("//") or "\\" in target
            or any(ord(c) < 32 or c == "\x7f" for c in target)):
        return "/reports"
    return target


def _here() -> str:
    """This page's path and query (without a `token` parameter someone pasted in, so it is not carried on)."""
    rest = {k: v for k, v in request.args.items(multi=True) if k != "token"}
    return request.path + ("?" + urlencode(rest) if rest else "")


def _sign_in_page(message: str = "", status: int = 401):
    nxt = _here() if request.method == "GET" else request.form.get("next", "")
    return render_template("admin_signin.html", message=message, next=_safe_next(nxt)), status


def page(role: str):
    """Decorator for HTML pages: sign-in form without a session, 403 page when the role is too low."""
    def wrap(view):
        @wraps(view)
        def inner(*args, **kwargs):
            who = page_actor()
            if who is None:
                return _sign_in_page()
            if not tokens.allows(who["role"], role):
                abort(403, description=f"this page needs the {role} role; you are signed in as "
                                       f"{who['name']} ({who['role']})")
            _check_csrf(who)
            return view(*args, **kwargs)
        inner.required_role = role
        return inner
    return wrap


@bp.post("/signin")
def sign_in():
    """Exchange an API token for a page session cookie (form: token, next)."""
    who = tokens.lookup(get_db(), request.form.get("token", "").strip())
    if who is None:
        return _sign_in_page("That token is not valid (or it was revoked).")
    return _set_cookie(redirect(_safe_next(request.form.get("next")), 303), who)


@bp.post("/signout")
def sign_out():
    """Forget the page session cookie (form: csrf). Without the page's csrf field it is 403, so another site
    cannot sign someone out; without a cookie there is nothing to forget."""
    if request.cookies.get(COOKIE):
        _csrf_matches()
    resp = make_response(redirect("/reports", 303))
    resp.delete_cookie(COOKIE, path="/", httponly=True, samesite="Strict")
    return resp
