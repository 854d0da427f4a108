"""Each retrieval metric against values computed by hand, and the evaluation run over a real BM25 retriever."""

from __future__ import annotations

import math

import pytest

from llmgitops.rag.corpus import Document
from llmgitops.rag.retrieval import (
    METRICS,
    GoldenQuery,
    LexicalRetriever,
    document_ranking,
    evaluate,
    hit_rate,
    ndcg_at_k,
    percentile,
    precision_at_k,
    recall_at_k,
    reciprocal_rank,
    relevance_of,
)
from llmgitops.rag.spec import RagSpec

RANKING = ["d3", "d1", "d7", "d2", "d9"]
REL = {"d1": 1.0, "d2": 1.0, "d5": 1.0}


def test_recall_at_k():
    assert recall_at_k(RANKING, REL, 1) == 0.0
    assert recall_at_k(RANKING, REL, 2) == pytest.approx(1 / 3)
    assert recall_at_k(RANKING, REL, 4) == pytest.approx(2 / 3)
    assert recall_at_k(RANKING, {}, 4) is None


def test_precision_at_k_divides_by_k_even_when_fewer_are_retrieved():
    assert precision_at_k(RANKING, REL, 2) == 0.5
    assert precision_at_k(RANKING, REL, 4) == 0.5
    assert precision_at_k(["d1"], REL, 4) == 0.25


def test_hit_rate():
    assert hit_rate(RANKING, REL, 1) == 0.0
    assert hit_rate(RANKING, REL, 2) == 1.0
    assert hit_rate([], REL, 3) == 0.0


def test_reciprocal_rank():
    assert reciprocal_rank(RANKING, REL) == 0.5
    assert reciprocal_rank(RANKING, {"d2": 1.0}) == 0.25
    assert reciprocal_rank(RANKING, {"d2": 1.0}, k=3) == 0.0
    assert reciprocal_rank(RANKING, {"zz": 1.0}) == 0.0


def test_ndcg_binary_by_hand():
    # relevant at ranks 2 and 4; ideal has 3 relevant at ranks 1..3, cut at k=4
    dcg = 1 / math.log2(3) + 1 / math.log2(5)
    idcg = 1 / math.log2(2) + 1 / math.log2(3) + 1 / math.log2(4)
    assert ndcg_at_k(RANKING, REL, 4) == pytest.approx(dcg / idcg)
    assert ndcg_at_k(["d1", "d2", "d5"], REL, 3) == pytest.approx(1.0)
    assert ndcg_at_k(RANKING, {}, 3) is None


def test_ndcg_graded_by_hand():
    rel = {"a": 3.0, "b": 1.0}
    got = ndcg_at_k(["b", "a"], rel, 2)
    assert got == pytest.approx((1 / 1 + 3 / math.log2(3)) / (3 / 1 + 1 / math.log2(3)))


def test_metric_table_defaults_k_to_the_ranking():
    assert METRICS["recall-at-k"](RANKING, REL, None) == pytest.approx(2 / 3)
    assert METRICS["precision-at-k"](RANKING, REL, None) == pytest.approx(2 / 5)
    assert METRICS["mrr"](RANKING, REL, None) == 0.5


def test_relevance_of_lists_and_grades():
    assert relevance_of(["a", "b"]) == {"a": 1.0, "b": 1.0}
    assert relevance_of({"a": 2, "b": 0}) == {"a": 2.0}
    assert relevance_of([1, 2]) == {"1": 1.0, "2": 1.0}
    assert relevance_of("a") is None
    assert relevance_of([True]) is None
    assert relevance_of({"a": "high"}) is None


def test_document_ranking_keeps_first_occurrence():
    assert document_ranking(["a", "b", "a", "c", "b"]) == ["a", "b", "c"]


def test_percentile_interpolates_like_numpy():
    values = [10.0, 20.0, 30.0, 40.0]
    assert percentile(values, 50) == 25.0
    assert percentile(values, 95) == pytest.approx(38.5)
    assert percentile([], 50) is None
    assert percentile([7.0], 95) == 7.0


def rag(top_k: int = 3, **chunking: object) -> RagSpec:
    return RagSpec.from_spec("kb", {
        "version": "1.0.0", "sources": [{"name": "c", "version": "1.0.0"}],
        "chunking": {"unit": "characters", "size": 40, **chunking},
        "embedding": {"model": {"id": "sentence-transformers/all-MiniLM-L6-v2"}, "dimensions": 384},
        "index": {"store": "faiss", "collection": "kb-v1"}, "retrieval": {"topK": top_k}})


DOCS = [Document("billing", "Invoices are sent monthly. Pay by card or SEPA."),
        Document("restore", "Restore deleted files from the web console within 30 days."),
        Document("install", "Install the agent on Windows with the MSI package.")]


def test_evaluate_scores_each_query_and_means():
    queries = [GoldenQuery("q1", "restore deleted files", {"restore": 1.0}),
               GoldenQuery("q2", "invoice SEPA card", {"billing": 1.0, "install": 1.0})]
    report = evaluate(LexicalRetriever(rag(), DOCS), queries,
                      {"recall": ("recall-at-k", 2), "mrr": ("mrr", None), "hit": ("hit-rate", 1)})
    first, second = report.results
    assert first.retrieved.ranking[0] == "restore" and first.scores == {"recall": 1.0, "mrr": 1.0, "hit": 1.0}
    assert second.scores["recall"] == 0.5
    assert report.mean("recall") == pytest.approx(0.75)
    summary = report.summary()
    assert summary["latency-search-p95-ms"] >= summary["latency-search-p50-ms"] >= 0


def test_top_k_limits_what_is_scored():
    queries = [GoldenQuery("q", "files agent invoices", {"install": 1.0, "restore": 1.0, "billing": 1.0})]
    one = evaluate(LexicalRetriever(rag(top_k=1), DOCS), queries, {"r": ("recall-at-k", 3)})
    three = evaluate(LexicalRetriever(rag(top_k=3), DOCS), queries, {"r": ("recall-at-k", 3)})
    assert one.mean("r") == pytest.approx(1 / 3)
    assert three.mean("r") == pytest.approx(1.0)


def test_unknown_metric_type_is_refused():
    with pytest.raises(ValueError, match="unknown retrieval metric"):
        evaluate(LexicalRetriever(rag(), DOCS), [], {"x": ("bleu", 1)})
