"""Errors as JSON for machines (API, webhooks), as short pages for people."""
from __future__ import annotations

from flask import jsonify, render_template, request
from werkzeug.exceptions import HTTPException

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


def register(app) -> None:
    app.register_error_handler(HTTPException, handle_http)
