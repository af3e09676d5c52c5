"""Inferring a taxonomy node from text when no admin rule applies.

The best-matching articles vote for the nodes they are filed under, weighted by their score;
the confidence is the winning node's share of the vote.
"""
from __future__ import annotations

import json

VOTERS = 10


def infer_node(candidates: list[dict]) -> dict:
    """{"path": names, "source", "confidence", "root": slug path} from ranked candidates."""
    votes: dict[str, float] = {}
    names: dict[str, str] = {}
    total = 0.0
    for c in candidates[:VOTERS]:
        total += c["bm25"]
        if c.get("node_path"):
            votes[c["node_path"]] = votes.get(c["node_path"], 0.0) + c["bm25"]
            names[c["node_path"]] = c["node_names"]
    if not votes or total <= 0:
        return {"path": [], "source": "none", "confidence": 0.0, "root": ""}
    root, weight = max(votes.items(), key=lambda kv: kv[1])
    return {"path": json.loads(names[root]), "source": "inferred", "confidence": round(weight / total, 3),
            "root": root}
