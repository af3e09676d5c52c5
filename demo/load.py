"""Loading the demo data (idempotent): taxonomy and its owners, articles, the shipped macros, mapping rules.

Everything goes through the same code as real data: kb.articles.import_articles (upsert on external_id,
unchanged articles skipped), macros.library.import_macros, kb.taxonomy.ensure_path and kb.mapping.add_rule
(a rule identical to an existing one is not added twice).
"""
from __future__ import annotations

import sqlite3
from pathlib import Path

import yaml

from kb import articles, mapping, people, taxonomy
from macros import library
from store import write

DATA = Path(__file__).resolve().parent


def _yaml(path: Path):
    with path.open(encoding="utf-8") as fh:
        return yaml.safe_load(fh) or []


def demo_articles(folder: Path = DATA / "articles") -> list[dict]:
    """Every demo article; a file's name (en.yaml) is the language of the articles that do not say theirs."""
    items = []
    for path in sorted(folder.glob("*.yaml")):
        for item in _yaml(path):
            items.append({"language": path.stem, **item})
    return items


def _rules(conn: sqlite3.Connection, rules: list[dict]) -> int:
    created = 0
    for rule in rules:
        node_id = taxonomy.ensure_path(conn, rule["taxonomy"])
        field_id = str(rule["field_id"]) if rule["kind"] == "field" else None
        if not mapping.exists(conn, rule["kind"], field_id, rule["value"], node_id):
            mapping.add_rule(conn, rule["kind"], rule["value"], rule["taxonomy"], field_id=field_id,
                             priority=rule.get("priority", 100))
            created += 1
    return created


def load(conn: sqlite3.Connection, default_language: str = "en") -> dict:
    """Load (or re-check) the demo data; returns what changed per kind."""
    nodes_before = len(taxonomy.tree(conn))
    with write(conn):
        for path in _yaml(DATA / "taxonomy.yaml"):
            taxonomy.ensure_path(conn, path, "demo")
        for entry in _yaml(DATA / "owners.yaml"):
            node_id = taxonomy.ensure_path(conn, entry["node"], "demo")
            if not taxonomy.default_owner(conn, node_id):
                taxonomy.set_owner(conn, node_id, entry["owner"], "demo")
            people.remember(conn, entry["owner"], entry["display_name"], entry["email"])
    arts = articles.import_articles(conn, demo_articles(), default_language, changed_by="demo")
    macs = library.import_macros(conn, library.load_shipped(), default_language)
    with write(conn):
        rules = _rules(conn, _yaml(DATA / "mappings.yaml"))
    errors = arts["errors"] + macs["errors"]
    if errors:
        raise ValueError(f"demo data does not load: {errors}")
    return {"taxonomy_nodes": len(taxonomy.tree(conn)) - nodes_before,
            "articles": {k: arts[k] for k in ("created", "updated", "skipped")},
            "macros": {k: macs[k] for k in ("created", "updated", "skipped")},
            "mapping_rules": rules}


def changed(summary: dict) -> bool:
    return bool(summary["taxonomy_nodes"] or summary["mapping_rules"]
                or any(summary[k][n] for k in ("articles", "macros") for n in ("created", "updated")))


def describe(summary: dict) -> str:
    if not changed(summary):
        a, m = summary["articles"], summary["macros"]
        return (f"demo data already loaded: nothing changed ({a['skipped']} articles and {m['skipped']} macros "
                "up to date, taxonomy and mapping rules present)")
    parts = [f"{summary['taxonomy_nodes']} taxonomy nodes created"]
    for kind in ("articles", "macros"):
        s = summary[kind]
        parts.append(f"{kind} {s['created']} created, {s['updated']} updated, {s['skipped']} unchanged")
    parts.append(f"{summary['mapping_rules']} mapping rules created")
    return "demo data loaded: " + "; ".join(parts)
