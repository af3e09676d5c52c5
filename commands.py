"""`flask --app app …` commands: database, demo data, tokens, index, the Zendesk app package, a simulated ticket."""
from __future__ import annotations

import click
from flask import Flask, current_app

from access import tokens
from store import connect, migrate


def _db():
    return connect(current_app.config["KS"]["database"])


@click.command("init-db")
def init_db() -> None:
    """Create or migrate the database at KS_DATABASE."""
    db = _db()
    ran = migrate(db)
    click.echo(f"database {current_app.config['KS']['database']}: "
               + (f"applied {', '.join(ran)}" if ran else "up to date"))


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


def register(app: Flask) -> None:
    for cmd in (init_db, create_token, rebuild_index):
        app.cli.add_command(cmd)
