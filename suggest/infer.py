"""Inferring a taxonomy node from text when no admin rule applies.

The best-matching articles vote for the nodes they are filed under, each with its text score; the
confidence is the winning node's share of the votes of the top `VOTERS` (articles without a node
vote for nothing, so a pool that is mostly unfiled gives a low confidence and no boost).
"""
from __future__ import annotations

import json

VOTERS = 10


def infer_node(candidates: list[dict], key: str = "text") -> dict:
    """{"path": names, "source", "confidence", "root": slug path} from candidates ranked best first."""
    votes: dict[str, float] = {}
    names: dict[str, str] = {}
    total = 0.0
    for c in candidates[:VOTERS]:
        weight = max(c[key], 0.0)
        total += weight
        if c.get("node_path"):
            votes[c["node_path"]] = votes.get(c["node_path"], 0.0) + weight
            names[c["node_path"]] = c["node_names"]
    if not votes or total <= 0:
        return {"path": [], "source": "none", "confidence": 0.0, "root": ""}
    root, weight = max(votes.items(), key=lambda kv: kv[1])
    return {"path": json.loads(names[root]), "source": "inferred", "confidence": round(weight / total, 3),
            "root": root}
