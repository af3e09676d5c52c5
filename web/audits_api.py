"""The knowledge audit over HTTP: the latest run (or one by id) as JSON for leads, a run now for publishers, and
the /audits page listing the findings by kind (kb.audits does the work; the worker runs it on a schedule)."""
from __future__ import annotations

from flask import Blueprint, abort, jsonify, redirect, render_template, request, url_for

from api_tokens.tokens import allows
from kb import audits
from web import signin
from web.auth import actor, require
from web.db import cfg, get_db
from web.payload import row_id

bp = Blueprint("audits_api", __name__)

NO_RUN = "no audit has run yet: POST /api/audits/run, or flask --app app audit"


def _chosen_run() -> dict:
    """The run ?run=<id> names, else the latest; 404 when there is none."""
    raw = request.args.get("run", "")
    if raw:
        if not (raw.isascii() and raw.isdigit() and len(raw) <= 19):
            abort(400, description="run must be the id of an audit run (a whole number)")
        found = audits.get(get_db(), row_id(int(raw), "audit run"))
        if found is None:
            abort(404, description=f"no audit run {raw}")
        return found
    found = audits.latest(get_db())
    if found is None:
        abort(404, description=NO_RUN)
    return found


@bp.get("/api/audits")
@require("lead")
def latest_audit():
    """The latest knowledge audit (or ?run=<id>): {id, started_at, finished_at, trigger, findings: [{kind,
    article_id, external_id, title, owner, language, detail, ...}], summary: {total, by_kind, owners,
    without_owner, digests, settings}}. Kinds: stale, unused, flag_open, duplicate, missing_translation. 404 when
    no audit has run yet."""
    return jsonify(_chosen_run())


@bp.post("/api/audits/run")
@require("publisher")
def run_audit():
    """Audit the knowledge base now and send each owner a digest; answers the run (201), as GET /api/audits."""
    return jsonify(audits.run(get_db(), cfg(), f"api ({actor()['name']})")), 201


@bp.get("/audits")
@signin.page("lead")
def audits_page():
    """The latest audit's findings by kind, with counts, each with its article and owner; publishers may run
    one now."""
    who = signin.page_actor()
    conn = get_db()
    raw = request.args.get("run", "")
    shown = audits.latest(conn) if not raw else _chosen_run()
    return render_template("audits.html", who=who, csrf=signin.csrf_token(), run=shown,
                           groups=audits.grouped(shown["findings"]) if shown else [],
                           may_run=allows(who["role"], "publisher"), error=None,
                           notice="Audit done." if request.args.get("done") == "run" else None)


@bp.post("/audits/run")
@signin.page("publisher")
def audits_run_now():
    """The page's "Run now" button (publishers): audit now, then show the new run."""
    audits.run(get_db(), cfg(), f"page ({signin.page_actor()['name']})")
    return redirect(url_for(".audits_page", done="run"), 303)
