"""Taxonomy inference that learns from use, measured offline on a dataset whose queries carry a taxonomy path.

The even-numbered queries are recorded as tickets on which an agent reused their gold article (through
tickets.events, as the API does); the odd-numbered ones are then inferred. Prints the odd half's scores and
taxonomy accuracy before any event and after the first N (--tickets, default all) reuse events:

    .venv/bin/python bench/reuse_eval.py --bench ../shared/bench/run.py --dataset banking77-en --tickets 100
"""
from __future__ import annotations

import argparse
import json
import sys
import tempfile
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))
sys.path.insert(0, str(Path(__file__).resolve().parent))

from rank_eval import load_bench  # noqa: E402

from integrations.base import Ticket  # noqa: E402
from kb.articles import import_articles  # noqa: E402
from store import connect, migrate  # noqa: E402
from suggest.rank import Query, suggest  # noqa: E402
from tickets import events, intake  # noqa: E402


def main() -> int:
    ap = argparse.ArgumentParser()
    ap.add_argument("--bench", required=True, help="path of the bench's run.py (its loader and scoring)")
    ap.add_argument("--dataset", required=True)
    ap.add_argument("--tickets", type=int, default=0, help="how many even-half queries become reused tickets")
    args = ap.parse_args()
    bench = load_bench(args.bench)
    folder = Path(args.dataset) if Path(args.dataset).is_dir() else bench.DATA / args.dataset
    articles, queries = bench.load_jsonl(folder / "articles.jsonl"), bench.load_jsonl(folder / "queries.jsonl")
    past, test = queries[0::2], queries[1::2]
    past = past[: args.tickets] if args.tickets else past
    cfg = {"zendesk": {"write_back": "off"}}

    def evaluate(conn) -> dict:
        ranked, ok = [], 0
        for q in test:
            out = suggest(conn, Query(subject=q["subject"], description=q["description"], language=q["language"],
                                      default_language=q["language"]))
            ranked.append([a["external_id"] for a in out["articles"]])
            ok += out["taxonomy"]["path"] == q.get("taxonomy")
        return {"sidecar": {k: round(v, 3) for k, v in bench.score(ranked, test).items()},
                "taxonomy_accuracy": round(ok / len(test), 3)}

    with tempfile.TemporaryDirectory() as tmp:
        store = connect(Path(tmp) / "reuse.db")
        migrate(store)
        conn = store.conn
        for i in range(0, len(articles), 500):
            assert not import_articles(conn, articles[i:i + 500], "en")["errors"]
        ids = dict(conn.execute("SELECT external_id, id FROM articles"))
        before = evaluate(conn)
        for q in past:
            intake.save_ticket(conn, Ticket("bench", q["id"], subject=q["subject"], description=q["description"],
                                            locale=q["language"]))
            events.record(conn, cfg, "bench", q["id"], events.Event(kind="reused", agent="bench",
                                                                    article_id=ids[q["gold"][0]]))
        after = evaluate(conn)
    print(json.dumps({"dataset": folder.name, "queries": len(test), "reused_tickets": len(past),
                      "before": before, "after": after}))
    return 0


if __name__ == "__main__":
    sys.exit(main())
