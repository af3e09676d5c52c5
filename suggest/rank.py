"""Ranking articles and macros for one ticket's text.

The in-process index (suggest/engine.py) gives text scores per language; the ticket's language is
searched first and the default language as a marked fallback. The pool is then re-weighted by
signals beyond text: the taxonomy node (an admin rule, else inferred from the pool and from similar
past tickets whose reused article sits on a node, suggest/infer.py) and its subtree,
the KCS state (validated > not validated > WIP; archived never shown), a bounded reuse prior, and a
fuzzy title match (rapidfuzz) for short subjects the words alone miss.
"""
from __future__ import annotations

import json
import sqlite3
from dataclasses import dataclass, field
from functools import lru_cache

from rapidfuzz import fuzz

from suggest import analysis, confidence, index, semantic
from suggest.engine import Hit
from suggest.infer import infer_node, use_votes

POOL = 50
MACRO_RELATIVE_FLOOR = 0.5
STATE_WEIGHT = {"validated": 1.0, "not_validated": 0.85, "wip": 0.7}
NODE_BOOST = 0.35
FALLBACK_WEIGHT = 0.8
REUSE_MAX, REUSE_HALF = 0.1, 20.0     # reuse adds at most 10 %, half of that at 20 reuses
TITLE_FUZZ_WEIGHT = 0.05
SNIPPET_SCAN = 4_000


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
    min_inferred_confidence: float = 0.35   # an inferred taxonomy node below this boosts nothing
    min_confidence: float = 0.0         # suggestions below this confidence (suggest/confidence.py) are left out
    exclude: set[int] = field(default_factory=set)
    semantic: float = 0.0               # weight of the semantic re-ranking (suggest/semantic.py); 0 = off

    @property
    def text(self) -> str:
        return f"{self.subject}\n{self.description}".strip()


def _languages(q: Query) -> list[str]:
    return [q.language] if q.language == q.default_language else [q.language, q.default_language]


def node_names(conn: sqlite3.Connection, node_id: int | None) -> tuple[str, list[str]]:
    """(slug path used for subtree tests, names shown to people) of a node."""
    row = conn.execute("SELECT path, names FROM taxonomy_nodes WHERE id = ?", (node_id,)).fetchone()
    return (row[0], json.loads(row[1])) if row else ("", [])


def _in_subtree(path: str | None, root: str) -> bool:
    return bool(path) and (path == root or path.startswith(root + "/"))


def _search(conn: sqlite3.Connection, q: Query, kind: str, k: int) -> list[tuple[int, float, bool, Hit]]:
    """(id, text score, is fallback, the engine's evidence) from the ticket's language, then the default
    language."""
    hits: list[tuple[int, float, bool, Hit]] = []
    with index.reading(conn) as s:
        table = s.articles if kind == "article" else s.macros
        for lang in _languages(q):
            ix = table.get(lang)
            if ix is not None:
                fallback = lang != q.language
                hits += [(h.item, h.score * (FALLBACK_WEIGHT if fallback else 1.0), fallback, h)
                         for h in ix.search_explained(q.text, q.audience, k, q.exclude)]
    hits.sort(key=lambda h: -h[1])
    return hits[:k]


def _rows(conn: sqlite3.Connection, sql: str, ids: list[int]) -> dict[int, dict]:
    if not ids:
        return {}
    cur = conn.execute(sql.format(ids=",".join("?" * len(ids))), ids)
    cols = [c[0] for c in cur.description]
    return {r[0]: dict(zip(cols, r)) for r in cur.fetchall()}


@lru_cache(maxsize=8192)
def _passages(text: str, steps: bool = False) -> tuple[tuple[tuple[str, frozenset[str]], ...], frozenset[str]]:
    """An article's sentences (with `steps`, its lines: one step of a resolution each) with their case-folded
    words, and all its words; cached by the text itself, so an edited article is simply a new entry."""
    text = text[:SNIPPET_SCAN].strip()
    units = [line.strip() for line in text.splitlines() if line.strip()] if steps else analysis.SENTENCE_RE.split(text)
    sentences = tuple((s, frozenset(analysis.TOKEN_RE.findall(s.casefold()))) for s in units or [""])
    return sentences, frozenset().union(*(w for _, w in sentences))


def snippet(text: str, stems: frozenset[str], language: str, width: int = 220,
            memo: dict[str, bool] | None = None, steps: bool = False) -> tuple[str, list[str]]:
    """The sentence (with `steps`, the line) that shares most query stems (stop words aside), else the first,
    and its words that matched.

    The stemmer sees each distinct word once (`memo` is shared by the articles of one query); the
    sentences are compared with set operations on cached word sets."""
    sentences, vocabulary = _passages(text, steps)
    memo = {} if memo is None else memo
    wanted = set()
    for word in vocabulary:
        hit = memo.get(word)
        if hit is None:
            hit = memo[word] = analysis.stem(language, word.replace("ё", "е")) in stems
        if hit:
            wanted.add(word)
    best, best_hits = 0, frozenset()
    if wanted:
        for i, (_, words) in enumerate(sentences):
            found = words & wanted
            if len(found) > len(best_hits):
                best, best_hits = i, found
                if len(found) == len(wanted):
                    break
    sentence = sentences[best][0]
    surface = sorted({w for w in analysis.TOKEN_RE.findall(sentence) if w.casefold() in best_hits},
                     key=str.casefold)
    return _cut(sentence, width), surface


def query_stems(text: str, language: str) -> frozenset[str]:
    return frozenset(analysis.terms(text, language)) - analysis.stop_stems(language)


def _cut(text: str, width: int) -> str:
    return text if len(text) <= width else text[: width - 1].rsplit(" ", 1)[0] + "…"


@lru_cache(maxsize=100_000)
def _folded(text: str) -> str:
    return " ".join(analysis.surface(w) for w in analysis.words(text))


ARTICLE_ROWS = """SELECT a.id, a.external_id, a.title, a.language, a.state, a.visibility, a.reuse_count,
                         a.translation_group, n.path AS node_path, n.names AS node_names
                  FROM articles a LEFT JOIN taxonomy_nodes n ON n.id = a.node_id """


def _one_per_group(conn: sqlite3.Connection, q: Query, candidates: list[dict], visible: tuple) -> list[dict]:
    """One entry per translation group (an article's language variants), in the place of its best match.

    When that match is in another language than the ticket's (found through the fallback language) and the
    group has a variant in the ticket's language, the agent gets that variant, with the match's evidence: the
    same article, in the customer's language. Without one, the match stays, marked as a fallback in its own
    language."""
    best: dict[str, dict] = {}
    out = []
    for c in sorted(candidates, key=lambda c: -c["text"]):
        group = c["translation_group"]
        if group is None:
            out.append(c)
        elif group not in best:
            best[group] = c
            out.append(c)
    wanted = [g for g, c in best.items() if c["language"] != q.language]
    if not wanted:
        return out
    local = {}
    marks = ",".join("?" * len(wanted))
    cur = conn.execute(ARTICLE_ROWS + f"WHERE a.language = ? AND a.translation_group IN ({marks}) ORDER BY a.id DESC",
                       [q.language, *wanted])
    cols = [col[0] for col in cur.description]
    for row in (dict(zip(cols, r)) for r in cur.fetchall()):
        if row["state"] in STATE_WEIGHT and row["visibility"] in visible:
            local[row["translation_group"]] = row                  # the oldest variant in the language wins
    for i, c in enumerate(out):
        variant = local.get(c["translation_group"]) if c["translation_group"] in wanted else None
        if variant is not None:
            out[i] = {**c, **variant, "fallback": False, "matched_in": c["language"]}
    return out


def rank_articles(conn: sqlite3.Connection, q: Query) -> tuple[list[dict], dict, str]:
    candidates, taxonomy, boost_root = ranked_candidates(conn, q)
    return _articles_out(conn, q, candidates), taxonomy, boost_root


def ranked_candidates(conn: sqlite3.Connection, q: Query) -> tuple[list[dict], dict, str]:
    """The article pool with its evidence, best first: (candidates, taxonomy, boosted node's slug path)."""
    hits = _search(conn, q, "article", POOL)
    rows = _rows(conn, ARTICLE_ROWS + "WHERE a.id IN ({ids})", [h[0] for h in hits])
    visible = ("public", "internal") if q.audience == "agent" else ("public",)
    top = max((h[1] for h in hits), default=1.0) or 1.0
    subject = _folded(q.subject or q.text[:200])
    candidates = []
    for item, text_score, fallback, hit in hits:
        c = rows.get(item)
        if c is None or c["state"] not in STATE_WEIGHT or c["visibility"] not in visible:
            continue
        c["raw"] = text_score
        c["title_fuzz"] = fuzz.token_set_ratio(subject, _folded(c["title"])) / 100
        c["text"] = text_score / top + TITLE_FUZZ_WEIGHT * c["title_fuzz"]
        c["fallback"], c["hit"] = fallback, hit
        candidates.append(c)
    candidates = _one_per_group(conn, q, candidates, visible)
    reranked = q.semantic > 0 and semantic.applies(q.language)
    if reranked:
        semantic.rerank(conn, q.text, candidates, q.semantic)
    if q.node_id is not None:
        root, names = node_names(conn, q.node_id)
        taxonomy = {"path": names, "source": "rule", "confidence": 1.0}
    else:
        candidates.sort(key=lambda c: -c["text"])
        languages = [(lang, FALLBACK_WEIGHT if lang != q.language else 1.0) for lang in _languages(q)]
        taxonomy = infer_node(candidates, use=use_votes(conn, q.text, languages))
        root = taxonomy.pop("root")
    boost_root = root if taxonomy["confidence"] >= q.min_inferred_confidence else ""
    for c in candidates:
        s = c["text"] * STATE_WEIGHT[c["state"]]
        if boost_root and _in_subtree(c["node_path"], boost_root):
            s *= 1 + NODE_BOOST
        reuse = max(c["reuse_count"] or 0, 0)
        s *= 1 + REUSE_MAX * reuse / (reuse + REUSE_HALF)
        c["score"] = round(s, 4)
    candidates.sort(key=lambda c: -c["score"])
    confidence.assign(candidates, reranked, max(q.limit, confidence.SCORED))
    if taxonomy["source"] == "inferred" and not any(c["confidence"] >= q.min_confidence for c in candidates[:q.limit]):
        taxonomy = {"path": [], "source": "none", "confidence": 0.0}     # inferred from articles that do not fit
    return candidates, taxonomy, boost_root


def _articles_out(conn: sqlite3.Connection, q: Query, candidates: list[dict]) -> list[dict]:
    chosen = [c for c in candidates[: q.limit] if c["confidence"] >= q.min_confidence]
    texts = _rows(conn, "SELECT id, body, resolution FROM articles WHERE id IN ({ids})", [c["id"] for c in chosen])
    stems = {lang: query_stems(q.text, lang) for lang in _languages(q)}
    memos: dict[str, dict[str, bool]] = {}
    out = []
    for c in chosen:
        # The snippet shows the fix: the step of the resolution that matches the ticket (the customer's words
        # are what the agent already has), else the sentence of the body that does.
        t = texts.get(c["id"], {})
        steps = bool((t.get("resolution") or "").strip())
        text, matched = snippet(t.get("resolution") if steps else (t.get("body") or ""),
                                stems.get(c["language"]) or query_stems(q.text, c["language"]), c["language"],
                                memo=memos.setdefault(c["language"], {}), steps=steps)
        out.append({"id": c["id"], "external_id": c["external_id"], "title": c["title"], "score": c["score"],
                    "confidence": c["confidence"], "snippet": text, "matched": matched, "language": c["language"],
                    "fallback": c["fallback"], "state": c["state"], "visibility": c["visibility"],
                    "taxonomy": json.loads(c["node_names"]) if c["node_names"] else []})
    return out


def rank_macros(conn: sqlite3.Connection, q: Query, node_root: str) -> list[dict]:
    if q.macro_limit <= 0:
        return []
    hits = _search(conn, q, "macro", 20)
    rows = _rows(conn, """SELECT m.id, m.external_id, m.title, m.body, m.language, m.active, n.path AS node_path
                          FROM macros m LEFT JOIN taxonomy_nodes n ON n.id = m.node_id
                          WHERE m.id IN ({ids})""", [h[0] for h in hits])
    out = []
    for item, text_score, _, hit in hits:
        r = rows.get(item)
        if r is None or not r["active"]:
            continue
        r["score"] = text_score * (1 + NODE_BOOST if node_root and _in_subtree(r["node_path"], node_root) else 1)
        r["hit"] = hit
        out.append(r)
    out.sort(key=lambda r: -r["score"])
    confidence.assign(out, scored=max(q.macro_limit, confidence.SCORED))
    # A reply template is inserted into the customer's answer: offer only those close to the best match.
    floor = out[0]["score"] * MACRO_RELATIVE_FLOOR if out else 0.0
    return [{"id": r["id"], "external_id": r["external_id"], "title": r["title"], "score": round(r["score"], 4),
             "confidence": r["confidence"], "language": r["language"], "body": r["body"]}
            for r in out[: q.macro_limit] if r["score"] >= floor and r["confidence"] >= q.min_confidence]


def suggest(conn: sqlite3.Connection, q: Query) -> dict:
    """The contract's answer: taxonomy, articles and macros for one ticket's text."""
    articles, taxonomy, root = rank_articles(conn, q)
    return {"taxonomy": taxonomy, "language": q.language, "articles": articles,
            "macros": rank_macros(conn, q, root)}
