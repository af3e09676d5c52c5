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
           "updated_at")


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
