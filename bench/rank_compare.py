"""Paired comparison of two ranking runs dumped by `bench/rank_eval.py --dump`, query by query.

    .venv/bin/python bench/rank_compare.py before-banking.json after-banking.json [before2 after2 ...]

For each pair: mean reciprocal rank before and after, how many queries got better or worse, and the
share of 10 000 paired bootstrap resamples in which the change is a gain. With several pairs (one per
dev set), the same for the mean over the sets, resampling each set on its own.
"""
from __future__ import annotations

import json
import sys
from pathlib import Path

import numpy as np


def main(paths: list[str]) -> int:
    if len(paths) < 2 or len(paths) % 2:
        print(__doc__.strip(), file=sys.stderr)
        return 2
    rng = np.random.default_rng(0)
    means = []
    for before_path, after_path in zip(paths[::2], paths[1::2]):
        before, after = (json.loads(Path(p).read_text(encoding="utf-8")) for p in (before_path, after_path))
        if before["ids"] != after["ids"]:
            print(f"{before_path} and {after_path} hold different queries", file=sys.stderr)
            return 2
        d = np.array(after["rr"]) - np.array(before["rr"])
        boot = d[rng.integers(0, len(d), (10_000, len(d)))].mean(axis=1)
        means.append(boot)
        print(f"{after['dataset']} ({after['split']}): {np.mean(before['rr']):.4f} -> {np.mean(after['rr']):.4f} "
              f"({d.mean():+.4f}); better {int((d > 0).sum())}, worse {int((d < 0).sum())}; "
              f"P(gain > 0) = {(boot > 0).mean():.3f}")
    if len(means) > 1:
        print(f"mean of {len(means)} sets: P(gain > 0) = {(np.mean(means, axis=0) > 0).mean():.3f}")
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
