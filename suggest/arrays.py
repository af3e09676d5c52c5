"""Numpy building blocks of the search engine: growable arrays, CSR gathering, sorted look-ups, BM25 idf."""
from __future__ import annotations

import numpy as np


class Grow:
    """A numpy array that grows by doubling; `.v` is the filled part."""

    def __init__(self, dtype, first=None):
        self.a = np.zeros(256, dtype)
        self.n = 0
        if first is not None:
            self.append(first)

    def append(self, value) -> None:
        if self.n == len(self.a):
            self._grow(self.n + 1)
        self.a[self.n] = value
        self.n += 1

    def extend(self, values) -> None:
        m = len(values)
        if self.n + m > len(self.a):
            self._grow(self.n + m)
        self.a[self.n:self.n + m] = values
        self.n += m

    def _grow(self, need: int) -> None:
        bigger = np.zeros(max(need, 2 * len(self.a)), self.a.dtype)
        bigger[: self.n] = self.a[: self.n]
        self.a = bigger

    @property
    def v(self) -> np.ndarray:
        return self.a[: self.n]

    def __getstate__(self) -> dict:
        return {"a": self.a[: self.n].copy(), "n": self.n}      # a snapshot keeps no spare room


K1, B = 1.2, 0.75                  # BM25 saturation and length normalisation, everywhere in the engine


def idf_of(n: float, df):
    return np.log1p((n - df + 0.5) / (df + 0.5))


def gather(ptr: np.ndarray, rows: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """For CSR rows: (position of the row in `rows`, offset into the data) of every element."""
    starts, cnt = ptr[rows], ptr[rows + 1] - ptr[rows]
    owner = np.repeat(np.arange(len(rows)), cnt)
    offs = np.arange(int(cnt.sum())) - np.repeat(np.cumsum(cnt) - cnt, cnt) + np.repeat(starts, cnt)
    return owner, offs


def lookup(sorted_keys: np.ndarray, values: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """Index of each value in sorted_keys and whether it is there."""
    idx = np.searchsorted(sorted_keys, values)
    hit = idx < len(sorted_keys)
    hit[hit] = sorted_keys[idx[hit]] == values[hit]
    return idx, hit


class PositionMap:
    """A reusable id → position table for the few ids of one query: `positions(keys, values, size)` gives
    each value's position among `keys`, else -1 (also for -1, the separator in `seq`). Cheaper than a dict
    or a sorted search over long arrays; the keys are cleared again before it returns."""

    def __init__(self):
        self.a = np.zeros(0, np.int32)

    def positions(self, keys: list[int], values: np.ndarray, size: int) -> np.ndarray:
        if len(self.a) <= size:
            self.a = np.full(2 * size + 1, -1, np.int32)       # the last entry stays -1: value -1 maps there
        self.a[keys] = np.arange(len(keys), dtype=np.int32)
        try:
            return self.a[values]
        finally:
            self.a[keys] = -1
