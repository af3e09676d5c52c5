"""Every `flask --app app …` command: database, demo data, tokens, index, the Zendesk app package, a simulated
ticket. app.create_app registers them (`register`); each opens its own connection."""
from __future__ import annotations

import json
import random
from pathlib import Path

import click
import requests
from flask import Flask, current_app
from flask.cli import AppGroup

from api_tokens import tokens
from demo import load as demo_data
from integrations.base import IntegrationError
from integrations.zendesk import app_package, simulate
from store import connect, migrate, write
from store.db import applied
from suggest.index import rebuild
from sync import help_center
from sync import macros as macro_sync

cli = AppGroup("sidecar", help="Every command of the sidecar (each runs inside the app context).")


def _cfg() -> dict:
    return current_app.config["KS"]


def _db():
    return connect(_cfg()["database"])


@cli.command("init-db")
def init_db() -> None:
    """Create or migrate the database at KS_DATABASE."""
    db = _db()
    migrate(db)  # the app factory has usually applied them already; this reports where the schema stands
    done = applied(db)
    click.echo(f"database {_cfg()['database']}: schema at {done[-1]} ({len(done)} migrations applied)")


@cli.command("demo")
def demo() -> None:
    """Load the demo taxonomy, articles (en/de/pl/ru), macros and mapping rules; running it again changes nothing."""
    db = _db()
    try:
        click.echo(demo_data.describe(demo_data.load(db.conn, _cfg()["suggest"]["default_language"])))
    finally:
        db.conn.close()


@cli.command("create-token")
@click.argument("name")
@click.option("--role", type=click.Choice(tokens.ROLES), default="agent", show_default=True)
def create_token(name: str, role: str) -> None:
    """Create an API token for NAME with a role; prints the token once."""
    click.echo(tokens.create(_db().conn, name, role))


@cli.command("rebuild-index")
def rebuild_index() -> None:
    """Re-analyse every article and macro into the search index."""
    conn = _db().conn
    with write(conn):
        n = rebuild(conn)
    click.echo(f"indexed {n} articles and macros")


@cli.command("simulate-ticket")
@click.argument("subject")
@click.argument("description", default="")
@click.option("--id", "ticket_id", help="Zendesk ticket id (default: a random one)")
@click.option("--tag", "tags", multiple=True, help="ticket tag (repeatable)")
@click.option("--locale", help="requester locale, e.g. de-DE")
@click.option("--url", help="base URL of the running app (default: server.public_url)")
def simulate_ticket(subject, description, ticket_id, tags, locale, url) -> None:
    """Send a signed Zendesk ticket.created webhook to the running app."""
    cfg = _cfg()
    secret = cfg["zendesk"]["webhook_secret"]
    if not secret:
        raise click.ClickException("set KS_ZENDESK_WEBHOOK_SECRET (make run prints the one it uses)")
    base = (url or cfg["server"]["public_url"]).rstrip("/")
    ticket_id = ticket_id or str(random.randint(100000, 999999))
    raw = simulate.ticket_created(ticket_id, subject, description, tags, locale)
    try:
        resp = requests.post(base + "/webhooks/zendesk", data=raw, headers=simulate.signed_headers(raw, secret),
                             timeout=30)
    except requests.RequestException as exc:
        raise click.ClickException(f"could not reach {base}: {exc}") from None
    click.echo(f"{resp.status_code} {resp.text.strip()}")
    if resp.status_code >= 300:
        raise SystemExit(1)
    click.echo(f"ticket {ticket_id}: {base}/demo/tickets/{ticket_id}")


@cli.command("zendesk-import")
@click.argument("what", type=click.Choice(["help-center", "macros"]))
def zendesk_import(what: str) -> None:
    """Import from the Zendesk account now: Help Center sections and articles, or macros (as drafts)."""
    conn = _db().conn
    try:
        if what == "help-center":
            result = help_center.run_import(conn, _cfg(), actor="cli")
        else:
            result = macro_sync.import_now(conn, _cfg(), actor="cli")
    except (help_center.NotConfigured, macro_sync.NotConfigured, IntegrationError) as exc:
        raise click.ClickException(str(exc)) from None
    finally:
        conn.close()
    click.echo(json.dumps(result, ensure_ascii=False, indent=2))


@cli.command("zendesk-app")
@click.option("--out", "out_dir", default="dist", show_default=True, type=click.Path(file_okay=False),
              help="Folder for zendesk-app/ and knowledge-sidecar.zip.")
@click.option("--author-name", default="Knowledge Sidecar", show_default=True, help="Shown as the app's author.")
@click.option("--author-email", default="", help="Support contact shown in Zendesk (default: zendesk.email).")
def zendesk_app(out_dir: str, author_name: str, author_email: str) -> None:
    """Write the uploadable Zendesk app (ZAF v2) for the ticket sidebar to dist/."""
    config = _cfg()
    result = app_package.build(config, Path(out_dir), author_name, author_email)
    click.echo(f"wrote {result['folder']}/ ({', '.join(result['files'])})")
    click.echo(f"wrote {result['zip']}  (sidebar URL: {app_package.widget_url(config)})")
    for warning in result["warnings"]:
        click.echo(f"warning: {warning}", err=True)
    click.echo("next: Zendesk Admin Center > Apps and integrations > Zendesk Support apps > Upload private app, "
               "choose the zip and install it; then read the app id and installation id from "
               f"https://{config['zendesk']['subdomain'] or '<subdomain>'}.zendesk.com/api/v2/apps/installations.json "
               "and set KS_ZENDESK_APP_ID and KS_ZENDESK_APP_INSTALLATION_ID here (README: Connecting Zendesk).")


def register(app: Flask) -> None:
    for cmd in cli.commands.values():
        app.cli.add_command(cmd)
