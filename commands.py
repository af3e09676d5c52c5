"""Every `flask --app app …` command: database, demo data, tokens, index, the Zendesk app package, a simulated
ticket. app.create_app registers them (`register`); each opens its own connection."""
from __future__ import annotations

import json
import random
import sys
from contextlib import nullcontext
from pathlib import Path

import click
import requests
from flask import Flask, current_app
from flask.cli import AppGroup

from api_tokens import tokens
from demo import load as demo_data
from integrations.base import IntegrationError
from integrations.freshdesk import app_package as freshdesk_app_package
from integrations.zendesk import app_package, simulate
from kb import audits
from kb.importers import run as file_import
from store import connect, migrate, write
from store.db import applied
from suggest.analysis import LANGUAGES
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
@click.option("--expires-in-days", type=click.IntRange(1, 3650), help="The token stops working after this many days.")
def create_token(name: str, role: str, expires_in_days: int | None) -> None:
    """Create an API token for NAME with a role; prints the token once. Also how an operator gets admin access
    back when every admin token was revoked."""
    try:
        click.echo(tokens.create(_db().conn, name, role, expires_at=tokens.expiry(expires_in_days=expires_in_days)))
    except tokens.TokenError as exc:
        raise click.ClickException(str(exc)) from None


@cli.command("revoke-token")
@click.argument("token_id", type=int)
def revoke_token(token_id: int) -> None:
    """Revoke the API token with this id (GET /api/tokens lists them): its calls, sessions and sign-in cookies
    stop working at once."""
    try:
        gone = tokens.revoke(_db().conn, token_id)
    except tokens.TokenError as exc:
        raise click.ClickException(str(exc)) from None
    if gone is None:
        raise click.ClickException(f"no token {token_id}")
    click.echo(f"revoked token {token_id} ({gone['name']}, {gone['role']})")


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


@cli.command("freshdesk-app")
@click.option("--out", "out_dir", default="dist", show_default=True, type=click.Path(file_okay=False),
              help="Folder for freshdesk-app/ and knowledge-sidecar-freshdesk.zip.")
def freshdesk_app(out_dir: str) -> None:
    """Write the Freshworks app (Platform 3.0) for Freshdesk's ticket sidebar to dist/."""
    config = _cfg()
    result = freshdesk_app_package.build(config, Path(out_dir))
    click.echo(f"wrote {result['folder']}/ ({', '.join(result['files'])})")
    click.echo(f"wrote {result['zip']}  (sidecar API: {freshdesk_app_package.public_url(config)}/api/tickets/...)")
    for warning in result["warnings"]:
        click.echo(f"warning: {warning}", err=True)
    click.echo("next: in the folder run `fdk validate` and `fdk pack`, then Freshdesk Admin > Apps > Custom apps > "
               "upload it; at install paste an agent API token (flask --app app create-token freshdesk-app --role "
               "agent) as the Knowledge Sidecar API token (README: Other helpdesks).")


@cli.command("audit")
@click.option("--json", "as_json", is_flag=True, help="Print the run as JSON instead of a readable list.")
def audit(as_json: bool) -> None:
    """Audit the knowledge base now (stale, unused, long-open flags, near-duplicates, missing translations) and
    queue each owner's digest; prints the findings by kind."""
    conn = _db().conn
    try:
        done = audits.run(conn, _cfg(), "cli")
    finally:
        conn.close()
    click.echo(json.dumps(done, ensure_ascii=False, indent=2) if as_json else audits.report_text(done))


@cli.command("import")
@click.argument("path", type=click.Path(exists=True, path_type=Path))
@click.option("--dry-run", is_flag=True, help="Read and check everything, report what would change, store nothing.")
@click.option("--language", type=click.Choice(sorted(LANGUAGES)),
              help="Language of the articles that name none (default: detected from their text).")
@click.option("--changed-by", default="import", show_default=True, help="Who the new versions are recorded as.")
def import_files(path: Path, dry_run: bool, language: str | None, changed_by: str) -> None:
    """Import articles from a file or a folder: JSON, JSON Lines, CSV, Markdown with front matter, HTML (cleaned).
    A re-import updates in place by external_id (a new version); near-duplicates are reported, never merged.
    Exits 1 when nothing could be imported because of errors."""
    cfg = _cfg()
    reading = file_import.read_path(path, language)
    conn = _db().conn
    try:
        shown = sys.stdout.isatty() and reading.entries
        with (click.progressbar(length=len(reading.entries), label="importing") if shown else nullcontext()) as bar:
            report = file_import.import_reading(conn, reading, cfg["suggest"]["default_language"], changed_by,
                                                cfg["audit"]["duplicate_threshold"], dry_run,
                                                progress=bar.update if bar else None)
    finally:
        conn.close()
    click.echo("\n".join(file_import.summary(report)))
    if report.total("errors") and not any(report.total(k) for k in ("created", "updated", "skipped")):
        raise SystemExit(1)


def register(app: Flask) -> None:
    for cmd in cli.commands.values():
        app.cli.add_command(cmd)
