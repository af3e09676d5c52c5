"""Knowledge Sidecar: the Flask application factory.

    flask --app app init-db      create or migrate the database (KS_DATABASE)
    flask --app app demo         load the demo taxonomy, articles, macros and mapping rules
    gunicorn "app:create_app()"  serve
"""
from __future__ import annotations

from flask import Flask

import settings
from access import tokens
from store import connect, migrate


def create_app(config: dict | None = None) -> Flask:
    """Build the app; `config` overrides config.yaml and the KS_* environment (tests pass one)."""
    try:
        cfg = settings.load(config)
    except settings.ConfigError as exc:
        raise SystemExit(f"configuration error: {exc}") from None
    app = Flask(__name__, static_folder="static", template_folder="templates")
    app.config["KS"] = cfg
    app.config["MAX_CONTENT_LENGTH"] = cfg["server"]["max_body_bytes"]
    app.json.sort_keys = False
    app.json.ensure_ascii = False

    db = connect(cfg["database"])
    try:
        migrate(db)
        if cfg["admin_token"]:
            tokens.create(db.conn, "bootstrap admin (KS_ADMIN_TOKEN)", "admin", cfg["admin_token"])
    finally:
        db.conn.close()

    from web import admin, api, demo, errors, ops, reports, webhooks, widget
    from web.db import close_db

    app.teardown_appcontext(close_db)
    errors.register(app)
    for module in (ops, api, webhooks, widget, admin, reports, demo):
        app.register_blueprint(module.bp)

    import commands

    commands.register(app)
    return app
