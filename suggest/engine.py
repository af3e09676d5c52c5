"""An in-process inverted index for one language, updated one document at a time.

Stage 1 scores every document with BM25 (k1 1.2, b 0.75) summed over two fields, title (weight 1.5)
and body, each with its own document frequencies — as Lucene/tantivy score multi-field queries. Query
words unknown to the vocabulary are corrected (rapidfuzz, edit distance 1, or 2 for long words) at
half weight; stop words count half. Stage 2 (suggest/evidence.py) re-scores the best `RERANK` with
stem bigrams, character 4-grams and the best single passage. Weights were chosen on the even half of each
dev set's queries (bench/rank_eval.py --split even) and checked on the odd half.

Postings are append-only `array` buffers read through numpy views; a deleted or replaced document
is masked (`alive`) and its statistics withdrawn. Everything is rebuilt from SQLite on demand.
"""
from __future__ import annotations

import math
from array import array
from collections import Counter
from itertools import accumulate
from typing import NamedTuple

import numpy as np
from rapidfuzz import process
from rapidfuzz.distance import Levenshtein

from suggest import analysis
from suggest.arrays import K1, B, Grow, PositionMap, gather, idf_of
from suggest.evidence import SecondStage

TITLE_WEIGHT = 1.5
BIGRAM_WEIGHT = 0.3
GRAM_WEIGHT = 0.3
PASSAGE_WEIGHT = 0.2
FUZZY_WEIGHT = 0.5
RERANK = 50
COMMON_SHARE = 0.1
MAX_QUERY_WORDS = 300
SCORED_POSTINGS = 2_000_000        # cached stage-1 scores kept at most (16 bytes each)
CACHED_FROM = 2_000                # postings a term needs before its scores are cached
MAX_FIELD_WORDS = 60_000           # tf is kept in 16 bits
STATES = {"validated": 0, "not_validated": 1, "wip": 2, "archived": 3}
VISIBILITY = {"public": 0, "internal": 1}


class Hit(NamedTuple):
    """One search result and its evidence: `cover`, the share of the query's content-word idf mass (words no
    document holds included) that the document holds; `passage_f1`, how well its best single passage and the
    query overlap (evidence.SecondStage._passages)."""
    item: int
    score: float
    cover: float
    passage_f1: float


class Index(SecondStage):
    def __init__(self, language: str):
        self.language = language
        self.stop = analysis.stop_stems(language)
        # vocabulary of stems and their postings (doc, tf in title, tf in body)
        self.tid: dict[str, int] = {}
        self.vocab: list[str] = []
        self.by_len: dict[int, list[str]] = {}
        self.p_doc: list[array] = []
        self.p_tt: list[array] = []
        self.p_tb: list[array] = []
        # surface words, their 4-grams (CSR) and which words hold a gram
        self.wid: dict[str, int] = {}
        self.w_df = Grow(np.int32)
        self.w_ngrams: list[int] = []
        self.w_ptr, self.w_gid, self.w_gcnt = Grow(np.int64, 0), Grow(np.int32), Grow(np.float32)
        self.gid: dict[str, int] = {}
        self.g_words: list[array] = []
        # documents
        self.doc_of: dict[int, int] = {}
        self.item, self.alive = Grow(np.int64), Grow(np.bool_)
        self.state, self.vis = Grow(np.int8), Grow(np.int8)
        self.len_t, self.len_b, self.glen = Grow(np.float32), Grow(np.float32), Grow(np.float32)
        self.seq_ptr, self.seq = Grow(np.int64, 0), Grow(np.int32)
        # passages (the title, then each sentence or line of the body): start in `seq`, length; CSR per document
        self.pa_ptr, self.pa_start, self.pa_len = Grow(np.int64, 0), Grow(np.int64), Grow(np.int32)
        self.sum_p, self.n_p = 0.0, 0
        self.s_ptr, self.s_wid, self.s_tf = Grow(np.int64, 0), Grow(np.int32), Grow(np.float32)
        self.n_alive, self.sum_t, self.sum_b, self.sum_g = 0, 0.0, 0.0, 0.0
        self.dead = 0
        self.version = 0
        self.norm = (1.0, 1.0)          # average lengths the cached weights were computed with
        self._weights: dict[int, tuple] = {}
        self._scored: dict[tuple, tuple] = {}
        self._scored_postings, self._scored_version = 0, -1
        self._fixes: dict[str, tuple] = {}
        self._gdf: dict[int, float] = {}
        self._masks: dict[tuple, tuple] = {}
        self._gmap = PositionMap()             # gram id → position among the query's grams
        self._tmap = PositionMap()             # term id → position among the query's terms

    def __getstate__(self) -> dict:
        """What a snapshot keeps (suggest/snapshot.py): the index, not the caches of past queries."""
        state = self.__dict__.copy()
        state.update(_weights={}, _scored={}, _scored_postings=0, _scored_version=-1, _fixes={}, _gdf={}, _masks={},
                     _gmap=PositionMap(), _tmap=PositionMap())
        return state

    # ---- building ---------------------------------------------------------------------------
    def _term(self, s: str) -> int:
        t = self.tid.get(s)
        if t is None:
            t = self.tid[s] = len(self.vocab)
            self.vocab.append(s)
            self.by_len.setdefault(len(s), []).append(s)
            self.p_doc.append(array("i"))
            self.p_tt.append(array("H"))
            self.p_tb.append(array("H"))
        return t

    def _word(self, w: str) -> int:
        i = self.wid.get(w)
        if i is None:
            i = self.wid[w] = len(self.wid)
            self.w_df.append(0)
            self.w_ngrams.append(len(analysis.grams(w)))
            for g, n in Counter(analysis.grams(w)).items():
                gi = self.gid.get(g)
                if gi is None:
                    gi = self.gid[g] = len(self.g_words)
                    self.g_words.append(array("i"))
                self.g_words[gi].append(i)
                self.w_gid.append(gi)
                self.w_gcnt.append(n)
            self.w_ptr.append(self.w_gid.n)
        return i

    def add(self, item: int, title: str, body: str, state: str = "validated", visibility: str = "public") -> None:
        if item in self.doc_of:
            self.remove(item)
        lang, stem = self.language, analysis.stem
        tw = analysis.words(title)[:MAX_FIELD_WORDS]
        parts = _capped(analysis.passage_words(body), MAX_FIELD_WORDS)
        bw = [w for ws in parts for w in ws]
        ts, bs = [stem(lang, w) for w in tw], [stem(lang, w) for w in bw]
        d = self.item.n
        ct, cb = Counter(ts), Counter(bs)
        tid, p_doc, p_tt, p_tb = self.tid, self.p_doc, self.p_tt, self.p_tb
        for s in ct.keys() | cb.keys():
            t = tid.get(s)
            if t is None:
                t = self._term(s)
            p_doc[t].append(d)
            p_tt[t].append(ct.get(s, 0))
            p_tb[t].append(cb.get(s, 0))
        body_at = self.seq.n + len(ts) + 1
        self.seq.extend([tid[s] for s in ts] + [-1] + [tid[s] for s in bs])
        self.seq_ptr.append(self.seq.n)
        lens = [len(ws) for ws in parts]
        starts = list(accumulate(lens[:-1], initial=body_at)) if lens else []
        if ts:
            starts, lens = [body_at - len(ts) - 1] + starts, [len(ts)] + lens
        self.pa_start.extend(starts)
        self.pa_len.extend(lens)
        self.pa_ptr.append(self.pa_len.n)
        self.sum_p, self.n_p = self.sum_p + sum(lens), self.n_p + len(lens)
        surf = Counter(map(analysis.surface, tw + bw))
        wid, word = self.wid, self._word
        wids = [wid.get(w) if w in wid else word(w) for w in surf]
        self.w_df.a[wids] += 1
        self.s_wid.extend(wids)
        counts = list(surf.values())
        self.s_tf.extend(counts)
        self.s_ptr.append(self.s_wid.n)
        ngrams = self.w_ngrams
        glen = float(sum(n * ngrams[i] for i, n in zip(wids, counts)))
        self.doc_of[item] = d
        self.item.append(item)
        self.alive.append(True)
        self.state.append(STATES.get(state, 3))
        self.vis.append(VISIBILITY.get(visibility, 1))
        self.len_t.append(len(ts))
        self.len_b.append(len(bs))
        self.glen.append(glen)
        self.n_alive += 1
        self.sum_t, self.sum_b, self.sum_g = self.sum_t + len(ts), self.sum_b + len(bs), self.sum_g + glen
        self.version += 1

    def remove(self, item: int) -> None:
        d = self.doc_of.pop(item, None)
        if d is None:
            return
        self.alive.a[d] = False
        self.w_df.a[self.s_wid.v[self.s_ptr.a[d]:self.s_ptr.a[d + 1]]] -= 1
        self.n_alive -= 1
        self.sum_t -= self.len_t.a[d]
        self.sum_b -= self.len_b.a[d]
        self.sum_g -= self.glen.a[d]
        self.sum_p -= float(self.pa_len.a[self.pa_ptr.a[d]:self.pa_ptr.a[d + 1]].sum())
        self.n_p -= int(self.pa_ptr.a[d + 1] - self.pa_ptr.a[d])
        self.dead += 1
        self.version += 1

    @property
    def size(self) -> int:
        return self.n_alive

    # ---- searching --------------------------------------------------------------------------
    def _avg(self) -> tuple[float, float]:
        n = max(self.n_alive, 1)
        cur = (max(self.sum_t / n, 1e-3), max(self.sum_b / n, 1e-3))
        if any(abs(c - o) > 0.1 * o for c, o in zip(cur, self.norm)):
            self.norm = cur            # lengths drifted: weights are recomputed lazily
            self._weights.clear()
        return self.norm

    def _postings(self, t: int) -> tuple:
        """(docs, title tf weight, body tf weight, df title, df body, df any) of a term, live documents only
        counted; tf weights are BM25's saturation with length norms. Cached until the term or a doc changes."""
        n = len(self.p_doc[t])
        hit = self._weights.get(t)
        if hit is not None and hit[0] == (n, self.dead):
            return hit[1]
        avg_t, avg_b = self._avg()
        docs = np.frombuffer(self.p_doc[t], dtype=np.int32).copy()
        live = self.alive.v[docs]
        out = [docs]
        dfs = []
        for tf_buf, lens, avg in ((self.p_tt[t], self.len_t.v, avg_t), (self.p_tb[t], self.len_b.v, avg_b)):
            tf = np.frombuffer(tf_buf, dtype=np.uint16).astype(np.float32)
            dfs.append(float(np.count_nonzero(live & (tf > 0))))
            tf = tf / (1 - B + B * lens[docs] / avg)
            out.append((tf * (K1 + 1) / (tf + K1)).astype(np.float32))
        value = (*out, *dfs, float(np.count_nonzero(live)), float(out[1].max(initial=0)), float(out[2].max(initial=0)))
        if len(self._weights) > 20_000:
            self._weights.clear()
        self._weights[t] = ((n, self.dead), value)
        return value

    def _scores(self, t: int, qw: float) -> tuple[np.ndarray, np.ndarray, float]:
        """(live docs, their stage-1 score for term t at query weight qw, the highest of them). The scores of
        common terms (in CACHED_FROM documents or more; stop words recur in every query) are kept per (term,
        weight) until any document changes, up to SCORED_POSTINGS in all."""
        if self._scored_version != self.version:
            self._scored.clear()
            self._scored_postings, self._scored_version = 0, self.version
        hit = self._scored.get((t, qw))
        if hit is not None:
            return hit
        docs, wt, wb, df_t, df_b, *_ = self._postings(t)
        n = float(self.n_alive)
        score = qw * TITLE_WEIGHT * idf_of(n, df_t) * wt.astype(np.float64) + qw * idf_of(n, df_b) * wb
        live = self.alive.v[docs]
        value = (docs[live].astype(np.intp), score[live], float(score.max(initial=0)))
        if len(docs) >= CACHED_FROM and self._scored_postings + len(docs) <= SCORED_POSTINGS:
            self._scored[(t, qw)] = value
            self._scored_postings += len(docs)
        return value

    def _live(self, s: str) -> bool:
        """Whether a live document holds the stem (one that only deleted or edited-away text held is unknown)."""
        t = self.tid.get(s)
        return t is not None and self._postings(t)[5] > 0

    def correct(self, s: str) -> str | None:
        """The nearest indexed stem within a small edit distance (ties: the commoner one)."""
        if len(s) < 4 or s.isdigit():
            return None
        hit = self._fixes.get(s)
        if hit is not None and hit[0] == self.version:
            return hit[1]
        limit = 1 if len(s) <= 7 else 2
        best = None
        for n in range(len(s) - limit, len(s) + limit + 1):
            for cand, dist, _ in process.extract(s, self.by_len.get(n, ()), scorer=Levenshtein.distance,
                                                 score_cutoff=limit, limit=5):
                if not self._live(cand):
                    continue
                key = (dist, -len(self.p_doc[self.tid[cand]]))
                if best is None or key < best[0]:
                    best = (key, cand)
        fix = best[1] if best else None
        if len(self._fixes) > 50_000:
            self._fixes.clear()
        self._fixes[s] = (self.version, fix)
        return fix

    def eligible(self, audience: str) -> np.ndarray:
        key = (audience,)
        hit = self._masks.get(key)
        if hit is not None and hit[0] == self.version:
            return hit[1]
        mask = self.alive.v & (self.state.v < STATES["archived"])
        if audience != "agent":
            mask &= self.vis.v == VISIBILITY["public"]
        self._masks[key] = (self.version, mask)
        return mask

    def query_terms(self, text: str) -> tuple[dict[int, float], list[int], list[str]]:
        """(term id → weight, stem ids in order with -1 for unknown, folded surface words)."""
        weights, seq, surf, _ = self._query(text)
        return weights, seq, surf

    def _query(self, text: str) -> tuple[dict[int, float], list[int], list[str], int]:
        """query_terms and the number of distinct content words no live document holds, even corrected: a
        word of the ticket that no article uses (numbers and words under 3 letters aside, as order numbers
        and initials say nothing about the topic)."""
        ws = analysis.words(text)[:MAX_QUERY_WORDS]
        weights: dict[int, float] = {}
        seq: list[int] = []
        unknown = set()
        for w in ws:
            s = analysis.stem(self.language, w)
            weight = analysis.STOP_WEIGHT if s in self.stop else 1.0
            if not self._live(s) and s not in self.stop:
                s, weight = self.correct(s), FUZZY_WEIGHT
                if s is None and len(w) >= 3 and not any(c.isdigit() for c in w):
                    unknown.add(w)
            t = self.tid.get(s, -1) if s else -1
            seq.append(t)
            if t >= 0:
                weights[t] = max(weights.get(t, 0.0), weight)
        return weights, seq, [analysis.surface(w) for w in ws], len(unknown)

    def coverage(self, text: str, items: list[int]) -> list[float]:
        """For each item, the idf-weighted share of the query's content words (stop words aside) it holds."""
        weights, _, _ = self.query_terms(text)
        terms = [t for t in weights if self.vocab[t] not in self.stop]
        docs = np.array([self.doc_of.get(i, -1) for i in items], dtype=np.int32)
        n = float(max(self.n_alive, 1))
        held, whole = np.zeros(len(items)), 0.0
        for t in terms:
            posting = self._postings(t)
            idf = float(idf_of(n, posting[5])) * weights[t]
            pos = np.minimum(np.searchsorted(posting[0], docs), max(len(posting[0]) - 1, 0))
            held += idf * (posting[0][pos] == docs)
            whole += idf
        return list(held / whole) if whole > 0 else [0.0] * len(items)

    def search(self, text: str, audience: str = "agent", k: int = 50,
               exclude: set[int] | frozenset = frozenset()) -> list[tuple[int, float]]:
        """(item id, score) of the best k eligible documents, best first."""
        return [(h.item, h.score) for h in self.search_explained(text, audience, k, exclude)]

    def search_explained(self, text: str, audience: str = "agent", k: int = 50,
                         exclude: set[int] | frozenset = frozenset()) -> list[Hit]:
        """The best k eligible documents with their evidence (`Hit`), best first: what suggest/confidence.py
        reads beside the score."""
        if not self.n_alive:
            return []
        weights, seq, surf, unknown = self._query(text)
        if not weights:
            return []
        n = float(self.n_alive)
        parts = []
        for t, qw in weights.items():
            docs, score, bound = self._scores(t, qw)
            parts.append((len(docs) > COMMON_SHARE * n, docs, score, bound))
        mask = self.eligible(audience)
        if exclude:
            mask = mask.copy()
            mask[[self.doc_of[i] for i in exclude if i in self.doc_of]] = False
        # MaxScore: terms in more than COMMON_SHARE of the documents cost most and add least. Score the others
        # first; if even the most the common terms can add (`bound`) cannot lift a document that has none of the
        # others into the top RERANK, only documents within `bound` of that cut are completed with them.
        rare = [p for p in parts if not p[0]]
        common = [p for p in parts if p[0]]
        bound = sum(p[3] for p in common)
        scores = self._accumulate(rare or parts, mask)
        cand = np.flatnonzero(scores > 0)
        if common and rare and len(cand) > RERANK:
            cut = np.partition(scores[cand], -RERANK)[-RERANK]
            if bound < cut:
                cand = cand[scores[cand] > cut - bound]
                first = scores[cand]
                for _, docs, score, _ in common:
                    pos = np.minimum(np.searchsorted(docs, cand), len(docs) - 1)
                    hit = docs[pos] == cand
                    first[hit] += score[pos[hit]]
                top = np.argsort(-first, kind="stable")[:RERANK]
                cand, first = cand[top], first[top]
            else:
                scores += self._accumulate(common, mask)
                cand = np.flatnonzero(scores > 0)
                cand, first = self._best(cand, scores)
        else:
            if common and rare:
                scores += self._accumulate(common, mask)
                cand = np.flatnonzero(scores > 0)
            cand, first = self._best(cand, scores)
        owner, offs = gather(self.seq_ptr.v, cand)          # the candidates' stem sequences, read once
        s = self.seq.a[offs]
        mass = sum(float(idf_of(n, self._postings(t)[5])) * w for t, w in weights.items()
                   if self.vocab[t] not in self.stop) + unknown * idf_of(n, 0)
        passage, cover, passage_f1 = self._passages(cand, weights, owner, offs, s, mass)
        total = (first + BIGRAM_WEIGHT * self._bigrams(cand, seq, owner, s) + GRAM_WEIGHT * self._grams(cand, surf)
                 + PASSAGE_WEIGHT * passage)
        order = np.argsort(-total, kind="stable")[:k]
        return [Hit(int(self.item.a[cand[i]]), float(total[i]), float(cover[i]), float(passage_f1[i])) for i in order]

    def _accumulate(self, parts: list, mask: np.ndarray) -> np.ndarray:
        scores = np.bincount(np.concatenate([p[1] for p in parts]), np.concatenate([p[2] for p in parts]),
                             minlength=self.item.n).astype(np.float64, copy=False)   # int64 when empty
        scores *= mask
        return scores

    @staticmethod
    def _best(cand: np.ndarray, scores: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
        if len(cand) > RERANK:
            cand = cand[np.argpartition(scores[cand], -RERANK)[-RERANK:]]
        return cand, scores[cand]

def _capped(parts: list[list[str]], limit: int) -> list[list[str]]:
    """The passages' words, cut once `limit` words have been taken."""
    out = []
    for ws in parts:
        if limit <= 0:
            break
        out.append(ws[:limit])
        limit -= len(out[-1])
    return out


def stats(ix: Index) -> dict:
    return {"language": ix.language, "documents": ix.n_alive, "terms": len(ix.vocab), "dead": ix.dead,
            "postings": int(sum(len(p) for p in ix.p_doc)), "log2_docs": round(math.log2(max(ix.n_alive, 1)), 1)}
