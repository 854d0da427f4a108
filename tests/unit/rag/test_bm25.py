"""BM25 against scores computed by hand from the formula."""

from __future__ import annotations

import math

import pytest

from llmgitops.rag.bm25 import BM25, tokenize

DOCS = ["the cat sat", "the dog sat on the mat", "cats and dogs"]


def by_hand(term_counts: list[dict[str, int]], lengths: list[int], query: list[str], k1=1.5, b=0.75):
    n, avg = len(lengths), sum(lengths) / len(lengths)
    out = []
    for counts, length in zip(term_counts, lengths, strict=True):
        score = 0.0
        for term in query:
            df = sum(1 for c in term_counts if term in c)
            idf = math.log(1 + (n - df + 0.5) / (df + 0.5))
            tf = counts.get(term, 0)
            score += idf * tf * (k1 + 1) / (tf + k1 * (1 - b + b * length / avg)) if tf else 0.0
        out.append(score)
    return out


def test_scores_match_the_formula():
    bm = BM25(DOCS)
    counts = [{"the": 1, "cat": 1, "sat": 1}, {"the": 2, "dog": 1, "sat": 1, "on": 1, "mat": 1},
              {"cats": 1, "and": 1, "dogs": 1}]
    expected = by_hand(counts, [3, 6, 3], ["the", "sat"])
    got = bm.scores("the sat")
    assert got[0] == pytest.approx(expected[0])
    assert got[1] == pytest.approx(expected[1])
    assert 2 not in got  # no shared term, no score


def test_ranking_and_k():
    bm = BM25(DOCS)
    top = bm.search("dog mat", 5)
    assert [i for i, _ in top] == [1]
    assert [i for i, _ in bm.search("sat", 1)] == [0]  # the shorter document wins on equal tf


def test_ties_break_by_index_for_stable_output():
    bm = BM25(["alpha beta", "alpha beta", "gamma"])
    assert [i for i, _ in bm.search("alpha", 2)] == [0, 1]


def test_repeated_query_terms_count():
    bm = BM25(DOCS)
    assert bm.scores("cat cat")[0] == pytest.approx(2 * bm.scores("cat")[0])


def test_unicode_casefold_tokens():
    assert tokenize("Straße STRASSE Café") == ["strasse", "strasse", "café"]
    assert [i for i, _ in BM25(["ein Café in Zürich", "a pub"]).search("ZÜRICH café", 2)] == [0]


def test_empty_corpus_and_query():
    assert BM25([]).search("x", 3) == []
    assert BM25(DOCS).search("", 3) == []
    assert BM25(DOCS).search("zebra", 3) == []


def test_idf_never_negative_for_terms_in_every_document():
    bm = BM25(["a b", "a c", "a d"])
    assert bm.idf("a") > 0


@pytest.mark.parametrize(("k1", "b"), [(-0.1, 0.5), (1.2, 1.5), (1.2, -0.1)])
def test_bad_parameters_are_refused(k1, b):
    with pytest.raises(ValueError):
        BM25(DOCS, k1=k1, b=b)
