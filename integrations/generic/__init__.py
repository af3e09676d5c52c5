"""Any tool that can send a JSON webhook: per-source configuration (config.py) and the receiver (webhook.py)."""
