"""Offline ranking evaluation: import a dataset into a fresh SQLite file and call suggest.rank directly.

Faster than the HTTP bench for tuning. Queries are split by position (even / odd) so parameters can be
chosen on one half and reported on the other:

    .venv/bin/python bench/rank_eval.py --bench ../shared/bench/run.py --dataset stackfaq-en --split even

`--dump FILE` also writes each query's reciprocal rank (top 10) for bench/rank_compare.py.
"""
from __future__ import annotations

import argparse
import importlib.util
import json
import statistics
import sys
import tempfile
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from kb.articles import import_articles  # noqa: E402
from store import connect, migrate  # noqa: E402
from suggest.rank import Query, suggest  # noqa: E402


def load_bench(path: str):
    spec = importlib.util.spec_from_file_location("bench_run", path)
    mod = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(mod)
    return mod


def main() -> int:
    ap = argparse.ArgumentParser()
    ap.add_argument("--bench", required=True, help="path of the bench's run.py (its loader and scoring)")
    ap.add_argument("--dataset", required=True)
    ap.add_argument("--split", choices=("all", "even", "odd"), default="all")
    ap.add_argument("--scale", type=int, default=0)
    ap.add_argument("--limit", type=int, default=0)
    ap.add_argument("--bm25", action="store_true", help="also score the bench's plain BM25")
    ap.add_argument("--semantic", type=float, default=0.0, help="semantic re-ranking weight (needs '.[semantic]')")
    ap.add_argument("--dump", help="write each query's reciprocal rank (top 10) to this JSON file")
    args = ap.parse_args()
    bench = load_bench(args.bench)
    folder = Path(args.dataset) if Path(args.dataset).is_dir() else bench.DATA / args.dataset
    articles = bench.pad_corpus(bench.load_jsonl(folder / "articles.jsonl"), args.scale)
    queries = bench.load_jsonl(folder / "queries.jsonl")
    if args.split != "all":
        queries = queries[(args.split == "odd")::2]
    if args.limit:
        queries = queries[: args.limit]
    with tempfile.TemporaryDirectory() as tmp:
        conn = connect(Path(tmp) / "eval.db")
        migrate(conn)
        conn = conn.conn
        t0 = time.perf_counter()
        for i in range(0, len(articles), 500):
            res = import_articles(conn, articles[i:i + 500], "en")
            assert not res["errors"], res["errors"][:3]
        import_s = time.perf_counter() - t0
        ranked, lat, tax_ok, tax_n = [], [], 0, 0
        for q in queries:
            t = time.perf_counter()
            out = suggest(conn, Query(subject=q["subject"], description=q["description"], language=q["language"],
                                      default_language=q["language"], semantic=args.semantic))
            lat.append(time.perf_counter() - t)
            ranked.append([a["external_id"] for a in out["articles"]])
            if q.get("taxonomy"):
                tax_n += 1
                tax_ok += out["taxonomy"]["path"] == q["taxonomy"]
    summary = {"dataset": folder.name, "split": args.split, "queries": len(queries),
               "sidecar": {k: round(v, 3) for k, v in bench.score(ranked, queries).items()},
               "taxonomy_accuracy": round(tax_ok / tax_n, 3) if tax_n else None,
               "rank_ms_p50": round(1000 * statistics.median(lat), 2),
               "rank_ms_p95": round(1000 * bench.pct(lat, 0.95), 2), "import_s": round(import_s, 2)}
    if args.dump:
        rr = [next((1 / (i + 1) for i, x in enumerate(r[:10]) if x in q["gold"]), 0.0) for r, q in zip(ranked, queries)]
        Path(args.dump).write_text(json.dumps({"dataset": folder.name, "split": args.split,
                                               "ids": [q["id"] for q in queries], "rr": rr}))
    if args.bm25:
        docs = [bench.tokens(a["title"] + " " + a["body"]) for a in articles]
        bm, ids = bench.BM25(docs), [a["external_id"] for a in articles]
        base = [[ids[i] for i in bm.top(bench.tokens(q["subject"] + " " + q["description"]), 10)] for q in queries]
        summary["bm25"] = {k: round(v, 3) for k, v in bench.score(base, queries).items()}
    print(json.dumps(summary))
    return 0


if __name__ == "__main__":
    sys.exit(main())
