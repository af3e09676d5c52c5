"""Stage 2 of the search (suggest/engine.py): evidence computed only for the best RERANK candidates.

- ordered stem bigrams: phrase evidence, the idf of a bigram taken as the sum of its words' idf;
- BM25 over character 4-grams of the surface words: inflections the stemmer misses, compounds, typos;
- the BM25 of each candidate's best single passage (its title, or one sentence or line of the body),
  length-normalised against the average passage (Callan 1994: passage beside document evidence).

A mixin of `engine.Index`: it reads the index's arrays and never changes them.
"""
from __future__ import annotations

import numpy as np

from suggest import analysis
from suggest.arrays import K1, B, gather, idf_of, lookup

PASSAGE_B = 0.5


class SecondStage:
    def _bigrams(self, cand: np.ndarray, qseq: list[int], owner: np.ndarray, s: np.ndarray) -> np.ndarray:
        """`s`: the candidates' stem sequences concatenated (-1 between fields), `owner` the candidate of each."""
        pairs = sorted({(a, b) for a, b in zip(qseq, qseq[1:]) if a >= 0 and b >= 0})
        if not pairs or not len(cand):
            return np.zeros(len(cand))
        firsts = sorted({a for a, _ in pairs})
        first = np.flatnonzero(self._tmap.positions(firsts, s[:-1], len(self.vocab)) >= 0)
        first = first[owner[first] == owner[first + 1]]
        keys = np.array([(a << 32) | b for a, b in pairs], dtype=np.int64)
        codes = (s[first].astype(np.int64) << 32) | s[first + 1]
        idx, hit = lookup(keys, codes)
        hit &= s[first + 1] >= 0
        nk = len(keys)
        tf = np.bincount(owner[first[hit]] * nk + idx[hit], minlength=len(cand) * nk).reshape(len(cand), nk)
        tf = tf.astype(np.float64)
        n = max(self.n_alive, 1)
        lens = self.len_t.a[cand] + self.len_b.a[cand]
        tf /= (1 - B + B * lens / max((self.sum_t + self.sum_b) / n, 1e-3))[:, None]
        idf = np.array([idf_of(n, self._postings(a)[5]) + idf_of(n, self._postings(b)[5]) for a, b in pairs])
        return (tf * (K1 + 1) / (tf + K1)) @ idf

    def _passages(self, cand: np.ndarray, weights: dict[int, float], owner: np.ndarray, offs: np.ndarray,
                  s: np.ndarray, mass: float = 0.0) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
        """(BM25 of each candidate's best passage, the candidate's coverage of the query, the best F1 of one of
        its passages against the query).

        BM25: query terms counted per passage, each passage's length normalised against the average passage
        (b = PASSAGE_B), idf and query weights as in stage 1. Coverage: the share of the query's content words'
        idf × weight mass (`mass`, which also counts words the index does not know) that the text holds, each
        term once, stop words left out. A passage's F1 weighs its coverage of the query against the share of
        its words that are query words: the evidence suggest/confidence.py reads beside the score."""
        terms = sorted(weights)
        zero = np.zeros(len(cand))
        if not terms or not len(cand):
            return zero, zero, zero
        q = self._tmap.positions(terms, s, len(self.vocab))
        hit = np.flatnonzero(q >= 0)
        if not len(hit):
            return zero, zero, zero
        nq = len(terms)
        passage = np.searchsorted(self.pa_start.v, offs[hit], side="right") - 1
        keys, first, tf = np.unique(passage * nq + q[hit], return_index=True, return_counts=True)
        p, t = keys // nq, keys % nq
        n = max(self.n_alive, 1)
        idf = np.array([idf_of(n, self._postings(term)[5]) * weights[term] for term in terms])
        content = idf * np.array([self.vocab[term] not in self.stop for term in terms])
        norm = 1 - PASSAGE_B + PASSAGE_B * self.pa_len.a[p] / max(self.sum_p / max(self.n_p, 1), 1e-3)
        _, at, which = np.unique(p, return_index=True, return_inverse=True)
        per_passage = np.bincount(which, idf[t] * tf * (K1 + 1) / (tf + K1 * norm))
        whose = owner[hit[first[at]]]
        best, best_f1 = zero.copy(), zero.copy()
        np.maximum.at(best, whose, per_passage)
        total = max(mass, float(content.sum()), 1e-9)
        p_cover = np.bincount(which, content[t]) / total
        p_share = np.bincount(which, tf) / np.maximum(self.pa_len.a[p[at]], 1)
        np.maximum.at(best_f1, whose, 2 * p_cover * p_share / np.maximum(p_cover + p_share, 1e-9))
        held = np.unique(owner[hit] * nq + q[hit])
        cover = np.bincount(held // nq, content[held % nq], minlength=len(cand)) / total
        return best, cover, best_f1

    def _gram_df(self, g: int) -> float:
        hit = self._gdf.get(g)
        if hit is not None and hit[0] == self.version:
            return hit[1]
        df = float(min(self.w_df.a[np.frombuffer(self.g_words[g], dtype=np.int32)].sum(), self.n_alive))
        if len(self._gdf) > 100_000:
            self._gdf.clear()
        self._gdf[g] = (self.version, df)
        return df

    def _grams(self, cand: np.ndarray, surf: list[str]) -> np.ndarray:
        qg = sorted({self.gid[g] for w in set(surf) for g in analysis.grams(w) if g in self.gid})
        if not qg or not len(cand):
            return np.zeros(len(cand))
        owner, offs = gather(self.s_ptr.v, cand)
        wids, wtf = self.s_wid.a[offs], self.s_tf.a[offs]
        w_owner, goffs = gather(self.w_ptr.v, wids)
        idx = self._gmap.positions(qg, self.w_gid.a[goffs], len(self.g_words))
        hit = idx >= 0
        vals = wtf[w_owner[hit]] * self.w_gcnt.a[goffs[hit]]
        nq = len(qg)
        tf = np.bincount(owner[w_owner[hit]] * nq + idx[hit], vals, minlength=len(cand) * nq).reshape(len(cand), nq)
        tf = tf.astype(np.float64, copy=False)                  # int64 when no candidate shares a gram
        n = max(self.n_alive, 1)
        tf /= (1 - B + B * self.glen.a[cand] / max(self.sum_g / n, 1e-3))[:, None]
        idf = idf_of(n, np.array([self._gram_df(g) for g in qg]))
        return (tf * (K1 + 1) / (tf + K1)) @ idf
