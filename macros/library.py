"""The macro library: upsert on external_id, list, get; the macro search index kept in step.

A macro is {external_id, title, body (a sandboxed Jinja2 template), language, taxonomy: [path], active?}.
"""
from __future__ import annotations

import json
import re
import sqlite3
from pathlib import Path

import yaml

from kb import import_checks, taxonomy
from macros.render import RenderError, check
from store import now, write
from store.values import checked_text
from suggest import index

SHIPPED = Path(__file__).resolve().parent / "shipped"
TEMPLATE_TAG_RE = re.compile(r"\{\{.*?\}\}|\{%.*?%\}|\{#.*?#\}", re.DOTALL)
MAX_TITLE, MAX_BODY = 300, 20_000
COLUMNS = ("id", "external_id", "title", "body", "language", "node_id", "active", "helpdesk_id", "created_at",
           "updated_at", "state", "source")
DRAFT_STATES = ("wip", "not_validated")   # KCS states a helpdesk re-import may still overwrite


class MacroError(ValueError):
    pass


def clean(raw, default_language: str) -> dict:
    """Validate one incoming macro (the template must parse); the row to store or MacroError."""
    if not isinstance(raw, dict):
        raise MacroError("each macro must be a JSON object")
    row = {"external_id": import_checks.external_id(raw, MacroError)}
    for key, limit in (("title", MAX_TITLE), ("body", MAX_BODY)):
        value = raw.get(key)
        if not isinstance(value, str) or not value.strip():
            raise MacroError(f"{key} is required (text)")
        if len(value) > limit:
            raise MacroError(f"{key} is longer than {limit} characters")
        value = checked_text(value, key, MacroError)
        row[key] = value.strip() if key == "title" else value
    try:
        check(row["body"])
    except RenderError as exc:
        raise MacroError(str(exc)) from None
    row["language"] = import_checks.language(raw.get("language"), f"{row['title']} {searchable(row['body'])}",
                                       default_language, MacroError)
    row["taxonomy"] = import_checks.taxonomy_path(raw.get("taxonomy"), MacroError)
    active = raw.get("active", True)
    if not isinstance(active, bool):
        raise MacroError("active must be true or false")
    row["active"] = int(active)
    return row


def searchable(body: str) -> str:
    """The macro's words without its template tags (placeholders are not what customers write)."""
    return TEMPLATE_TAG_RE.sub(" ", body)


def upsert(conn: sqlite3.Connection, row: dict) -> str:
    """Insert or update one cleaned macro inside the caller's transaction; 'created', 'updated' or 'skipped'."""
    row = dict(row)
    row["node_id"] = taxonomy.ensure_path(conn, row.pop("taxonomy", []))
    keys = ("title", "body", "language", "node_id", "active")
    old = conn.execute(f"SELECT id, {', '.join(keys)} FROM macros WHERE external_id = ?",
                       (row["external_id"],)).fetchone()
    stamp = now()
    if old is None:
        cur = conn.execute("INSERT INTO macros (external_id, title, body, language, node_id, active, created_at, "
                           "updated_at) VALUES (?, ?, ?, ?, ?, ?, ?, ?)",
                           (row["external_id"], *(row[k] for k in keys), stamp, stamp))
        row["id"], outcome = cur.lastrowid, "created"
    else:
        if tuple(old[1:]) == tuple(row[k] for k in keys):
            return "skipped"
        row["id"], outcome = old[0], "updated"
        conn.execute(f"UPDATE macros SET {', '.join(f'{k} = ?' for k in keys)}, updated_at = ? WHERE id = ?",
                     (*(row[k] for k in keys), stamp, row["id"]))
    index.put_macro(conn, {"id": row["id"], "title": row["title"], "body": searchable(row["body"]),
                           "language": row["language"]})
    return outcome


def import_macros(conn: sqlite3.Connection, items: list, default_language: str) -> dict:
    """Upsert a batch in one transaction; bad items are reported with their position and skipped."""
    result = {"created": 0, "updated": 0, "skipped": 0, "errors": []}
    with write(conn):
        for i, raw in enumerate(items):
            try:
                result[upsert(conn, clean(raw, default_language))] += 1
            except (MacroError, taxonomy.TaxonomyError) as exc:
                ext = raw.get("external_id") if isinstance(raw, dict) else None
                result["errors"].append({"index": i, "external_id": ext, "error": str(exc)})
    return result


def upsert_from_helpdesk(conn: sqlite3.Connection, row: dict, source: str, helpdesk_id: str) -> str:
    """Store a macro read from a helpdesk (a cleaned row: external_id, title, body, language) as a draft, inside the
    caller's transaction, keyed on (source, helpdesk_id): 'created', 'updated', 'skipped' (unchanged) or 'kept'.

    A new one is work in progress and inactive (KCS: not suggested until a publisher validates it). A re-import
    updates a draft in place; once a publisher has validated or archived it, the sidecar's copy is the one that
    counts and the helpdesk's text never overwrites it ('kept')."""
    helpdesk_id = str(helpdesk_id)
    keys = ("title", "body", "language")
    old = conn.execute("SELECT id, state, title, body, language FROM macros WHERE source = ? AND helpdesk_id = ?",
                       (source, helpdesk_id)).fetchone()
    stamp = now()
    if old is None:
        taken = conn.execute("SELECT id FROM macros WHERE external_id = ?", (row["external_id"],)).fetchone()
        if taken:
            raise MacroError(f"external_id {row['external_id']!r} is already used by macro {taken[0]}")
        macro_id = conn.execute(
            "INSERT INTO macros (external_id, title, body, language, node_id, active, helpdesk_id, state, source, "
            "created_at, updated_at) VALUES (?, ?, ?, ?, NULL, 0, ?, 'wip', ?, ?, ?)",
            (row["external_id"], *(row[k] for k in keys), helpdesk_id, source, stamp, stamp)).lastrowid
        outcome = "created"
    elif old[1] not in DRAFT_STATES:
        return "kept"
    elif tuple(old[2:]) == tuple(row[k] for k in keys):
        return "skipped"
    else:
        macro_id, outcome = old[0], "updated"
        conn.execute(f"UPDATE macros SET {', '.join(f'{k} = ?' for k in keys)}, updated_at = ? WHERE id = ?",
                     (*(row[k] for k in keys), stamp, macro_id))
    index.put_macro(conn, {"id": macro_id})
    return outcome


def find_by_helpdesk_id(conn: sqlite3.Connection, source: str, helpdesk_id: str) -> dict | None:
    """The macro of this source that has this helpdesk id (the newest, should there be several)."""
    found = _rows(conn, "WHERE m.source = ? AND m.helpdesk_id = ?", (source, str(helpdesk_id)))
    return max(found, key=lambda m: m["id"]) if found else None


def helpdesk_ids(conn: sqlite3.Connection, source: str) -> set[str]:
    """The helpdesk ids recorded on the macros of one source (e.g. ours, 'sidecar', after a push)."""
    return {r[0] for r in conn.execute("SELECT helpdesk_id FROM macros WHERE source = ? AND helpdesk_id IS NOT NULL "
                                       "AND helpdesk_id != ''", (source,))}


STATES = ("wip", "not_validated", "validated", "archived")


def set_state(conn: sqlite3.Connection, macro_id: int, state: str, active: bool | None = None) -> bool:
    """Move a macro through the KCS states (a publisher validating an imported draft, archiving one ...); it is
    suggested only when active, which follows the state (validated) unless `active` says otherwise.
    False when there is no such macro."""
    if state not in STATES:
        raise MacroError(f"state must be one of {', '.join(STATES)}, got {state!r}")
    active = state == "validated" if active is None else active
    with write(conn):
        changed = conn.execute("UPDATE macros SET state = ?, active = ?, updated_at = ? WHERE id = ?",
                               (state, int(active), now(), macro_id)).rowcount
        if changed:
            index.put_macro(conn, {"id": macro_id})
    return bool(changed)


def set_helpdesk_id(conn: sqlite3.Connection, macro_id: int, helpdesk_id: str | None) -> None:
    """Record the helpdesk's id of our macro once a push created it there (the next push updates that one)."""
    with write(conn):
        conn.execute("UPDATE macros SET helpdesk_id = ? WHERE id = ?",
                     (None if helpdesk_id is None else str(helpdesk_id), macro_id))


def _rows(conn: sqlite3.Connection, where: str = "", args=()) -> list[dict]:
    cols = ", ".join(f"m.{c}" for c in COLUMNS)
    rows = conn.execute(f"SELECT {cols}, n.names FROM macros m LEFT JOIN taxonomy_nodes n ON n.id = m.node_id "
                        f"{where} ORDER BY m.language, m.title, m.id", args).fetchall()
    out = []
    for r in rows:
        item = dict(zip(COLUMNS, r[:-1]))
        item["active"] = bool(item["active"])
        item["taxonomy"] = json.loads(r[-1]) if r[-1] else []
        out.append(item)
    return out


def get(conn: sqlite3.Connection, macro_id: int) -> dict | None:
    found = _rows(conn, "WHERE m.id = ?", (macro_id,))
    return found[0] if found else None


def listing(conn: sqlite3.Connection, language: str | None = None, active_only: bool = False) -> list[dict]:
    where, args = [], []
    if language:
        where.append("m.language = ?")
        args.append(language)
    if active_only:
        where.append("m.active = 1")
    return _rows(conn, ("WHERE " + " AND ".join(where)) if where else "", args)


def load_shipped(folder: Path = SHIPPED) -> list[dict]:
    """The example macros shipped in macros/shipped/*.yaml (one macro per file), in file-name order."""
    items = []
    for path in sorted(folder.glob("*.yaml")):
        with path.open(encoding="utf-8") as fh:
            items.append(yaml.safe_load(fh))
    return items
