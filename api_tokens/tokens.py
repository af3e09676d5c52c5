"""API tokens. Only a SHA-256 of each token is stored; the token itself is shown once.

Roles and what they may do (a role includes the ones listed before it where it says so):
- agent: suggestions, ticket events, the widget
- lead: what an agent may, plus reports
- publisher: what a lead may, plus articles and macros
- admin: everything, including taxonomy, mapping rules and tokens

A token is live until it is revoked or its expiry passes. Sessions and sign-in cookies issued from a token carry
its id and are checked against this table on every request (live()), so revoking a token ends them at once.
A revoked token is never brought back: creating a token whose hash is already stored changes nothing, which is
what keeps a revoked bootstrap KS_ADMIN_TOKEN revoked across restarts.
"""
from __future__ import annotations

import hashlib
import hmac
import logging
import secrets
import sqlite3
from datetime import UTC, datetime, timedelta

from store import now, write
from store.clock import stamp

ROLES = ("agent", "lead", "publisher", "admin")
RANK = {role: i for i, role in enumerate(ROLES)}
MAX_DAYS = 3650
RECOVER_HINT = "flask --app app create-token NAME --role admin"
COLUMNS = ("id", "name", "role", "created_at", "revoked_at", "expires_at")

log = logging.getLogger(__name__)


class TokenError(ValueError):
    pass


class LastAdmin(TokenError):
    """Revoking would leave the installation without a live admin token."""


def digest(token: str) -> str:
    return hashlib.sha256(token.encode("utf-8")).hexdigest()


def allows(role: str, needed: str) -> bool:
    return RANK.get(role, -1) >= RANK[needed]


def expiry(expires_at=None, expires_in_days=None) -> str | None:
    """The stored stamp a new token expires at, from an ISO date ("2027-01-31": from 00:00 UTC that day on) or
    datetime (no offset: UTC), or a number of whole days from now; None when neither is given. It must lie ahead."""
    if expires_at not in (None, "") and expires_in_days is not None:
        raise TokenError("give expires_at or expires_in_days, not both")
    if expires_in_days is not None:
        if isinstance(expires_in_days, bool) or not isinstance(expires_in_days, int) \
                or not 1 <= expires_in_days <= MAX_DAYS:
            raise TokenError(f"expires_in_days must be a whole number from 1 to {MAX_DAYS}")
        return stamp(datetime.now(UTC) + timedelta(days=expires_in_days))
    if expires_at in (None, ""):
        return None
    text = expires_at.strip() if isinstance(expires_at, str) else ""
    try:
        if not text.isascii() or len(text) > 40:
            raise ValueError
        moment = datetime.fromisoformat(text.replace("Z", "+00:00"))
    except ValueError:
        raise TokenError(f"expires_at must be an ISO date or date and time, e.g. 2027-01-31 or "
                         f"2027-01-31T18:00:00Z; got {expires_at!r}") from None
    if not 1 < moment.year < 9999:
        raise TokenError("expires_at must lie between the years 1 and 9999")
    when = stamp(moment)
    if when <= now():
        raise TokenError(f"expires_at must lie in the future (it is {now()} now); got {when}")
    return when


def create(conn: sqlite3.Connection, name: str, role: str, token: str | None = None,
           expires_at: str | None = None) -> str:
    """A new token for `name` with `role` (a random one unless `token` is given, as KS_ADMIN_TOKEN is).

    When the given token is already stored nothing changes: a live one stays as it is, and a revoked one stays
    revoked (logged with how to get admin access again)."""
    if role not in ROLES:
        raise TokenError(f"role must be one of {list(ROLES)}, got {role!r}")
    if not name or not name.strip():
        raise TokenError("a token needs a name (who or what uses it)")
    token = token or "ks_" + secrets.token_urlsafe(24)
    with write(conn):
        added = conn.execute("INSERT INTO api_tokens (name, role, token_hash, created_at, expires_at) "
                             "VALUES (?, ?, ?, ?, ?) ON CONFLICT(token_hash) DO NOTHING",
                             (name.strip(), role, digest(token), now(), expires_at)).rowcount
        if not added:
            row = conn.execute("SELECT id, name, revoked_at FROM api_tokens WHERE token_hash = ?",
                               (digest(token),)).fetchone()
    if not added and row[2]:
        log.warning("API token %r (id %s) was revoked at %s and is not re-created. To get admin access again, "
                    "run: %s", row[1], row[0], row[2], RECOVER_HINT)
    return token


def _live_clause() -> tuple[str, tuple]:
    return "revoked_at IS NULL AND (expires_at IS NULL OR expires_at > ?)", (now(),)


def lookup(conn: sqlite3.Connection, token: str) -> dict | None:
    """{"id", "name", "role"} for a live token (not revoked, not expired), else None. The hash lookup is by
    index; compare_digest guards the final equality."""
    if not token:
        return None
    hashed = digest(token)
    live, args = _live_clause()
    row = conn.execute(f"SELECT id, name, role, token_hash FROM api_tokens WHERE token_hash = ? AND {live}",
                       (hashed, *args)).fetchone()
    if row and hmac.compare_digest(row[3], hashed):
        return {"id": row[0], "name": row[1], "role": row[2]}
    return None


def live(conn: sqlite3.Connection, token_id: int) -> bool:
    """Whether the token a session was issued from is still live: one lookup by primary key."""
    if isinstance(token_id, bool) or not isinstance(token_id, int):
        return False
    clause, args = _live_clause()
    return conn.execute(f"SELECT 1 FROM api_tokens WHERE id = ? AND {clause}", (token_id, *args)).fetchone() \
        is not None


def revoke(conn: sqlite3.Connection, token_id: int) -> dict | None:
    """Revoke a token by id; its sessions and sign-in cookies stop working with the next request. Revoking a
    revoked token changes nothing (its first revoked_at stays). None for an unknown id. Raises LastAdmin rather
    than revoke the last live admin token: an installation must keep one admin."""
    with write(conn):
        row = conn.execute(f"SELECT {', '.join(COLUMNS)} FROM api_tokens WHERE id = ?", (token_id,)).fetchone()
        if row is None:
            return None
        token = dict(zip(COLUMNS, row))
        if token["revoked_at"] is not None:
            return token
        clause, args = _live_clause()
        other_admin = conn.execute(f"SELECT 1 FROM api_tokens WHERE role = 'admin' AND id != ? AND {clause}",
                                   (token_id, *args)).fetchone()
        if token["role"] == "admin" and status(token) == "live" and other_admin is None:
            raise LastAdmin(f"token {token_id} ({token['name']}) is the last live admin token: an installation "
                            "must keep one admin. Create another admin token first, then revoke this one.")
        token["revoked_at"] = now()
        conn.execute("UPDATE api_tokens SET revoked_at = ? WHERE id = ?", (token["revoked_at"], token_id))
    return token


def status(token: dict, at: str | None = None) -> str:
    """live, revoked or expired."""
    if token["revoked_at"]:
        return "revoked"
    if token["expires_at"] and token["expires_at"] <= (at or now()):
        return "expired"
    return "live"


def listing(conn: sqlite3.Connection) -> list[dict]:
    """Every token (never its hash) with its status, in the order they were made."""
    at = now()
    rows = conn.execute(f"SELECT {', '.join(COLUMNS)} FROM api_tokens ORDER BY id").fetchall()
    return [dict(token, status=status(token, at)) for token in (dict(zip(COLUMNS, r)) for r in rows)]
