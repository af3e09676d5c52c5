"""Freshdesk: automation-rule webhooks in (webhook.py, rule.py), private notes and tags out through the REST API v2
(client.py), and the Freshworks sidebar app (app_package.py)."""
