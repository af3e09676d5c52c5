"""Helpdesk integrations: the contract (base.py), one package per helpdesk, and the registry of them."""
