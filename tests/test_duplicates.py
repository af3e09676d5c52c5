"""kb.duplicates: near-duplicate pairs by title and issue, per language; the articles most like a draft."""
from __future__ import annotations

import itertools
import random

from kb import articles, duplicates


def test_similarity_ignores_word_order_case_and_punctuation_but_not_extra_words():
    assert duplicates.similarity("Outlook does not sync calendar", "", "outlook calendar: does NOT sync!", "") == 100
    assert duplicates.similarity("Reset your password", "", "Resetting your password", "") >= 90
    # A short title whose words all appear in a longer one is not its duplicate (token_set_ratio alone says 100).
    assert duplicates.similarity("Printer offline", "", "Printer offline after the Windows update on HP LaserJet",
                                 "") < 80
    assert duplicates.similarity("Refund policy for annual plans", "", "Refund policy for monthly plans", "") < 90
    assert duplicates.similarity("!!!", "", "!!!", "") == 0      # nothing to compare is no evidence
    # Different numbers (error codes, versions) are different issues, however alike the words.
    assert duplicates.similarity("Error 404 when opening the page", "", "Error 500 when opening the page", "") < 80
    assert duplicates.similarity("Error 404 when opening the page", "", "Error 404 when opening a page", "") >= 90


ROWS = [
    (1, "VPN disconnects every few minutes", "The VPN drops every five minutes", "en"),
    (2, "VPN disconnects every few minute", "The VPN drops every five minutes", "en"),
    (3, "VPN disconnects every few minutes", "The VPN drops every five minutes", "de"),     # other language
    (4, "Printer offline", "", "en"),
    (5, "Printer offline after the Windows update", "The printer is offline since the update", "en"),
    (6, "Printer is offline", "", "en"),
]


def test_pairs_are_per_language_above_the_threshold_best_first():
    found = duplicates.pairs(ROWS, 90)

    assert [(sorted((a, b)), s >= 90) for a, b, s in found] == [([1, 2], True), ([4, 6], True)]
    assert found[0][2] >= found[1][2]
    assert duplicates.pairs(ROWS, 100) == []
    assert {frozenset(p[:2]) for p in duplicates.pairs(ROWS, 97)} == {frozenset((1, 2))}   # 99.6 and 95.5


def test_pairs_among_some_rows_name_those_rows_first():
    assert [(a, b) for a, b, _ in duplicates.pairs(ROWS, 90, among={2})] == [(2, 1)]
    assert duplicates.pairs(ROWS, 90, among={5}) == []
    assert duplicates.pairs(ROWS, 90, among=set()) == []


def test_pairs_find_exactly_what_comparing_every_pair_finds():
    """The length window and the cdist cutoff only skip pairs that cannot reach the threshold."""
    rng = random.Random(7)
    words = ["printer", "vpn", "password", "reset", "outlook", "calendar", "sync", "login", "refund", "invoice",
             "error", "crash", "slow", "wifi", "app", "404", "500"]
    rows = [(i, " ".join(rng.choices(words, k=rng.randint(1, 6))), " ".join(rng.choices(words, k=rng.randint(0, 14))),
             rng.choice(["en", "de"])) for i in range(250)]
    for threshold in (70, 90):
        expected = set()
        for a, b in itertools.combinations(rows, 2):
            score = duplicates.similarity(a[1], a[2], b[1], b[2])
            if a[3] == b[3] and score >= threshold:
                expected.add((frozenset((a[0], b[0])), score))
        found = {(frozenset((a, b)), score) for a, b, score in duplicates.pairs(rows, threshold)}
        assert found == expected and expected
        among = set(range(0, 250, 9))
        part = {(frozenset((a, b)), s) for a, b, s in duplicates.pairs(rows, threshold, among=among)}
        assert part == {p for p in expected if p[0] & among}


def test_similar_gives_the_top_rows_in_the_drafts_language():
    top = duplicates.similar("VPN disconnects every few minutes", "The VPN drops every five minutes", "en", ROWS,
                             limit=2)

    assert top == [(1, 100.0), (2, top[1][1])] and 90 <= top[1][1] < 100
    assert [k for k, _ in duplicates.similar("Printer offline", "", "en", ROWS, limit=5, min_score=60)] == [4, 6, 5]
    assert duplicates.similar("Printer offline", "", "pl", ROWS) == []
    assert duplicates.similar("Printer offline", "", "en", ROWS, limit=0) == []


def test_similar_articles_reads_the_knowledge_base_and_leaves_archived_out(conn):
    items = [{"external_id": "a", "title": "Refund for a damaged parcel", "issue": "My parcel arrived broken",
              "body": "x", "language": "en"},
             {"external_id": "b", "title": "Refund for a damaged parcel", "issue": "My parcel arrived broken",
              "body": "x", "language": "en", "state": "archived"},
             {"external_id": "c", "title": "Change the delivery address", "body": "x", "language": "en"}]
    assert articles.import_articles(conn, items, "en")["created"] == 3

    found = duplicates.similar_articles(conn, "Refund for damaged parcel", "The parcel arrived broken", "en")

    assert [(f["external_id"], f["state"]) for f in found] == [("a", "validated")]
    assert found[0]["score"] >= 80 and found[0]["id"] == articles.get_by_external_id(conn, "a")["id"]
    assert [r[0] for r in duplicates.article_rows(conn)] == [articles.get_by_external_id(conn, e)["id"]
                                                            for e in ("a", "c")]
