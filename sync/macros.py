"""Zendesk macros both ways: import the account's macros as drafts, push ours as Zendesk macros (outbox)."""
from __future__ import annotations

# Outbox job kind -> handler(conn, cfg, client, job), merged into jobs/worker.py's HANDLERS.
HANDLERS: dict = {}
