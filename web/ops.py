"""For operators: health, Prometheus metrics, the OpenAPI description of every route."""
from __future__ import annotations

from flask import Blueprint, Response, current_app, jsonify

from tickets import stats
from web.db import get_db
from web.openapi import describe

bp = Blueprint("ops", __name__)


@bp.get("/healthz")
def healthz():
    """Liveness: answers without touching the database."""
    return jsonify({"status": "ok"})


@bp.get("/metrics")
def metrics():
    """Counts in the Prometheus text format."""
    figures = stats.gauges(get_db())
    lines = []

    def gauge(name: str, help_text: str, samples: list[tuple[str, float]]) -> None:
        lines.append(f"# HELP {name} {help_text}")
        lines.append(f"# TYPE {name} gauge")
        for labels, value in samples:
            lines.append(f"{name}{labels} {value}")

    gauge("ks_articles", "Articles by KCS state.",
          [(f'{{state="{s}"}}', n) for s, n in figures["articles_by_state"].items()])
    gauge("ks_tickets", "Tickets seen.", [("", figures["tickets"])])
    gauge("ks_events", "Agent events by kind.", [(f'{{kind="{k}"}}', n) for k, n in figures["events_by_kind"].items()])
    gauge("ks_outbox_jobs", "Write-back jobs by state.",
          [(f'{{state="{s}"}}', n) for s, n in figures["outbox_by_state"].items()])
    gauge("ks_webhook_deliveries", "Webhook deliveries by status.",
          [(f'{{status="{s}"}}', n) for s, n in figures["deliveries_by_status"].items()])
    return Response("\n".join(lines) + "\n", mimetype="text/plain; version=0.0.4")


@bp.get("/openapi.json")
def openapi():
    """This description."""
    return jsonify(describe(current_app))
