"""Zammad: trigger webhooks in (webhook.py), internal notes and tags out through the REST API (client.py)."""
