"""Fit the confidence model (suggest/confidence.py) and choose the default threshold, on half the queries.

    .venv/bin/python bench/calibrate.py --bench ../shared/bench/run.py [--semantic 0.6] [--cache DIR]

For each dev set, a fifth of the gold articles is held out of the import (as `run.py --holdout 0.2` does) and
every query is ranked with `suggest.rank.ranked_candidates`; the evidence of the best SCORED candidates is
kept with whether each is the query's gold article (never, for a query whose article was held out).

- Fitting: the even-numbered queries, held out with seeds 1, 2 and 3 (not the bench's seed, 11), all sets
  pooled; a logistic regression (Newton steps, small L2) on confidence.features(), printed as WEIGHTS.
- Threshold: the highest value at which every set still answers 90 % of its answerable even-half queries.
- Report: the odd-numbered queries with the bench's own holdout (seed 11), per set: AUROC of the top
  confidence (right top-1 against unanswerable, as run.py computes it), abstain and answer rates at the chosen
  threshold, and the calibration (mean confidence against the share of right top-1 answers).
"""
from __future__ import annotations

import argparse
import importlib.util
import json
import random
import sys
import tempfile
from pathlib import Path

import numpy as np

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from kb.articles import import_articles  # noqa: E402
from store import connect, migrate  # noqa: E402
from suggest import confidence  # noqa: E402
from suggest.engine import Hit  # noqa: E402
from suggest.rank import Query, ranked_candidates  # noqa: E402

SETS = ("banking77-en", "stackfaq-en", "allegro-faq-pl")
TRAIN_SEEDS, BENCH_SEED, HOLDOUT = (1, 2, 3), 11, 0.2


def load_bench(path: str):
    spec = importlib.util.spec_from_file_location("bench_run", path)
    mod = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(mod)
    return mod


def held_out(queries: list[dict], seed: int) -> set[str]:
    """The gold articles run.py --holdout keeps out with this seed (same sampling)."""
    golds = sorted({g for q in queries for g in q["gold"]})
    return set(random.Random(seed).sample(golds, max(1, int(len(golds) * HOLDOUT))))


def collect(bench, dataset: str, seed: int, split: str, semantic: float) -> list[dict]:
    """Per query: whether it is unanswerable, and its best candidates' evidence and gold flags."""
    folder = bench.DATA / dataset
    articles, queries = bench.load_jsonl(folder / "articles.jsonl"), bench.load_jsonl(folder / "queries.jsonl")
    held = held_out(queries, seed)
    articles = [a for a in articles if a["external_id"] not in held]
    queries = queries[(split == "odd")::2]
    out = []
    with tempfile.TemporaryDirectory() as tmp:
        db = connect(Path(tmp) / "calibrate.db")
        migrate(db)
        conn = db.conn
        for i in range(0, len(articles), 500):
            assert not import_articles(conn, articles[i:i + 500], "en")["errors"]
        for q in queries:
            cands, _, _ = ranked_candidates(conn, Query(subject=q["subject"], description=q["description"],
                                                        language=q["language"], default_language=q["language"],
                                                        semantic=semantic))
            out.append({"unanswerable": set(q["gold"]) <= held, "candidates": [
                {"score": c["score"], "hit": c["hit"]._asdict(), "cosine": c.get("cosine", 0.0),
                 "gold": c["external_id"] in q["gold"]} for c in cands[:confidence.SCORED + 1]]})
        conn.close()
    return out


def cached(args, bench, dataset: str, seed: int, split: str) -> list[dict]:
    path = Path(args.cache) / f"{dataset}-{seed}-{split}-{args.semantic}.json" if args.cache else None
    if path and path.exists():
        rows = json.loads(path.read_text())
    else:
        rows = collect(bench, dataset, seed, split, args.semantic)
        if path:
            path.parent.mkdir(parents=True, exist_ok=True)
            path.write_text(json.dumps(rows))
    for r in rows:
        for c in r["candidates"]:
            c["hit"] = Hit(**c["hit"]) if isinstance(c["hit"], dict) else c["hit"]
    return rows


def matrix(rows: list[dict], semantic: bool) -> tuple[np.ndarray, np.ndarray]:
    xs, ys = [], []
    for r in rows:
        xs += confidence.features(r["candidates"], semantic)[:confidence.SCORED]
        ys += [float(c["gold"] and not r["unanswerable"]) for c in r["candidates"][:confidence.SCORED]]
    return np.array(xs), np.array(ys)


def fit(x: np.ndarray, y: np.ndarray, l2: float = 1e-3) -> tuple[list[float], float]:
    """Logistic regression on standardised features; weights returned for the raw features."""
    mu, sd = x.mean(0), x.std(0) + 1e-9
    z = np.hstack([(x - mu) / sd, np.ones((len(x), 1))])
    w = np.zeros(z.shape[1])
    for _ in range(50):
        p = 1 / (1 + np.exp(-z @ w))
        grad = z.T @ (p - y) / len(y) + l2 * np.r_[w[:-1], 0]
        hess = (z.T * (p * (1 - p))) @ z / len(y) + l2 * np.eye(len(w))
        w -= np.linalg.solve(hess, grad)
    weights = w[:-1] / sd
    return [round(float(v), 4) for v in weights], round(float(w[-1] - (weights * mu).sum()), 4)


def tops(rows: list[dict], semantic: bool, model) -> list[tuple[bool, bool, float]]:
    """(unanswerable, top-1 is gold, top confidence) per query, under the given weights."""
    names = confidence.SEMANTIC if semantic else confidence.LEXICAL
    saved = confidence.WEIGHTS[names]
    confidence.WEIGHTS[names] = model
    try:
        out = []
        for r in rows:
            cands = [dict(c) for c in r["candidates"]]
            confidence.assign(cands, semantic)
            out.append((r["unanswerable"], bool(cands) and cands[0]["gold"],
                        max((c["confidence"] for c in cands[:confidence.SCORED]), default=0.0)))
        return out
    finally:
        confidence.WEIGHTS[names] = saved


def rates(top: list[tuple[bool, bool, float]], threshold: float) -> dict:
    un = [c for u, _, c in top if u]
    ans = [c for u, _, c in top if not u]
    right = [c for u, g, c in top if not u and g]
    return {"abstain_rate": round(float(np.mean([c < threshold for c in un])), 3),
            "answer_rate": round(float(np.mean([c >= threshold for c in ans])), 3),
            "mean_top_confidence_answerable": round(float(np.mean(ans)), 3),
            "right_top1_share_answerable": round(len(right) / max(len(ans), 1), 3)}


def main() -> int:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--bench", required=True, help="path of the bench's run.py (its loader and AUROC)")
    ap.add_argument("--semantic", type=float, default=0.0, help="semantic weight (needs '.[semantic]')")
    ap.add_argument("--cache", help="keep the collected evidence here (re-fitting then skips the ranking)")
    ap.add_argument("--answer", type=float, default=0.9, help="answer rate every set must keep on the fitting half")
    args = ap.parse_args()
    bench = load_bench(args.bench)
    semantic = args.semantic > 0
    train = {ds: [r for seed in TRAIN_SEEDS for r in cached(args, bench, ds, seed, "even")] for ds in SETS}
    x, y = matrix([r for rows in train.values() for r in rows], semantic)
    model = fit(x, y)
    names = confidence.SEMANTIC if semantic else confidence.LEXICAL
    print(json.dumps({"features": names, "weights": model[0], "intercept": model[1]}))
    limits = [float(np.quantile([c for u, _, c in tops(rows, semantic, model) if not u], 1 - args.answer))
              for rows in train.values()]
    threshold = round(min(limits) - 0.0005, 3)
    print(json.dumps({"threshold": threshold, "per_set_limit": dict(zip(SETS, [round(v, 3) for v in limits]))}))
    for ds in SETS:
        top = tops(cached(args, bench, ds, BENCH_SEED, "odd"), semantic, model)
        auroc = bench.auroc([c for u, g, c in top if not u and g], [c for u, _, c in top if u])
        print(json.dumps({"dataset": ds, "split": "odd", "holdout_seed": BENCH_SEED, "auroc_top_confidence":
                          round(auroc, 3), **rates(top, threshold)}))
    return 0


if __name__ == "__main__":
    sys.exit(main())
