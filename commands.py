"""`flask --app app …` commands: database, demo data, tokens, index, the Zendesk app package, a simulated ticket."""
from __future__ import annotations

import click
from flask import Flask, current_app

from access import tokens
from demo.load import command as demo_command
from store import connect, migrate
from web.widget import zendesk_app_command


def _db():
    return connect(current_app.config["KS"]["database"])


@click.command("init-db")
def init_db() -> None:
    """Create or migrate the database at KS_DATABASE."""
    from store.db import applied

    db = _db()
    migrate(db)  # the app factory has usually applied them already; this reports where the schema stands
    done = applied(db)
    click.echo(f"database {current_app.config['KS']['database']}: schema at {done[-1]} "
               f"({len(done)} migrations applied)")


@click.command("create-token")
@click.argument("name")
@click.option("--role", type=click.Choice(tokens.ROLES), default="agent", show_default=True)
def create_token(name: str, role: str) -> None:
    """Create an API token for NAME with a role; prints the token once."""
    click.echo(tokens.create(_db().conn, name, role))


@click.command("rebuild-index")
def rebuild_index() -> None:
    """Re-analyse every article and macro into the search index."""
    from store import write
    from suggest.index import rebuild

    conn = _db().conn
    with write(conn):
        n = rebuild(conn)
    click.echo(f"indexed {n} articles and macros")


@click.command("simulate-ticket")
@click.argument("subject")
@click.argument("description", default="")
@click.option("--id", "ticket_id", help="Zendesk ticket id (default: a random one)")
@click.option("--tag", "tags", multiple=True, help="ticket tag (repeatable)")
@click.option("--locale", help="requester locale, e.g. de-DE")
@click.option("--url", help="base URL of the running app (default: server.public_url)")
def simulate_ticket(subject, description, ticket_id, tags, locale, url) -> None:
    """Send a signed Zendesk ticket.created webhook to the running app."""
    import random

    import requests

    from integrations.zendesk import simulate

    cfg = current_app.config["KS"]
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


def register(app: Flask) -> None:
    for cmd in (init_db, create_token, rebuild_index, simulate_ticket):
        app.cli.add_command(cmd)
    app.cli.add_command(demo_command)
    app.cli.add_command(zendesk_app_command)
