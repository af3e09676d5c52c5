"""Admin rules that map a ticket's field value, tag or form to a taxonomy node.

The matching rule with the highest priority wins; among equal priorities the oldest rule wins.
"""
from __future__ import annotations

import json
import sqlite3

from kb import audit, taxonomy
from store import now, write
from store.values import checked_text, row_id_fits

KINDS = ("field", "tag", "form")
MAX_PRIORITY = 1_000_000_000


class RuleError(ValueError):
    pass


def add_rule(conn: sqlite3.Connection, kind: str, value, node_path: list[str], field_id=None,
             priority: int = 100, actor: str = "") -> dict:
    """Add a rule (in the audit log: who, when, the rule)."""
    if kind not in KINDS:
        raise RuleError(f"kind must be one of {list(KINDS)}, got {kind!r}")
    if kind == "field" and (field_id is None or str(field_id).strip() == ""):
        raise RuleError("a field rule needs field_id (the Zendesk ticket field id)")
    if value is None or str(value).strip() == "":
        raise RuleError("value must not be empty")
    if not isinstance(priority, int) or isinstance(priority, bool) or not -MAX_PRIORITY <= priority <= MAX_PRIORITY:
        raise RuleError(f"priority must be a whole number from {-MAX_PRIORITY} to {MAX_PRIORITY}")
    for name, given in (("value", value), ("field_id", field_id)):
        if isinstance(given, str):
            checked_text(given, name, RuleError)
    if not node_path or not isinstance(node_path, list):
        raise RuleError("taxonomy must be a non-empty list of path segments")
    with write(conn):
        node_id = taxonomy.ensure_path(conn, node_path, actor)
        cur = conn.execute(
            "INSERT INTO mapping_rules (kind, field_id, value, node_id, priority, created_at) "
            "VALUES (?, ?, ?, ?, ?, ?)",
            (kind, str(field_id) if kind == "field" else None, str(value).strip(), node_id, priority, now()))
        rule = get_rule(conn, cur.lastrowid)
        audit.record(conn, "mapping", rule["id"], "created", actor, {"before": None, "after": rule})
        return rule


def get_rule(conn: sqlite3.Connection, rule_id: int) -> dict | None:
    if not row_id_fits(rule_id):
        return None
    rows = _rules(conn, "WHERE r.id = ?", (rule_id,))
    return rows[0] if rows else None


def exists(conn: sqlite3.Connection, kind: str, field_id, value, node_id: int) -> bool:
    """Whether a rule with exactly these terms is there already."""
    return conn.execute("SELECT 1 FROM mapping_rules WHERE kind = ? AND field_id IS ? AND value = ? AND node_id = ?",
                        (kind, field_id, str(value), node_id)).fetchone() is not None


def delete_rule(conn: sqlite3.Connection, rule_id: int, actor: str = "") -> bool:
    if not row_id_fits(rule_id):
        return False
    with write(conn):
        before = get_rule(conn, rule_id)
        if before is None:
            return False
        conn.execute("DELETE FROM mapping_rules WHERE id = ?", (rule_id,))
        audit.record(conn, "mapping", rule_id, "deleted", actor, {"before": before, "after": None})
        return True


def _rules(conn: sqlite3.Connection, where: str = "", args=()) -> list[dict]:
    rows = conn.execute(f"""
        SELECT r.id, r.kind, r.field_id, r.value, r.priority, r.node_id, n.names
        FROM mapping_rules r JOIN taxonomy_nodes n ON n.id = r.node_id {where}
        ORDER BY r.priority DESC, r.id""", args).fetchall()
    return [{"id": r[0], "kind": r[1], "field_id": r[2], "value": r[3], "priority": r[4], "node_id": r[5],
             "taxonomy": json.loads(r[6])} for r in rows]


def rules(conn: sqlite3.Connection) -> list[dict]:
    return _rules(conn)


def _norm(value) -> set[str]:
    """A field value as comparable strings: lists (multi-select) give each item."""
    if value is None:
        return set()
    items = value if isinstance(value, list) else [value]
    return {str(v).strip().casefold() for v in items if v is not None and str(v).strip()}


def match(conn: sqlite3.Connection, fields: dict | None, tags: list | None, form_id=None) -> dict | None:
    """The winning rule for a ticket, or None."""
    fields = {str(k): v for k, v in (fields or {}).items()}
    tagset = {str(t).strip().casefold() for t in (tags or [])}
    form = str(form_id).strip().casefold() if form_id not in (None, "") else None
    for rule in _rules(conn):
        value = rule["value"].casefold()
        if rule["kind"] == "field" and value in _norm(fields.get(rule["field_id"])):
            return rule
        if rule["kind"] == "tag" and value in tagset:
            return rule
        if rule["kind"] == "form" and form is not None and value == form:
            return rule
    return None
