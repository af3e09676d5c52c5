"""Who may do what: API tokens (stored hashed) with a role each."""
