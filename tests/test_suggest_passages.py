"""Passage evidence: the article with one sentence that says what the ticket says comes first."""
from __future__ import annotations

import numpy as np

from suggest.engine import Index

# The same words, the same title and length, no query word pair adjacent in either: stage 1, the
# character grams and the bigrams score both alike. Only how the words group into sentences differs.
SCATTERED = ("My refund stays pending while the shop said nothing. The card remains late again. "
             "Support replied blocked else today.")
TOGETHER = ("My refund stays pending while the card remains blocked. The shop said nothing else today. "
            "Support replied late again.")
NOISE = [("Change the billing address", "Edit the address printed on invoices."),
         ("Export data", "Download your data as a file.\nIt arrives by mail."),
         ("Printer offline", "Turn the printer off and on. Add it again.")]


def test_one_sentence_holding_the_query_beats_the_same_words_scattered():
    assert sorted(SCATTERED.lower().replace(".", "").split()) == sorted(TOGETHER.lower().replace(".", "").split())
    ix = Index("en")
    ix.add(1, "Refund question", SCATTERED)            # first in: it would win every tie
    ix.add(2, "Refund question", TOGETHER)
    for n, (title, body) in enumerate(NOISE, start=3):
        ix.add(n, title, body)
    hits = ix.search("refund card blocked")
    assert [item for item, _ in hits[:2]] == [2, 1]
    assert hits[0][1] > hits[1][1]


def test_passages_cover_exactly_the_title_and_body_words_after_edits_and_deletes():
    ix = Index("en")
    docs = {1: ("Title only", ""), 2: ("", "Body only. Two sentences!\n\nAnd a line"), 3: ("", ""),
            4: ("Both", "One line\nanother line? yes."), 5: NOISE[0], 6: NOISE[1]}
    for item, (title, body) in docs.items():
        ix.add(item, title, body)
    ix.add(4, "Both, edited", "Now a single sentence")
    ix.remove(5)
    for item in docs:
        if item == 5:
            continue
        d = ix.doc_of[item]
        words = ix.seq.v[ix.seq_ptr.v[d]:ix.seq_ptr.v[d + 1]]
        spans = [ix.seq.v[s:s + n] for s, n in zip(ix.pa_start.v[ix.pa_ptr.v[d]:ix.pa_ptr.v[d + 1]],
                                                    ix.pa_len.v[ix.pa_ptr.v[d]:ix.pa_ptr.v[d + 1]])]
        assert all(len(s) and (s >= 0).all() for s in spans)
        assert np.array_equal(np.concatenate(spans) if spans else words[:0], words[words >= 0])
    alive = [ix.doc_of[i] for i in ix.doc_of]
    assert ix.n_p == sum(int(ix.pa_ptr.v[d + 1] - ix.pa_ptr.v[d]) for d in alive)
    assert ix.sum_p == sum(int(ix.pa_len.v[ix.pa_ptr.v[d]:ix.pa_ptr.v[d + 1]].sum()) for d in alive)
    assert [item for item, _ in ix.search("single sentence edited")][:1] == [4]
