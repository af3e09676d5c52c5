"""For team leads: the reuse report as JSON / CSV (API) and as the /reports page."""
from __future__ import annotations

from flask import Blueprint, Response, abort, jsonify, render_template, request, url_for

from tickets import reports
from web import signin, trend_chart
from web.auth import require
from web.db import get_db

bp = Blueprint("reports", __name__)


def _params() -> tuple:
    """(start, end, group, integration) from the query string; ReportError on bad values."""
    start, end = reports.parse_range(request.args.get("from"), request.args.get("to"))
    return (start, end, reports.parse_group(request.args.get("group")),
            reports.parse_integration(request.args.get("integration")))


def _csv(report: dict, group: str) -> Response:
    resp = Response(reports.csv_text(report, group), mimetype="text/csv")
    resp.headers["Content-Disposition"] = f'attachment; filename="{reports.csv_filename(report, group)}"'
    return resp


@bp.get("/api/reports/reuse")
@require("lead")
def reuse():
    """Reuse report: ?from=YYYY-MM-DD&to=YYYY-MM-DD&group=node|agent|week|integration&integration=<name>
    &format=json|csv (lead)."""
    try:
        start, end, group, integration = _params()
    except reports.ReportError as exc:
        abort(400, description=str(exc))
    fmt = request.args.get("format", "json")
    if fmt not in ("json", "csv"):
        abort(400, description=f"format must be json or csv, got {fmt!r}")
    report = reports.reuse_report(get_db(), start, end, integration)
    if fmt == "csv":
        return _csv(report, group)
    return jsonify({**report, "group": group})


@bp.get("/reports/export.csv")
@signin.page("lead")
def export():
    """The report's group as a CSV download, for the page's links (signed-in leads)."""
    try:
        start, end, group, integration = _params()
    except reports.ReportError as exc:
        abort(400, description=str(exc))
    return _csv(reports.reuse_report(get_db(), start, end, integration), group)


@bp.get("/reports")
@signin.page("lead")
def page():
    """The reuse report page: totals, trend chart, by node, by agent, knowledge gaps."""
    try:
        start, end, _group, integration = _params()
    except reports.ReportError as exc:
        return render_template("reports.html", error=str(exc), report=None, who=signin.page_actor(),
                               args=request.args), 400
    report = reports.reuse_report(get_db(), start, end, integration)
    links = {g: url_for("reports.export", group=g, **{"from": report["from"], "to": report["to"]},
                        **({"integration": integration} if integration else {}))
             for g in reports.GROUPS}
    return render_template("reports.html", error=None, report=report, chart=trend_chart.weekly(report["by_week"]),
                           who=signin.page_actor(), args=request.args, definitions=DEFINITIONS, csv_links=links,
                           csrf=signin.csrf_token())


DEFINITIONS = [
    ("Tickets with suggestions", "tickets with a stored suggestion set holding at least one article, "
                                 "created in the range"),
    ("Tickets with reuse", "tickets with at least one reused event (an agent linked an article) in the range"),
    ("Reuse rate", "tickets with reuse ÷ tickets with suggestions (0 when there are none); a reuse found by "
                   "search on a ticket without suggestions still counts, so a rate can pass 100%"),
    ("Knowledge gaps", "tickets whose suggestion sets in the range held no article; nodes with tickets "
                       "but no reuse or no articles"),
    ("Flags, creates, macro inserts, searches", "flagged, created, macro_inserted and searched events in "
                                                "the range"),
    ("Node", "the taxonomy node the ticket is mapped to now"),
    ("Weeks", "start on Monday; a ticket counts in the week of its first suggestion set or reuse"),
]
