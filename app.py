"""Knowledge Sidecar: the Flask application factory, and the one place the app is wired together.

    flask --app app init-db      create or migrate the database (KS_DATABASE)
    flask --app app demo         load the demo taxonomy, articles, macros and mapping rules
    gunicorn "app:create_app()"  serve

Every blueprint is registered here, flat (BLUEPRINTS); every `flask` command in commands.py.
"""
from __future__ import annotations

from flask import Flask

import commands
import settings
from api_tokens import tokens
from store import connect, migrate
from web import (
    admin,
    admin_pages,
    api,
    articles_api,
    audits_api,
    demo,
    errors,
    help_center_api,
    knowledge_pages,
    macro_api,
    macro_sync_api,
    ops,
    reports,
    signin,
    webhooks,
    widget,
)
from web.db import close_db

# One blueprint per audience: operators, the API (agents, integrators, publishers), helpdesk webhooks, the
# agent's sidebar, admins (JSON and pages), signing in, team leads, the demo ticket page.
BLUEPRINTS = (ops, api, articles_api, audits_api, macro_api, macro_sync_api, help_center_api, webhooks, widget, admin,
              admin_pages, knowledge_pages, signin, reports, demo)


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

    app.teardown_appcontext(close_db)
    errors.register(app)
    for module in BLUEPRINTS:
        app.register_blueprint(module.bp)
    commands.register(app)
    return app
