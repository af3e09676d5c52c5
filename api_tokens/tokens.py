"""API tokens. Only a SHA-256 of each token is stored; the token itself is shown once.

Roles and what they may do (a role includes the ones listed before it where it says so):
- agent: suggestions, ticket events, the widget
- lead: what an agent may, plus reports
- publisher: what a lead may, plus articles and macros
- admin: everything, including taxonomy, mapping rules and tokens
"""
from __future__ import annotations

import hashlib
import hmac
import secrets
import sqlite3

from store import now, write

ROLES = ("agent", "lead", "publisher", "admin")
RANK = {role: i for i, role in enumerate(ROLES)}


class TokenError(ValueError):
    pass


def digest(token: str) -> str:
    return hashlib.sha256(token.encode("utf-8")).hexdigest()


def allows(role: str, needed: str) -> bool:
    return RANK.get(role, -1) >= RANK[needed]


def create(conn: sqlite3.Connection, name: str, role: str, token: str | None = None) -> str:
    if role not in ROLES:
        raise TokenError(f"role must be one of {list(ROLES)}, got {role!r}")
    if not name or not name.strip():
        raise TokenError("a token needs a name (who or what uses it)")
    token = token or "ks_" + secrets.token_urlsafe(24)
    with write(conn):
        conn.execute("INSERT INTO api_tokens (name, role, token_hash, created_at) VALUES (?, ?, ?, ?) "
                     "ON CONFLICT(token_hash) DO UPDATE SET role = excluded.role, revoked_at = NULL",
                     (name.strip(), role, digest(token), now()))
    return token


def lookup(conn: sqlite3.Connection, token: str) -> dict | None:
    """{"name", "role"} for a live token, else None. The hash lookup is by index; compare_digest
    guards the final equality."""
    if not token:
        return None
    hashed = digest(token)
    row = conn.execute("SELECT name, role, token_hash FROM api_tokens WHERE token_hash = ? AND revoked_at IS NULL",
                       (hashed,)).fetchone()
    if row and hmac.compare_digest(row[2], hashed):
        return {"name": row[0], "role": row[1]}
    return None


def revoke(conn: sqlite3.Connection, name: str) -> int:
    with write(conn):
        return conn.execute("UPDATE api_tokens SET revoked_at = ? WHERE name = ? AND revoked_at IS NULL",
                            (now(), name)).rowcount


def listing(conn: sqlite3.Connection) -> list[dict]:
    rows = conn.execute("SELECT id, name, role, created_at, revoked_at FROM api_tokens ORDER BY id").fetchall()
    return [dict(zip(("id", "name", "role", "created_at", "revoked_at"), r)) for r in rows]
