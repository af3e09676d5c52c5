"""Inferring a taxonomy node from text when no admin rule applies.

Two kinds of evidence, each a vote of the `VOTERS` best matches by their text score relative to the best:

- **Articles.** The best-matching articles vote for the nodes they are filed under (articles without a
  node vote for nothing, so a pool that is mostly unfiled gives a low confidence and no boost).
- **Use.** A ticket on which an agent recorded a `reused` event is an example of the reused article's
  node (its node now, so re-filing an article moves its evidence). Each reused article has a profile,
  the text of its tickets (suggest/index.py); the best-matching profiles vote for their article's node.
  Ticket wording often differs from article wording, which is what makes this evidence complementary.

Each profile's vote is its share of the profiles' text scores times t / (t + `USE_HALF`), where t is its
tickets times the idf-weighted share of the query's content words the profile holds: a thin profile, or
one that shares only a word or two with the query, says little. With e(node) these votes and m their sum
(≤ 1), p(node) = (1 − w·m) · articles(node) + w · e(node), w = `USE_WEIGHT`: the evidence use lacks stays
with the articles, and use never counts more than the articles. The confidence is the winner's share, in
[0, 1]. Without reuse events the result is the article vote alone, bit for bit.

Checked on banking77 with its even-half queries recorded as reused tickets of their gold article and the
odd half inferred (taxonomy accuracy 0.739 without events). Of three round settings (w, half), (0.5, 30)
balanced plentiful and sparse use best: 0.768 with all 770 tickets (10 per node), 0.729 with the first
100 (1.3 per node, many nodes with none); (0.3, 30) gave 0.752 / 0.735 and (0.5, 10) 0.787 / 0.661.
"""
from __future__ import annotations

import json
import sqlite3

from suggest import index

VOTERS = 10
USE_WEIGHT, USE_HALF = 0.5, 30.0      # use counts at most half; a profile half of that at 30 tickets


def use_votes(conn: sqlite3.Connection, text: str, languages: list[tuple[str, float]]) -> tuple[dict, dict, float]:
    """({node slug path: vote}, {node slug path: names}, sum of the votes m ≤ 1) from the reuse
    profiles that best match `text`, searched per (language, factor: 1 for the ticket's language, less for
    the fallback)."""
    hits: list[tuple[float, int, int]] = []
    with index.reading(conn) as s:
        if not s.reuse:
            return {}, {}, 0.0
        for lang, factor in languages:
            ix = s.reuse.get(lang)
            if ix is not None:
                found = ix.search(text, "agent", VOTERS)
                cover = ix.coverage(text, [a for a, _ in found])
                hits += [(sc * factor, a, s.reuse_tickets[(lang, a)] * c) for (a, sc), c in zip(found, cover)]
    hits = sorted(hits, reverse=True)[:VOTERS]
    if not hits or hits[0][0] <= 0:
        return {}, {}, 0.0
    ids = sorted({a for _, a, _ in hits})
    nodes = {r[0]: (r[1], r[2]) for r in conn.execute(
        f"""SELECT a.id, n.path, n.names FROM articles a JOIN taxonomy_nodes n ON n.id = a.node_id
            WHERE a.id IN ({','.join('?' * len(ids))})""", ids)}
    votes: dict[str, float] = {}
    names: dict[str, str] = {}
    total = sum(score for score, _, _ in hits)
    mass = 0.0
    for score, a, tickets in hits:        # tickets counted by the share of the query's content words they hold
        weight = score / total * tickets / (tickets + USE_HALF)
        mass += weight
        if a in nodes:                  # a deleted or unfiled article votes for nothing
            path, names[path] = nodes[a]
            votes[path] = votes.get(path, 0.0) + weight
    return votes, names, mass


def infer_node(candidates: list[dict], key: str = "text", use: tuple[dict, dict, float] = ({}, {}, 0.0)) -> dict:
    """{"path": names, "source", "confidence", "root": slug path} from candidates ranked best first and the
    reuse evidence (`use_votes`)."""
    votes: dict[str, float] = {}
    names: dict[str, str] = {}
    total = 0.0
    for c in candidates[:VOTERS]:
        weight = max(c[key], 0.0)
        total += weight
        if c.get("node_path"):
            votes[c["node_path"]] = votes.get(c["node_path"], 0.0) + weight
            names[c["node_path"]] = c["node_names"]
    use_share, use_names, mass = use
    if mass > 0:
        lam = USE_WEIGHT * mass
        votes = {path: (1 - lam) * v / total for path, v in votes.items()} if total > 0 else {}
        for path, share in use_share.items():
            votes[path] = votes.get(path, 0.0) + USE_WEIGHT * share
            names.setdefault(path, use_names[path])
        total = 1.0
    if not votes or total <= 0:
        return {"path": [], "source": "none", "confidence": 0.0, "root": ""}
    root, weight = max(votes.items(), key=lambda kv: kv[1])
    return {"path": json.loads(names[root]), "source": "inferred", "confidence": round(min(weight / total, 1.0), 3),
            "root": root}
