"""The retrieval family inside the evaluation engine: registration, scoring rules, and whole runs."""

from __future__ import annotations

import asyncio
import json

import pytest

from llmgitops.evaluation.cases import Case, Output
from llmgitops.evaluation.metrics import MetricConfigError, MetricSpec, Sample, Services, metric_class
from llmgitops.evaluation.runner import EvalConfigError, run_suite
from llmgitops.evaluation.targets import target_factory
from rag_fixtures import ragconfig_spec, write_repo


def score(mtype: str, record: dict, extra: dict, k: int | None = None, field: str | None = None):
    cls = metric_class(mtype)
    assert cls is not None, f"{mtype} is not registered"
    spec = MetricSpec("m", mtype, 0, None, {"k": k} if k else {}, field)
    metric = cls(spec, target=None)  # type: ignore[arg-type]
    sample = Sample(Case(0, "c", record, 1), Output("x", extra=extra), target=None, services=Services())  # type: ignore[arg-type]
    return asyncio.run(metric.score(sample))


def test_the_plugin_registers_the_family_and_the_target():
    for mtype in ("recall-at-k", "precision-at-k", "mrr", "ndcg-at-k", "hit-rate"):
        assert metric_class(mtype) is not None
    assert target_factory("RagConfig") is not None


def test_scores_from_the_ranking_and_the_relevant_field():
    record = {"query": "q", "relevant_ids": ["a", "c"]}
    extra = {"ranking": ["b", "a", "c"], "lexicalRanking": ["a", "c"], "embedMs": 3.0, "searchMs": 0.5}
    recall = score("recall-at-k", record, extra, k=2)
    assert recall.value == 0.5 and recall.detail["lexical"] == 1.0 and recall.detail["embedMs"] == 3.0
    assert score("mrr", record, extra).value == 0.5
    assert score("hit-rate", record, extra, k=1).value == 0.0
    assert score("precision-at-k", record, extra, k=3).value == pytest.approx(2 / 3)
    graded = score("ndcg-at-k", {"rel": {"a": 3, "c": 1}}, {"ranking": ["a", "c"]}, k=2, field="rel")
    assert graded.value == pytest.approx(1.0)


def test_unmeasurable_records_say_why():
    no_ranking = score("recall-at-k", {"relevant_ids": ["a"]}, {}, k=2)
    assert no_ranking.value is None and "RagConfig target" in no_ranking.reason
    missing = score("recall-at-k", {"query": "q"}, {"ranking": ["a"]}, k=2)
    assert missing.value is None and "relevant_ids" in missing.reason
    wrong = score("recall-at-k", {"relevant_ids": "a"}, {"ranking": ["a"]}, k=2)
    assert wrong.value is None and "neither" in wrong.reason
    empty = score("recall-at-k", {"relevant_ids": []}, {"ranking": ["a"]}, k=2)
    assert empty.value is None and empty.applicable is False


def test_k_must_be_positive():
    cls = metric_class("recall-at-k")
    with pytest.raises(MetricConfigError):
        cls(MetricSpec("m", "recall-at-k", 0, None, {"k": 0}), target=None)  # type: ignore[arg-type]
    with pytest.raises(MetricConfigError):
        cls(MetricSpec("m", "recall-at-k", 0, None, {"k": "4"}), target=None)  # type: ignore[arg-type]


def test_summary_reports_lexical_baseline_and_latency_percentiles():
    cls = metric_class("mrr")
    extras = cls.summary({}, [1.0, 0.5], [{"lexical": 1.0, "embedMs": 10.0, "searchMs": 1.0},
                                         {"lexical": 0.0, "embedMs": 30.0, "searchMs": 3.0}])
    assert extras["lexicalBaseline"] == 0.5
    assert extras["embedMs"] == {"p50": 20.0, "p95": 29.0} and extras["searchMs"]["p50"] == 2.0


def test_a_bad_corpus_is_a_finding_before_any_model_loads(tmp_path):
    root = write_repo(tmp_path)
    (root / "data" / "kb.jsonl").write_text('{"id": "a", "text": "fine"}\n{"id": "b"}\n', encoding="utf-8")
    with pytest.raises(EvalConfigError) as info:
        run_suite(root, "dev", "kb-retrieval", options=None)
    assert "record 2 has no string field 'text' (spec.parsing.textField)" in str(info.value)


def test_an_invalid_ragconfig_is_a_finding(tmp_path):
    root = write_repo(tmp_path, rag_spec=ragconfig_spec(chunking={"unit": "characters", "size": 10, "overlap": 20}))
    with pytest.raises(EvalConfigError) as info:
        run_suite(root, "dev", "kb-retrieval")
    assert "chunking.overlap" in str(info.value)


@pytest.mark.slow
def test_a_retrieval_suite_end_to_end(tmp_path, minilm):
    root = write_repo(tmp_path)
    report = run_suite(root, "dev", "kb-retrieval", report_dir=tmp_path / "out")
    doc = report.document
    assert report.passed is True
    metrics = {m["name"]: m for m in doc["metrics"]}
    assert metrics["recall-at-2"]["value"] == 1.0 and metrics["hit-rate"]["value"] == 1.0
    assert metrics["mrr"]["extras"]["lexicalBaseline"] is not None
    assert set(metrics["mrr"]["extras"]["embedMs"]) == {"p50", "p95"}
    case = doc["cases"][0]
    assert case["extra"]["ranking"][0] == "billing"
    assert case["context"][0]["title"] == "Billing" and case["latencyMs"] > 0
    saved = json.loads((tmp_path / "out" / "report.json").read_text())
    assert saved["passed"] is True
    # the second run embeds nothing: every chunk comes from the cache
    from llmgitops.rag.embedding import EmbeddingCache

    assert EmbeddingCache.at(root).count() == 4
