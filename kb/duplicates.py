"""Near-duplicate articles (KCS: one article per issue, so reuse is counted in one place): pairs of articles in one
language whose title and issue say nearly the same thing, for the audit, the file import and the widget's
"create from ticket" check. Reported, never merged: a person decides which one stays.

The similarity of two articles (0-100) is the mean of two rapidfuzz scores over "title issue", case-folded with
punctuation removed:
- token_set_ratio: word order and repeated words do not matter ("Outlook calendar does not sync" is "Outlook
  does not sync calendar"), but it gives 100 whenever one text's words are a subset of the other's, so a short
  title would be a "duplicate" of every longer article that contains it ("Printer offline" vs "Printer offline
  after the Windows update on HP LaserJet");
- token_sort_ratio: word order does not matter, and the words the texts do not share count against them, which
  pulls that subset case back down (100 and 45 above: 73, not a duplicate).
Texts that name different numbers (error codes, versions, models: "Error 404 when ..." and "Error 500 when ...")
are about different things however alike their words are, so such a pair loses NUMBERS_DIFFER points.
Two articles are near-duplicates at audit.duplicate_threshold (default 90) or more.

Thousands of articles compare quickly: token_sort_ratio is fuzz.ratio over each text's words sorted once, which
rapidfuzz.process.cdist runs in bulk with a score cutoff (the mean can reach the threshold t only when it is at
least 2t - 100), over a window of texts of similar length (fuzz.ratio of texts of lengths a <= b is at most
200a / (a + b)); only those candidates get the slower token_set_ratio.
"""
from __future__ import annotations

import sqlite3
from bisect import bisect_left, bisect_right
from collections import defaultdict
from collections.abc import Hashable, Iterable, Sequence

import numpy as np
from rapidfuzz import fuzz, process, utils

DEFAULT_THRESHOLD = 90
BLOCK = 256                 # query texts per cdist call: bounds the score matrix at BLOCK x window doubles
NUMBERS_DIFFER = 20         # points off when the two texts name different numbers
_DRAFT = object()           # the draft's key among the rows it is compared with (similar)


def text_of(title: str | None, issue: str | None) -> str:
    """The text two articles are compared on: title and issue, case-folded, punctuation as spaces."""
    return " ".join(utils.default_process(f"{title or ''} {issue or ''}").casefold().split())


def _sorted_words(text: str) -> str:
    return " ".join(sorted(text.split()))


def _numbers(text: str) -> frozenset[str]:
    return frozenset(word for word in text.split() if any(c.isdigit() for c in word))


def _score(a: str, b: str, sorted_ratio: float) -> float:
    score = (fuzz.token_set_ratio(a, b) + sorted_ratio) / 2
    if _numbers(a) != _numbers(b):
        score = max(0.0, score - NUMBERS_DIFFER)
    return round(score, 1)


def similarity(title_a: str, issue_a: str, title_b: str, issue_b: str) -> float:
    """How alike two articles' titles and issues are, 0-100 (the module docstring says how)."""
    a, b = text_of(title_a, issue_a), text_of(title_b, issue_b)
    if not a or not b:
        return 0.0
    return _score(a, b, fuzz.ratio(_sorted_words(a), _sorted_words(b)))


class _Language:
    """The rows of one language, ordered by the length of their text (for the length window)."""

    def __init__(self, keyed: list[tuple[Hashable, str]]):
        keyed = sorted((item for item in keyed if item[1]), key=lambda item: len(item[1]))
        self.keys = [k for k, _ in keyed]
        self.texts = [t for _, t in keyed]
        self.sorted_words = [_sorted_words(t) for t in self.texts]
        self.lengths = [len(t) for t in self.sorted_words]

    def window(self, shortest: int, longest: int, cutoff: float) -> tuple[int, int]:
        """The rows whose length lets fuzz.ratio reach `cutoff` against a text of length shortest..longest."""
        if cutoff <= 0:
            return 0, len(self.texts)
        factor = cutoff / (200 - cutoff)
        return (bisect_left(self.lengths, int(shortest * factor)),
                bisect_right(self.lengths, int(longest / factor) + 1))

    def candidates(self, queries: list[int], cutoff: float, after_only: set[int] | None):
        """(query position, row position, sorted-words ratio) with a ratio of at least `cutoff`. A row in
        `after_only` is paired with a query only when it comes after it (so a pair of two queries appears once)."""
        for start in range(0, len(queries), BLOCK):
            block = queries[start:start + BLOCK]
            lo, hi = self.window(self.lengths[block[0]], self.lengths[block[-1]], cutoff)
            if after_only is not None and len(after_only) == len(self.texts):
                lo = max(lo, block[0])      # every row is a query: each pair is found from its first row
            if lo >= hi:
                continue
            scores = process.cdist([self.sorted_words[i] for i in block], self.sorted_words[lo:hi], scorer=fuzz.ratio,
                                   score_cutoff=max(cutoff, 0), dtype=np.float64, workers=-1)
            for qi, ci in zip(*np.nonzero(scores >= max(cutoff, 0)), strict=True):
                i, j = block[qi], lo + int(ci)
                if i == j or (after_only is not None and j in after_only and j < i):
                    continue
                yield i, j, float(scores[qi, ci])

    def score(self, i: int, j: int, ratio: float) -> float:
        return _score(self.texts[i], self.texts[j], ratio)


def _by_language(rows: Iterable[Sequence]) -> dict[str, list[tuple[Hashable, str]]]:
    groups: dict[str, list[tuple[Hashable, str]]] = defaultdict(list)
    for key, title, issue, language in rows:
        groups[language or ""].append((key, text_of(title, issue)))
    return groups


def pairs(rows: Iterable[Sequence], threshold: float = DEFAULT_THRESHOLD,
          among: Iterable[Hashable] | None = None) -> list[tuple[Hashable, Hashable, float]]:
    """Near-duplicate pairs (key a, key b, score) among `rows` of (key, title, issue, language), in the same
    language only, with a score of at least `threshold`; best first. With `among` (a set of keys), only pairs
    that involve at least one of those rows (an import's items against each other and the existing articles);
    the row named in `among` comes first. A row's key (an id or an external id) must be unique."""
    among = None if among is None else set(among)
    found = []
    for keyed in _by_language(rows).values():
        lang = _Language(keyed)
        if among is None:
            queries = list(range(len(lang.keys)))
        else:
            queries = [i for i, key in enumerate(lang.keys) if key in among]
        cutoff = 2 * threshold - 100
        for i, j, ratio in lang.candidates(queries, cutoff, set(queries)):
            score = lang.score(i, j, ratio)
            if score >= threshold:
                first, second = (i, j) if among is not None or i < j else (j, i)
                found.append((lang.keys[first], lang.keys[second], score))
    return sorted(found, key=lambda p: (-p[2], str(p[0]), str(p[1])))


def similar(title: str, issue: str, language: str, rows: Iterable[Sequence], limit: int = 5,
            min_score: float = 50) -> list[tuple[Hashable, float]]:
    """The rows (key, title, issue, language) most like one draft in its language: up to `limit` (key, score)
    with a score of at least `min_score`, best first."""
    draft = text_of(title, issue)
    same = [(key, text) for key, text in _by_language(rows).get(language or "", [])]
    if not draft or not same or limit <= 0:
        return []
    lang = _Language([(_DRAFT, draft), *same])
    me = lang.keys.index(_DRAFT)
    scored = [(lang.keys[j], lang.score(me, j, ratio))
              for _, j, ratio in lang.candidates([me], 2 * min_score - 100, None)]
    scored = [(key, score) for key, score in scored if score >= min_score]
    return sorted(scored, key=lambda p: (-p[1], str(p[0])))[:limit]



def article_rows(conn: sqlite3.Connection, language: str | None = None) -> list[tuple[int, str, str, str]]:
    """(id, title, issue, language) of every article that is not archived (in one language when given): what a
    new article may duplicate."""
    sql = "SELECT id, title, issue, language FROM articles WHERE state != 'archived'"
    args: tuple = ()
    if language:
        sql, args = sql + " AND language = ?", (language,)
    return [tuple(r) for r in conn.execute(sql + " ORDER BY id", args).fetchall()]


def similar_articles(conn: sqlite3.Connection, title: str, issue: str, language: str, limit: int = 5,
                     min_score: float = 50) -> list[dict]:
    """The existing articles (not archived) most like a draft, for "reuse instead of creating": up to `limit`
    of {id, external_id, title, state, visibility, score}, best first."""
    found = similar(title, issue, language, article_rows(conn, language), limit, min_score)
    out = []
    for article_id, score in found:
        row = conn.execute("SELECT id, external_id, title, state, visibility FROM articles WHERE id = ?",
                           (article_id,)).fetchone()
        out.append({"id": row[0], "external_id": row[1], "title": row[2], "state": row[3], "visibility": row[4],
                    "score": score})
    return out
