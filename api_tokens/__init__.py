"""API tokens: who may call the sidecar, with which role (tokens stored hashed)."""
