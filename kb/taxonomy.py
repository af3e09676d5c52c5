"""The issue taxonomy: a tree of nodes addressed by their path of segments."""
from __future__ import annotations

import json
import re
import sqlite3

from kb import audit
from store import now, write
from store.values import checked_text

SEGMENT_RE = re.compile(r"[^\w-]+", re.UNICODE)


class TaxonomyError(ValueError):
    pass


def slug(segment: str) -> str:
    s = SEGMENT_RE.sub("-", segment.strip().casefold()).strip("-")
    if not s:
        raise TaxonomyError(f"taxonomy segment {segment!r} has no letters or digits")
    return s


def ensure_path(conn: sqlite3.Connection, segments: list[str], actor: str = "") -> int | None:
    """The id of the node at this path, creating missing nodes (each creation in the audit log, by `actor`, ""
    for an import or the system); None for an empty path."""
    parent, path, names = None, "", []
    for seg in segments:
        if not isinstance(seg, str):
            raise TaxonomyError(f"taxonomy segment {seg!r} is not text")
        checked_text(seg, "taxonomy segment", TaxonomyError)
        s = slug(seg)
        path = f"{path}/{s}" if path else s
        names.append(seg.strip())
        row = conn.execute("SELECT id FROM taxonomy_nodes WHERE path = ?", (path,)).fetchone()
        if row:
            parent = row[0]
            continue
        created = conn.execute("INSERT OR IGNORE INTO taxonomy_nodes (parent_id, slug, name, path, names, created_at) "
                               "VALUES (?, ?, ?, ?, ?, ?)",
                               (parent, s, seg.strip(), path, json.dumps(names), now())).rowcount
        parent = conn.execute("SELECT id FROM taxonomy_nodes WHERE path = ?", (path,)).fetchone()[0]
        if created:
            audit.record(conn, "taxonomy", parent, "created", actor, {"before": None, "after": {"path": names}})
    return parent


def create(conn: sqlite3.Connection, segments: list[str], actor: str = "") -> tuple[dict, bool]:
    """Create the node at this path and its missing parents, in a transaction of its own (or the caller's):
    (the node as `tree` lists it, True when it is new)."""
    if not segments:
        raise TaxonomyError("give a path such as: orders / refunds")
    existed = find(conn, segments) is not None
    with write(conn):
        node_id = ensure_path(conn, segments, actor)
    return next(n for n in tree(conn) if n["id"] == node_id), not existed


def find(conn: sqlite3.Connection, path: list[str] | str) -> int | None:
    if isinstance(path, list):
        path = "/".join(slug(s) for s in path)
    row = conn.execute("SELECT id FROM taxonomy_nodes WHERE path = ?", (path,)).fetchone()
    return row[0] if row else None


def path_of(conn: sqlite3.Connection, node_id: int | None) -> list[str]:
    """The node's path as the names admins gave its segments."""
    if node_id is None:
        return []
    row = conn.execute("SELECT names FROM taxonomy_nodes WHERE id = ?", (node_id,)).fetchone()
    return json.loads(row[0]) if row else []


def tree(conn: sqlite3.Connection) -> list[dict]:
    """Every node with its article count, in path order."""
    rows = conn.execute("""
        SELECT n.id, n.parent_id, n.name, n.names,
               (SELECT COUNT(*) FROM articles a WHERE a.node_id = n.id AND a.state != 'archived') AS articles,
               n.owner
        FROM taxonomy_nodes n ORDER BY n.path""").fetchall()
    return [{"id": r[0], "parent_id": r[1], "name": r[2], "path": json.loads(r[3]), "articles": r[4], "owner": r[5]}
            for r in rows]


def find_by_section(conn: sqlite3.Connection, section_id: str) -> int | None:
    """The node that carries this helpdesk section (imported from it, or publishing to it)."""
    row = conn.execute("SELECT id FROM taxonomy_nodes WHERE helpdesk_section_id = ? ORDER BY id LIMIT 1",
                       (str(section_id),)).fetchone()
    return row[0] if row else None


def section_of(conn: sqlite3.Connection, node_id: int) -> str | None:
    """The helpdesk section this exact node carries, or None."""
    row = conn.execute("SELECT helpdesk_section_id FROM taxonomy_nodes WHERE id = ?", (node_id,)).fetchone()
    return row[0] if row else None


def set_helpdesk_section(conn: sqlite3.Connection, node_id: int, section_id: str | None) -> None:
    """Tie the node to a helpdesk section, inside the caller's transaction (or its own)."""
    with write(conn):
        conn.execute("UPDATE taxonomy_nodes SET helpdesk_section_id = ? WHERE id = ?",
                     (None if section_id is None else str(section_id), node_id))


def helpdesk_section(conn: sqlite3.Connection, node_id: int | None) -> str | None:
    """The helpdesk section an article of this node belongs in: the node's own, else its nearest ancestor's."""
    seen = set()
    while node_id is not None and node_id not in seen:
        seen.add(node_id)
        row = conn.execute("SELECT parent_id, helpdesk_section_id FROM taxonomy_nodes WHERE id = ?",
                           (node_id,)).fetchone()
        if row is None:
            return None
        if row[1]:
            return row[1]
        node_id = row[0]
    return None


def default_owner(conn: sqlite3.Connection, node_id: int | None) -> str:
    """The owner an article filed under the node gets when it names none: the node's, else its nearest
    ancestor's; "" when no node up the tree has one."""
    seen = set()
    while node_id is not None and node_id not in seen:
        seen.add(node_id)
        row = conn.execute("SELECT owner, parent_id FROM taxonomy_nodes WHERE id = ?", (node_id,)).fetchone()
        if row is None:
            return ""
        if row[0]:
            return row[0]
        node_id = row[1]
    return ""


def set_owner(conn: sqlite3.Connection, node_id: int, owner: str, actor: str = "") -> bool:
    """Make `owner` (a person's name as events and tokens carry it; "" for none) the node's default owner; the
    change is in the audit log (who, when, before/after)."""
    owner = checked_text(owner, "owner", TaxonomyError).strip()[:200]
    with write(conn):
        row = conn.execute("SELECT owner FROM taxonomy_nodes WHERE id = ?", (node_id,)).fetchone()
        if row is None:
            return False
        if row[0] != owner:
            conn.execute("UPDATE taxonomy_nodes SET owner = ? WHERE id = ?", (owner, node_id))
            audit.record(conn, "taxonomy", node_id, "owner_changed", actor, {"before": {"owner": row[0]},
                                                                              "after": {"owner": owner}})
    return True
