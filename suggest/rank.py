"""Ranking articles and macros for one ticket's text.

FTS5 bm25 over analysed terms gives the candidates; the taxonomy node (mapped or inferred), the
KCS state, the language fallback and a fuzzy title match (rapidfuzz) re-order them.
"""
from __future__ import annotations

import json
import re
import sqlite3
from dataclasses import dataclass, field

from rapidfuzz import fuzz

from suggest import analysis
from suggest.index import match_expression
from suggest.infer import infer_node

CANDIDATES = 200
STATE_WEIGHT = {"validated": 1.0, "not_validated": 0.85, "wip": 0.7}
NODE_BOOST = 0.35
FALLBACK_WEIGHT = 0.8
TITLE_FUZZ_WEIGHT = 0.25
SENTENCE_RE = re.compile(r"(?<=[.!?])\s+")


@dataclass
class Query:
    subject: str
    description: str = ""
    language: str = "en"
    default_language: str = "en"
    node_id: int | None = None          # from an admin rule; None → infer from the text
    limit: int = 10
    macro_limit: int = 3
    audience: str = "agent"              # "agent" sees internal articles; "public" does not
    min_confidence: float = 0.35
    exclude: set[int] = field(default_factory=set)

    @property
    def text(self) -> str:
        return f"{self.subject}\n{self.description}".strip()


def _languages(q: Query) -> list[str]:
    return [q.language] if q.language == q.default_language else [q.language, q.default_language]


def _query_terms(q: Query) -> list[str]:
    out: list[str] = []
    for lang in _languages(q):
        out += analysis.terms(q.text, lang)
    return out


def node_names(conn: sqlite3.Connection, node_id: int | None) -> tuple[str, list[str]]:
    """(slug path used for subtree tests, names shown to people) of a node."""
    row = conn.execute("SELECT path, names FROM taxonomy_nodes WHERE id = ?", (node_id,)).fetchone()
    return (row[0], json.loads(row[1])) if row else ("", [])


def _candidates(conn: sqlite3.Connection, q: Query, match: str) -> list[dict]:
    langs = _languages(q)
    visibility = ("public", "internal") if q.audience == "agent" else ("public",)
    sql = f"""
        SELECT a.id, a.external_id, a.title, a.body, a.resolution, a.issue, a.language, a.state,
               a.visibility, a.node_id, n.path AS node_path, n.names AS node_names, -bm25(article_search, 2.0, 1.0) AS bm25
        FROM article_search
        JOIN articles a ON a.id = article_search.rowid
        LEFT JOIN taxonomy_nodes n ON n.id = a.node_id
        WHERE article_search MATCH ? AND a.state != 'archived'
          AND a.language IN ({",".join("?" * len(langs))})
          AND a.visibility IN ({",".join("?" * len(visibility))})
        ORDER BY bm25(article_search, 2.0, 1.0) LIMIT {CANDIDATES}"""
    cur = conn.execute(sql, (match, *langs, *visibility))
    cols = [c[0] for c in cur.description]
    return [dict(zip(cols, r)) for r in cur.fetchall()]


def _in_subtree(path: str | None, root: str) -> bool:
    return bool(path) and (path == root or path.startswith(root + "/"))


def snippet(text: str, query_words: set[str], language: str, width: int = 220) -> tuple[str, list[str]]:
    """The sentence that shares most stems with the query, and the words in it that matched."""
    stems = {analysis.terms(w, language, keep_stop_words=True)[0]: w for w in query_words if w}
    best, best_hits = "", []
    for sentence in SENTENCE_RE.split(text.strip()):
        hits = [w for w in analysis.TOKEN_RE.findall(sentence)
                if (s := analysis.terms(w, language, keep_stop_words=True)) and s[0] in stems]
        if len(set(h.lower() for h in hits)) > len(set(h.lower() for h in best_hits)) or not best:
            best, best_hits = sentence, hits
    if len(best) > width:
        best = best[: width - 1].rsplit(" ", 1)[0] + "…"
    return best, sorted(set(best_hits), key=str.lower)


def rank_articles(conn: sqlite3.Connection, q: Query) -> tuple[list[dict], dict, str]:
    match = match_expression(_query_terms(q))
    candidates = _candidates(conn, q, match) if match else []
    if q.node_id is not None:
        root, names = node_names(conn, q.node_id)
        taxonomy = {"path": names, "source": "rule", "confidence": 1.0}
    else:
        taxonomy = infer_node(candidates)
        root = taxonomy.pop("root")
    boost_root = root if taxonomy["confidence"] >= q.min_confidence else ""
    top = max((c["bm25"] for c in candidates), default=1.0) or 1.0
    subject = q.subject or q.text[:200]
    for c in candidates:
        s = c["bm25"] / top
        s += TITLE_FUZZ_WEIGHT * fuzz.token_set_ratio(subject.lower(), c["title"].lower()) / 100
        if boost_root and _in_subtree(c["node_path"], boost_root):
            s *= 1 + NODE_BOOST
        s *= STATE_WEIGHT.get(c["state"], 0.5)
        c["fallback"] = c["language"] != q.language
        if c["fallback"]:
            s *= FALLBACK_WEIGHT
        c["score"] = round(s, 4)
    candidates = [c for c in candidates if c["id"] not in q.exclude]
    candidates.sort(key=lambda c: -c["score"])
    query_words = set(analysis.words(q.text))
    out = []
    for c in candidates[: q.limit]:
        text, matched = snippet(" ".join(filter(None, (c["issue"], c["body"], c["resolution"]))),
                                query_words, c["language"])
        out.append({"id": c["id"], "external_id": c["external_id"], "title": c["title"], "score": c["score"],
                    "snippet": text, "matched": matched, "language": c["language"], "fallback": c["fallback"],
                    "state": c["state"], "visibility": c["visibility"],
                    "taxonomy": json.loads(c["node_names"]) if c["node_names"] else []})
    return out, taxonomy, boost_root


def rank_macros(conn: sqlite3.Connection, q: Query, node_root: str) -> list[dict]:
    match = match_expression(_query_terms(q))
    if not match or q.macro_limit <= 0:
        return []
    langs = _languages(q)
    cur = conn.execute(f"""
        SELECT m.id, m.external_id, m.title, m.body, m.language, n.path AS node_path,
               -bm25(macro_search, 2.0, 1.0) AS bm25
        FROM macro_search JOIN macros m ON m.id = macro_search.rowid
        LEFT JOIN taxonomy_nodes n ON n.id = m.node_id
        WHERE macro_search MATCH ? AND m.active = 1 AND m.language IN ({",".join("?" * len(langs))})
        ORDER BY bm25(macro_search, 2.0, 1.0) LIMIT 50""", (match, *langs))
    cols = [c[0] for c in cur.description]
    rows = [dict(zip(cols, r)) for r in cur.fetchall()]
    for r in rows:
        r["score"] = r["bm25"] * (1 + NODE_BOOST if node_root and _in_subtree(r["node_path"], node_root) else 1)
        r["score"] *= FALLBACK_WEIGHT if r["language"] != q.language else 1
    rows.sort(key=lambda r: -r["score"])
    return [{"id": r["id"], "external_id": r["external_id"], "title": r["title"], "score": round(r["score"], 4),
             "language": r["language"], "body": r["body"]} for r in rows[: q.macro_limit]]


def suggest(conn: sqlite3.Connection, q: Query) -> dict:
    """The contract's answer: taxonomy, articles and macros for one ticket's text."""
    articles, taxonomy, root = rank_articles(conn, q)
    return {"taxonomy": taxonomy, "language": q.language, "articles": articles,
            "macros": rank_macros(conn, q, root)}
