"""Zendesk: webhook intake (webhook.py), write-back through zenpy (client.py), trigger body, app package."""
