"""Notices out of the sidecar: e-mail over SMTP (notify/email.py) or a signed webhook (notify/webhook.py), behind one
Notifier (notify/client.py) that the worker drains as integration "notify". On the integrations floor: it knows no
kb/ and no HTTP routes, and raises only integrations.base.TransientError / PermanentError, so the worker's one retry
loop decides when to try again."""
