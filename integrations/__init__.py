"""Helpdesk integrations: one package per helpdesk, each implementing integrations.base."""
