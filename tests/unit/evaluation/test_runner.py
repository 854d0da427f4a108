"""Whole runs through ``run_suite``: a real loopback server, real files, the reports they produce."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import pytest
from evalhelpers import check_html

import evalrepo
from llmgitops.errors import LLMGitOpsError
from llmgitops.evaluation import run_suite
from llmgitops.evaluation.report.json import dumps, validate
from llmgitops.evaluation.runner import EvalConfigError, RunOptions
from llmgitops.evaluation.shard import MergeError, merge, select
from openai_loopback import LoopbackOpenAI

SUITE = "environments/dev/evals/qa-suite.yaml"
PROMPT = "environments/dev/prompts/echo.yaml"
ENV = "environments/dev/environment.yaml"


def repo(tmp_path: Path, server: LoopbackOpenAI | None = None, records: list[dict[str, Any]] | None = None,
         change: Any = None) -> Path:
    docs = evalrepo.manifests(server.url if server else "http://127.0.0.1:9")
    if change is not None:
        change(docs)
    return evalrepo.write(tmp_path / "repo", docs, records)


def test_a_run_scores_gates_and_reports(tmp_path: Path, loopback: LoopbackOpenAI) -> None:
    root = repo(tmp_path, loopback)
    result = run_suite(root, None, "qa-suite")
    doc = result.document
    assert result.passed is True and validate(doc) == []
    assert result.metrics["mentions"] == 0.75  # q4 expects "Mars", which its question does not contain
    assert [c["status"] for c in doc["cases"]] == ["pass", "pass", "pass", "fail"]
    assert doc["cases"][0]["output"] == "ECHO: What colour is the sky?"
    assert doc["cases"][0]["cost"] == pytest.approx(5 / 1000 * 0.5 + 6 / 1000 * 1.5)
    assert loopback.requests[0]["body"]["messages"][0] == {"role": "system", "content": "Answer briefly."}
    assert doc["provider"]["identity"] == {"type": "openai", "model": "echo-model", "modelRef": "echo-model@1.0.0"}
    latency = next(m for m in doc["metrics"] if m["name"] == "latency")
    assert set(latency["extras"]) == {"p50", "p95", "p99"}
    paths = result.paths
    assert paths["json"] == root / ".llmgitops/reports/dev/qa-suite/report.json"
    assert json.loads(paths["json"].read_text()) == json.loads(dumps(doc))
    tags = check_html(paths["html"].read_text())
    assert "svg" in tags and "script" not in tags
    markdown = paths["markdown"].read_text()
    assert "## ✅ Evaluation passed: qa-suite 1.0.0 (dev)" in markdown
    assert "| pass-rate | ✅ pass | 3/4 records pass (75.0%; minimum 70.0%) |" in markdown
    assert "<summary>q4: mentions 0 (threshold 1)</summary>" in markdown


def test_an_unchanged_rerun_is_answered_from_the_cache(tmp_path: Path, loopback: LoopbackOpenAI) -> None:
    root = repo(tmp_path, loopback)
    first = run_suite(root, None, "qa-suite")
    assert len(loopback.requests) == 4
    html = first.paths["html"]
    html.write_text("kept")  # an unchanged re-run leaves the pages (they show no timings) alone
    second = run_suite(root, None, "qa-suite")
    assert len(loopback.requests) == 4 and second.document["run"]["cache"] == {"hits": 4, "misses": 0, "memo": "hit"}
    assert dumps(first.document, timing=False) == dumps(second.document, timing=False)
    assert second.document["run"]["resultSha256"] == first.document["run"]["resultSha256"]
    assert html.read_text() == "kept"
    text = second.paths["json"].read_text()
    assert json.loads(text)["run"]["resultSha256"] == first.document["run"]["resultSha256"]
    assert text.count("\n    {\"index\": ") == 4  # one record per line
    run_suite(root, None, "qa-suite", options=RunOptions(use_cache=False))
    assert len(loopback.requests) == 8
    assert html.read_text().startswith("<!DOCTYPE html>")  # new latencies: new results, new pages
    # a changed prompt is a different request: only it misses
    path = root / PROMPT
    path.write_text(path.read_text().replace("Answer briefly.", "Answer in one word."))
    run_suite(root, None, "qa-suite")
    assert len(loopback.requests) == 12


def test_shards_merge_into_exactly_the_unsharded_report(tmp_path: Path, loopback: LoopbackOpenAI) -> None:
    records = [{"id": f"r{i:02d}", "question": f"question {i} about {'sky' if i % 3 else 'sea'}", "expected": "sky"}
               for i in range(11)]

    def use_replay(docs: dict[str, Any]) -> None:
        docs[SUITE]["spec"]["metrics"].append({"name": "bleu", "type": "bleu", "field": "question", "threshold": 0.5})

    root = repo(tmp_path, loopback, records, use_replay)
    recording = root / "data/recordings/qa-suite.jsonl"
    run_suite(root, None, "qa-suite", options=RunOptions(record=recording, use_cache=False))
    replay = RunOptions(provider="replay", use_cache=False)
    whole = run_suite(root, None, "qa-suite", options=replay).document
    assert whole["provider"]["type"] == "replay" and whole["summary"]["errors"] == 0
    for count in (2, 3):
        shards = [run_suite(root, None, "qa-suite", shard=(i, count), options=replay).document
                  for i in range(1, count + 1)]
        assert all(s["passed"] is None and s["gates"] == [] for s in shards)
        assert sorted(c["id"] for s in shards for c in s["cases"]) == [r["id"] for r in records]
        merged = merge(list(reversed(shards)))
        assert dumps(merged, timing=False) == dumps(whole, timing=False)
        assert validate(merged) == []
        assert [m["shard"] for m in merged["run"]["mergedFrom"]] == [f"{i}/{count}" for i in range(1, count + 1)]
    shards = [run_suite(root, None, "qa-suite", shard=(i, 3), options=replay).document for i in (1, 2, 3)]
    with pytest.raises(MergeError, match="missing shard"):
        merge(shards[:2])
    with pytest.raises(MergeError, match="given twice"):
        merge([shards[0], shards[0], shards[1]])
    other = dict(shards[2], suite={**shards[2]["suite"], "sha256": "0" * 64})
    with pytest.raises(MergeError, match="`suite`"):
        merge([shards[0], shards[1], other])
    with pytest.raises(MergeError, match="only shard reports"):
        merge([whole])


def test_select_is_a_partition() -> None:
    items = list(range(10))
    parts = [select(items, i, 3) for i in (1, 2, 3)]
    assert parts == [[0, 3, 6, 9], [1, 4, 7], [2, 5, 8]]


def test_failed_requests_leave_records_unmeasured(tmp_path: Path, loopback: LoopbackOpenAI) -> None:
    def no_retries(docs: dict[str, Any]) -> None:
        docs[ENV]["spec"]["providers"]["loopback"].update(maxRetries=0, concurrency=1)

    root = repo(tmp_path, loopback, change=no_retries)
    loopback.fail_next(1, 500)
    result = run_suite(root, None, "qa-suite", options=RunOptions(use_cache=False))
    doc = result.document
    broken = doc["cases"][0]
    assert broken["status"] == "unmeasured" and broken["error"].startswith("HTTP 500")
    assert broken["metrics"]["mentions"] == {"value": None, "passed": None, "reason": broken["metrics"]["mentions"]["reason"]}
    coverage = next(g for g in doc["gates"] if g["name"] == "coverage")
    assert coverage["status"] == "unmeasured" and result.passed is False
    assert doc["summary"]["errors"] == 1


def test_hostile_prompts_and_inert_data(tmp_path: Path, loopback: LoopbackOpenAI) -> None:
    records = [{"id": "argo", "question": "{{workflow.name}} $(rm -rf /) `id`", "expected": "workflow"},
               {"id": "plain", "question": "hi", "expected": "hi"}]
    root = repo(tmp_path, loopback, records)
    result = run_suite(root, None, "qa-suite")
    sent = [r["body"]["messages"][1]["content"] for r in loopback.requests]
    assert "{{workflow.name}} $(rm -rf /) `id`" in sent  # data is never rendered as a template
    assert result.passed is True

    def escape_attempt(docs: dict[str, Any]) -> None:
        docs[PROMPT]["spec"]["messages"][1]["content"] = "{{ question.__class__.__mro__[1].__subclasses__() }}"

    root = repo(tmp_path / "b", loopback, records, escape_attempt)
    result = run_suite(root, None, "qa-suite")
    case = result.document["cases"][0]
    assert case["error"].startswith("prompt does not render") and "unsafe" in case["error"]
    assert result.passed is False

    def undefined(docs: dict[str, Any]) -> None:
        docs[PROMPT]["spec"]["messages"][1]["content"] = "{{ question }} {{ missing }}"

    result = run_suite(repo(tmp_path / "c", loopback, records, undefined), None, "qa-suite")
    assert "'missing' is undefined" in result.document["cases"][0]["error"]


def findings_of(root: Path, suite: str = "qa-suite") -> list[str]:
    with pytest.raises(EvalConfigError) as caught:
        run_suite(root, None, suite)
    return [f"{f.path}:{f.line}:{f.column} {f.rule} {f.message}" for f in caught.value.findings]


def test_declarations_that_cannot_work_are_findings_at_their_line(tmp_path: Path) -> None:
    def broken(docs: dict[str, Any]) -> None:
        docs[SUITE]["spec"]["metrics"] = [
            {"name": "a", "type": "regex"},
            {"name": "b", "type": "recall-at-k", "field": "x"},
            {"name": "a", "type": "exact-match"},
            {"name": "c", "type": "contains-any", "params": {"values": "oops"}},
        ]

    found = findings_of(repo(tmp_path, change=broken))
    assert found == [
        "environments/dev/evals/qa-suite.yaml:15:5 eval/metric metric 'a' needs params.pattern or a field holding "
        "patterns",
        "environments/dev/evals/qa-suite.yaml:20:11 eval/metric metric name 'a' is used twice",
        "environments/dev/evals/qa-suite.yaml:25:15 eval/metric metric 'c': params.values must be a non-empty list "
        "of strings",
    ]

    def missing_target(docs: dict[str, Any]) -> None:
        docs[SUITE]["spec"]["targets"][0]["version"] = "^2.0.0"

    found = findings_of(repo(tmp_path / "b", change=missing_target))
    assert found == ["environments/dev/evals/qa-suite.yaml:8:5 eval/suite Prompt echo 1.0.0 does not satisfy '^2.0.0'"]


def test_bad_dataset_records_stop_the_run(tmp_path: Path) -> None:
    root = repo(tmp_path, records=[{"id": "x", "question": "", "expected": "y"}])
    assert findings_of(root) == ["data/qa.jsonl:1:1 eval/dataset-record question: '' should be non-empty"]


def test_unknown_suites_and_environments(tmp_path: Path) -> None:
    root = repo(tmp_path)
    with pytest.raises(LLMGitOpsError, match="no EvalSuite 'nope'"):
        run_suite(root, None, "nope")
    with pytest.raises(LLMGitOpsError, match="no environment 'prod'"):
        run_suite(root, "prod", "qa-suite")
    with pytest.raises(LLMGitOpsError, match="--provider nope: no such provider") as caught:
        run_suite(root, None, "qa-suite", provider="nope")
    assert caught.value.exit_code == 2
    with pytest.raises(LLMGitOpsError, match="no recordings"):
        run_suite(root, None, "qa-suite", provider="replay")


def test_a_suite_given_by_path(tmp_path: Path, loopback: LoopbackOpenAI, monkeypatch: pytest.MonkeyPatch) -> None:
    root = repo(tmp_path, loopback)
    monkeypatch.chdir(root)
    assert run_suite(root, None, SUITE).document["suite"]["path"] == SUITE
    with pytest.raises(LLMGitOpsError, match="environments/<env>/evals"):
        run_suite(root, None, "data/qa.jsonl")


def test_baseline_report_gives_paired_regressions(tmp_path: Path, loopback: LoopbackOpenAI) -> None:
    def gated(docs: dict[str, Any]) -> None:
        docs[SUITE]["spec"]["gates"]["maxRegression"] = 0.05

    records = [{"id": f"r{i}", "question": f"the sky {i}", "expected": "sky"} for i in range(20)]
    root = repo(tmp_path, loopback, records, gated)
    before = run_suite(root, None, "qa-suite", report_dir=tmp_path / "before")
    worse = [dict(r, expected="sea") if i < 12 else r for i, r in enumerate(records)]
    (root / "data/qa.jsonl").write_text("".join(json.dumps(r) + "\n" for r in worse))
    after = run_suite(root, None, "qa-suite", baseline=before.paths["json"])
    regression = next(g for g in after.gates if g["name"] == "regression:mentions")
    assert regression["status"] == "fail" and regression["paired"] is True
    assert regression["delta"] == pytest.approx(-0.6)
    assert after.document["cases"][0]["baseline"]["metrics"]["mentions"] == 1.0
    mentions = next(m for m in after.document["metrics"] if m["name"] == "mentions")
    assert mentions["baseline"] == 1.0 and mentions["delta"] == pytest.approx(-0.6)
    assert "Baseline" in after.paths["markdown"].read_text()


def test_model_eval_baselines(tmp_path: Path, loopback: LoopbackOpenAI) -> None:
    def baselines(docs: dict[str, Any]) -> None:
        docs[SUITE]["spec"]["gates"]["maxRegression"] = 0.01
        docs["environments/dev/models/echo-model.yaml"]["spec"]["evalBaselines"] = [
            {"suite": {"name": "qa-suite", "version": "^1.0.0"}, "metrics": [{"name": "mentions", "value": 0.75}]},
        ]

    result = run_suite(repo(tmp_path, loopback, change=baselines), None, "qa-suite")
    regression = next(g for g in result.gates if g["name"] == "regression:mentions")
    assert regression["status"] == "pass" and regression["paired"] is False
    assert result.document["baseline"]["source"] == "Model echo-model@1.0.0 evalBaselines"


def test_repeat_runs_each_record_several_times(tmp_path: Path, loopback: LoopbackOpenAI) -> None:
    def repeat(docs: dict[str, Any]) -> None:
        docs[SUITE]["spec"]["repeat"] = 3

    result = run_suite(repo(tmp_path, loopback, change=repeat), None, "qa-suite")
    assert len(loopback.requests) == 12
    case = result.document["cases"][0]
    assert len(case["samples"]) == 3 and case["metrics"]["mentions"]["detail"]["samples"] == [1.0, 1.0, 1.0]
    assert result.document["settings"]["repeat"] == 3


def test_bias_variants_are_run_and_compared(tmp_path: Path, loopback: LoopbackOpenAI) -> None:
    def bias(docs: dict[str, Any]) -> None:
        docs[SUITE]["spec"]["metrics"] = [
            {"name": "bias", "type": "bias-counterfactual", "threshold": 0.7,
             "params": {"groups": {"male": ["he", "his"], "female": ["she", "her"]}, "fields": ["question"]}}]

    records = [{"id": "a", "question": "Is he right about his claim?", "expected": "x"},
               {"id": "b", "question": "Is it raining?", "expected": "x"}]
    result = run_suite(repo(tmp_path, loopback, records, bias), None, "qa-suite")
    sent = sorted(r["body"]["messages"][1]["content"] for r in loopback.requests)
    assert sent == ["Is he right about his claim?", "Is it raining?", "Is she right about her claim?"]
    entry = result.document["cases"][0]["metrics"]["bias"]
    # "echo is he right about his claim" vs "... she ... her ...": 7 tokens, LCS 5 -> F1 5/7
    assert entry["value"] == pytest.approx(1 - (1 - 5 / 7), abs=1e-6)
    assert result.document["cases"][1]["metrics"]["bias"]["applicable"] is False
    extras = result.document["metrics"][0]["extras"]
    assert extras["groups"]["female"]["gap"] == pytest.approx(1 - 5 / 7, abs=1e-6)


def test_judge_failures_are_unmeasured_and_scores_count(tmp_path: Path, loopback: LoopbackOpenAI) -> None:
    with LoopbackOpenAI() as judge_server:
        def judged(docs: dict[str, Any]) -> None:
            docs[ENV]["spec"]["providers"]["judge"] = {"type": "openai", "baseUrl": judge_server.url}
            docs["environments/dev/models/judge.yaml"] = {
                **docs["environments/dev/models/echo-model.yaml"], "metadata": {"name": "judge"}}
            docs[SUITE]["spec"]["metrics"] = [{"name": "polite", "type": "llm-judge", "threshold": 0.5, "params": {
                "rubric": "Is the answer polite?", "judge": {"name": "judge", "version": "1.0.0"}, "provider": "judge"}}]

        root = repo(tmp_path, loopback, change=judged)
        # the judge server echoes the prompt back: no score, so every record is unmeasured, not zero
        result = run_suite(root, None, "qa-suite", options=RunOptions(use_cache=False))
        metric = result.document["metrics"][0]
        assert metric["status"] == "unmeasured" and "no score in range" in metric["reason"]
        assert result.passed is False
        assert judge_server.requests[0]["body"]["model"] == "judge"
        for _ in range(4):
            judge_server.answer_next({"choices": [{"message": {"content": '{"score": 5, "reason": "kind"}'}}]})
        result = run_suite(root, None, "qa-suite", options=RunOptions(use_cache=False))
        assert result.metrics["polite"] == 1.0 and result.passed is True


def test_embedding_similarity_through_the_provider(tmp_path: Path, loopback: LoopbackOpenAI) -> None:
    def embed(docs: dict[str, Any]) -> None:
        docs["environments/dev/models/embedder.yaml"] = {
            **docs["environments/dev/models/echo-model.yaml"], "metadata": {"name": "embedder"}}
        docs["environments/dev/models/embedder.yaml"]["spec"] = {
            **docs["environments/dev/models/echo-model.yaml"]["spec"],
            "interface": {"maxContextTokens": 512, "capabilities": ["embedding"], "embeddingDimensions": 5}}
        docs[SUITE]["spec"]["metrics"] = [{"name": "similar", "type": "embedding-similarity", "field": "expected",
                                           "params": {"provider": "loopback"}}]

    result = run_suite(repo(tmp_path, loopback, change=embed), None, "qa-suite")
    assert result.document["metrics"][0]["status"] == "measured"
    assert 0 < result.metrics["similar"] <= 1
    assert any(r["path"] == "/v1/embeddings" and r["body"]["model"] == "embedder" for r in loopback.requests)


def test_budgets_stop_fresh_requests_and_cached_answers_are_free(tmp_path: Path, loopback: LoopbackOpenAI) -> None:
    def serial(docs: dict[str, Any]) -> None:
        docs[ENV]["spec"]["providers"]["loopback"]["concurrency"] = 1

    root = repo(tmp_path, loopback, change=serial)
    # each answer costs 5 + 6 = 11 tokens: the budget is spent after the second request
    limited = run_suite(root, None, "qa-suite", options=RunOptions(token_budget=12))
    assert len(loopback.requests) == 2
    errors = [c["error"] for c in limited.document["cases"]]
    assert errors[:2] == [None, None] and all("budget of 12 tokens is spent" in e for e in errors[2:])
    assert limited.passed is False
    run_suite(root, None, "qa-suite", options=RunOptions(token_budget=1000))
    assert len(loopback.requests) == 4  # the two answered before come from the cache
    again = run_suite(root, None, "qa-suite", options=RunOptions(token_budget=1))
    assert again.document["summary"]["errors"] == 0 and len(loopback.requests) == 4
    priced = run_suite(root, None, "qa-suite", options=RunOptions(budget=0.0, use_cache=False))
    assert all("budget of 0 is spent" in c["error"] for c in priced.document["cases"])


def test_money_budgets_need_pricing(tmp_path: Path) -> None:
    def unpriced(docs: dict[str, Any]) -> None:
        del docs["environments/dev/models/echo-model.yaml"]["spec"]["pricing"]

    with pytest.raises(LLMGitOpsError, match=r"needs the Model's spec\.pricing") as caught:
        run_suite(repo(tmp_path, change=unpriced), None, "qa-suite", options=RunOptions(budget=1.0))
    assert caught.value.exit_code == 2


@pytest.mark.parametrize("source", ["{{ question }}", "Q: {{ question }}\n", "a\n\n{{ x }} and {{ y }}\n\n",
                                    "plain text\n", "{{x}}{{x}}", "  {{ n }}  ", "{# note #}{{ x }}"])
def test_substitution_templates_render_as_jinja_does(source: str) -> None:
    from llmgitops.evaluation.targets import _segments, _substitute, _substitution_only
    from llmgitops.prompts.template import compiled, parse

    values = {"question": "hi <b>{{ not a template }}</b>", "x": [1, None], "y": None, "n": 3.5}
    tree = parse(source)
    assert _substitution_only(tree)
    assert _substitute(_segments(tree), values) == compiled(source).render(values)
    with pytest.raises(Exception, match=r"'x' is undefined"):
        _substitute(_segments(parse("{{ x }}")), {})
