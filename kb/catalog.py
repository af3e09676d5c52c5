"""Looking through the knowledge base as a publisher: article lists with filters."""
from __future__ import annotations

import json
import sqlite3

from kb import taxonomy
from store.values import row_id_fits

LIST_COLUMNS = ("id", "external_id", "title", "language", "state", "visibility", "version", "reuse_count", "owner",
                "source_ticket", "updated_at")


class CatalogError(ValueError):
    pass


def node_filter(conn: sqlite3.Connection, node: str) -> str:
    """A node given as its id or its slash path ('orders/refunds') → its slug path (for subtree tests)."""
    node = node.strip().strip("/")
    if node.isascii() and node.isdigit():                      # "²".isdigit() is true too
        row = conn.execute("SELECT path FROM taxonomy_nodes WHERE id = ?", (int(node),)).fetchone() \
            if row_id_fits(int(node)) else None
    else:
        try:
            slugs = "/".join(taxonomy.slug(s) for s in node.split("/") if s.strip())
        except taxonomy.TaxonomyError as exc:
            raise CatalogError(str(exc)) from None
        row = conn.execute("SELECT path FROM taxonomy_nodes WHERE path = ?", (slugs,)).fetchone()
    if row is None:
        raise CatalogError(f"no taxonomy node {node!r}")
    return row[0]


def articles(conn: sqlite3.Connection, *, state: str | None = None, language: str | None = None,
             node: str | None = None, limit: int = 100, offset: int = 0) -> dict:
    """{"total", "articles": [...]} newest change first; `node` includes its subtree."""
    where, args = [], []
    if state:
        where.append("a.state = ?")
        args.append(state)
    if language:
        where.append("a.language = ?")
        args.append(language)
    if node:
        path = node_filter(conn, node)
        where.append("(n.path = ? OR n.path LIKE ? ESCAPE '\\')")
        args += [path, path.replace("\\", "\\\\").replace("%", "\\%").replace("_", "\\_") + "/%"]
    clause = ("WHERE " + " AND ".join(where)) if where else ""
    base = f"FROM articles a LEFT JOIN taxonomy_nodes n ON n.id = a.node_id {clause}"
    total = conn.execute(f"SELECT COUNT(*) {base}", args).fetchone()[0]
    cols = ", ".join(f"a.{c}" for c in LIST_COLUMNS)
    rows = conn.execute(f"SELECT {cols}, n.names {base} ORDER BY a.updated_at DESC, a.id DESC LIMIT ? OFFSET ?",
                        (*args, limit, offset)).fetchall()
    out = []
    for r in rows:
        item = dict(zip(LIST_COLUMNS, r[:-1]))
        item["taxonomy"] = json.loads(r[-1]) if r[-1] else []
        out.append(item)
    return {"total": total, "limit": limit, "offset": offset, "articles": out}
