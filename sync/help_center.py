"""Zendesk Help Center both ways: import sections and articles, publish validated public articles (outbox)."""
from __future__ import annotations

# Outbox job kind -> handler(conn, cfg, client, job), merged into jobs/worker.py's HANDLERS.
HANDLERS: dict = {}
