"""How sure a suggestion is: the chance, in [0, 1], that the article answers the ticket.

The ranking says which article fits best; it cannot say whether any fits. A confidence that means the same
for every query lets the sidebar stay empty when nothing fits ("The weather is nice today"), and lets one
threshold (`suggest.min_confidence`) serve every language and corpus size.

The evidence is scale-free, read off the search (suggest/engine.py `Hit`) and the final ranking:

- `cover`: the share of the query's idf mass the article holds (a word no article uses counts against it), on
  a log scale, so that an article holding next to nothing of the query is not saved by its lead over the rest;
- `gap`: how far the article's score stands above the next one's, relative to the best score;
- `rel`: its score relative to the best score of the query;
- `passage`: how well its best single passage and the query overlap (the F1 of the passage's share of the
  query and the query words' share of the passage);
- with the semantic extra (suggest/semantic.py): the cosine between query and article, its distance from the
  best cosine, and the best cosine's lead over the second.

A logistic regression turns them into a probability. Its weights were fitted by `bench/calibrate.py` on the
even-numbered queries of the three dev sets, with a fifth of the gold articles held out (three seeds, none of
them the bench's own) so that unanswerable queries are in the data, and checked on the odd-numbered queries
with the bench's holdout (docs/benchmarks.md, "Knowing when nothing fits").
"""
from __future__ import annotations

import math

LEXICAL = ("gap", "rel", "passage")
SEMANTIC = LEXICAL + ("cosine", "cosine_rel", "cosine_lead")

# Fitted by bench/calibrate.py (see the module docstring): weight per feature, then the intercept.
WEIGHTS = {
    LEXICAL: ((5.6233, 7.4534, 2.4966), -9.9808),
    SEMANTIC: ((0.0, 0.0, 0.0, 0.0, 0.0, 0.0, 0.0), 0.0),
}
COVER_FLOOR = 0.02   # log(cover + floor): an article holding almost none of the query is near-certainly wrong
SCORED = 10          # candidates that get a confidence: the most any answer shows (the API caps limit at 50)


def features(candidates: list[dict], semantic: bool = False) -> list[list[float]]:
    """One row of evidence per candidate (best first, each with "score" and the engine's "hit"; with
    `semantic`, "cosine" too), in the order of SEMANTIC or LEXICAL."""
    if not candidates:
        return []
    names = SEMANTIC if semantic else LEXICAL
    top = candidates[0]["score"] or 1.0
    cosines = [c.get("cosine", 0.0) for c in candidates]
    best_cos = max(cosines)
    lead = best_cos - (sorted(cosines, reverse=True)[1] if len(cosines) > 1 else 0.0)
    rows = []
    for k, c in enumerate(candidates):
        hit = c["hit"]
        following = candidates[k + 1]["score"] if k + 1 < len(candidates) else 0.0
        value = {"cover": math.log(hit.cover + COVER_FLOOR), "gap": (c["score"] - following) / top,
                 "rel": c["score"] / top, "passage": hit.passage_f1, "cosine": cosines[k],
                 "cosine_rel": cosines[k] - best_cos, "cosine_lead": lead}
        rows.append([value[name] for name in names])
    return rows


def assign(candidates: list[dict], semantic: bool = False, scored: int = SCORED) -> None:
    """Set "confidence" on the best `scored` candidates (best first, as features() wants them), in place;
    the one after them only bounds the last one's lead."""
    names = SEMANTIC if semantic else LEXICAL
    weights, intercept = WEIGHTS[names]
    chosen = candidates[:scored]
    for c, row in zip(chosen, features(candidates[:scored + 1], semantic)):
        if not semantic and c["hit"].cover <= 0:
            c["confidence"] = 0.0            # shares no content word with the ticket: words alone cannot vouch
            continue
        z = intercept + sum(w * x for w, x in zip(weights, row))
        c["confidence"] = round(1.0 / (1.0 + math.exp(-max(min(z, 40.0), -40.0))), 3)
