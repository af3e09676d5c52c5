"""How to reach the people named in events, owners and flags: their display name, e-mail and locale.

A person is named as events record them: an API token's name, or a helpdesk agent's id
("zendesk:acme:user:42"). The sidebar sign-in fills in what Zendesk says about an agent; an admin can set an
e-mail for anyone (PUT /api/people/<name>). Owns the table people.
"""
from __future__ import annotations

import re
import sqlite3

from store import now, write
from store.values import checked_text

EMAIL_RE = re.compile(r"^[^@\s]+@[^@\s]+\.[^@\s]+$")
COLUMNS = ("name", "display_name", "email", "locale", "updated_at")


class PersonError(ValueError):
    pass


def remember(conn: sqlite3.Connection, name: str, display_name: str = "", email: str = "", locale: str = "") -> None:
    """Keep what is known of a person; a value not given (empty) leaves the stored one."""
    if not name:
        return
    with write(conn):
        conn.execute("INSERT INTO people (name, display_name, email, locale, updated_at) VALUES (?, ?, ?, ?, ?) "
                     "ON CONFLICT(name) DO UPDATE SET "
                     "display_name = CASE WHEN excluded.display_name != '' THEN excluded.display_name "
                     "ELSE people.display_name END, "
                     "email = CASE WHEN excluded.email != '' THEN excluded.email ELSE people.email END, "
                     "locale = CASE WHEN excluded.locale != '' THEN excluded.locale ELSE people.locale END, "
                     "updated_at = excluded.updated_at",
                     (name[:200], display_name[:200], email[:300], locale[:20], now()))


def set_contact(conn: sqlite3.Connection, name: str, data: dict) -> dict:
    """An admin sets a person's display name, e-mail or locale: {"display_name"?, "email"?, "locale"?}."""
    if not isinstance(data, dict):
        raise PersonError("the body must be an object")
    values = {}
    for key in ("display_name", "email", "locale"):
        value = data.get(key)
        if value is None:
            continue
        if not isinstance(value, str):
            raise PersonError(f"{key} must be text")
        value = checked_text(value, key, PersonError).strip()
        if key == "email" and value and not EMAIL_RE.match(value):
            raise PersonError(f"email {value!r} is not an e-mail address")
        values[key] = value
    name = checked_text(name, "name", PersonError).strip()
    if not name:
        raise PersonError("a person needs a name")
    remember(conn, name, **values)
    if values.get("email") == "" and "email" in values:
        with write(conn):
            conn.execute("UPDATE people SET email = '' WHERE name = ?", (name,))
    return get(conn, name)


def get(conn: sqlite3.Connection, name: str) -> dict | None:
    row = conn.execute(f"SELECT {', '.join(COLUMNS)} FROM people WHERE name = ?", (name,)).fetchone()
    return dict(zip(COLUMNS, row)) if row else None


def display(conn: sqlite3.Connection, name: str) -> str:
    """The name to show for a person: the display name we know, else the name itself."""
    person = get(conn, name) if name else None
    return (person or {}).get("display_name") or name


def listing(conn: sqlite3.Connection) -> list[dict]:
    return [dict(zip(COLUMNS, r)) for r in conn.execute(f"SELECT {', '.join(COLUMNS)} FROM people ORDER BY name")]
