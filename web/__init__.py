"""HTTP: one blueprint per audience (helpdesk webhooks, agents' API and widget, admins, leads, operators)."""
