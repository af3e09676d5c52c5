"""Errors as JSON for machines (API, webhooks), as short pages for people."""
from __future__ import annotations

from flask import current_app, jsonify, render_template, request
from werkzeug.exceptions import BadRequest, HTTPException

from store.values import LONE_SURROGATE_RE

MACHINE_PREFIXES = ("/api/", "/webhooks/", "/healthz", "/metrics", "/openapi.json")


def _wants_json() -> bool:
    return request.path.startswith(MACHINE_PREFIXES) or request.accept_mimetypes.best == "application/json"


def handle_http(exc: HTTPException):
    if _wants_json():
        resp = jsonify({"error": exc.name.lower().replace(" ", "_"), "message": exc.description})
        resp.status_code = exc.code or 500
        if exc.code == 401:
            resp.headers["WWW-Authenticate"] = 'Bearer realm="knowledge-sidecar"'
        return resp
    return render_template("error.html", code=exc.code, name=exc.name, message=exc.description), exc.code


def out_of_range(exc: OverflowError):
    """Safety net behind the precise checks: a number too large for SQLite or a date past year 9999 comes from
    the request, so it is the caller's 400, not a crash. Logged, as it means a check is missing."""
    current_app.logger.warning("%s %s: value out of range: %s", request.method, request.path, exc, exc_info=exc)
    return handle_http(BadRequest(f"a value in the request is out of range ({exc})"))


def not_unicode(exc: UnicodeEncodeError):
    """Safety net: text with a lone surrogate ("\\ud800") cannot be stored or sent as UTF-8. Any other encoding
    failure is ours, and stays a 500."""
    if not isinstance(exc.object, str) or not LONE_SURROGATE_RE.search(exc.object[exc.start:exc.end]):
        raise exc
    current_app.logger.warning("%s %s: text is not Unicode: %s", request.method, request.path, exc, exc_info=exc)
    bad = exc.object[exc.start:exc.end].encode("utf-8", "backslashreplace").decode("utf-8")
    return handle_http(BadRequest(f"the request contains {bad}, a lone surrogate that is not valid Unicode"))


def register(app) -> None:
    app.register_error_handler(HTTPException, handle_http)
    app.register_error_handler(OverflowError, out_of_range)
    app.register_error_handler(UnicodeEncodeError, not_unicode)
