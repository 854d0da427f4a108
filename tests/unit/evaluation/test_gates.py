"""Gates from per-record results: pass rate, coverage and the unmeasured policy, regression against a
baseline decided on a seeded bootstrap interval, environment gates."""

from __future__ import annotations

import copy
import random
from typing import Any

import pytest

from llmgitops.evaluation.gates import summarize
from llmgitops.evaluation.stats import bootstrap_interval, paired_delta_interval, percentile
from llmgitops.evaluation.suite import gate_settings


def test_percentile_is_linear_interpolation() -> None:
    assert percentile([1, 2, 3, 4], 50) == 2.5
    assert percentile([10], 95) == 10
    assert percentile([1, 2, 3, 4, 5], 95) == pytest.approx(4.8)
    with pytest.raises(ValueError):
        percentile([], 50)


def test_bootstrap_is_seeded_and_covers_the_mean() -> None:
    rng = random.Random(3)
    values = [rng.random() for _ in range(200)]
    first = bootstrap_interval(values, seed=11)
    assert first == bootstrap_interval(values, seed=11)
    lo, hi = first
    assert lo < sum(values) / len(values) < hi
    assert 0.05 < hi - lo < 0.2  # about 4 standard errors of a uniform mean over 200 draws (0.02 each)
    assert bootstrap_interval([0.5, 0.5, 0.5], seed=1) == (0.5, 0.5)
    delta, dlo, dhi = paired_delta_interval([1.0, 1.0, 0.0], [1.0, 1.0, 1.0], seed=1)
    assert delta == pytest.approx(-1 / 3) and dlo <= delta <= dhi


def make_doc(values: list[float | None], *, threshold: float | None = 1.0, baseline: list[float] | None = None,
             settings: dict[str, Any] | None = None, baseline_value: float | None = None,
             latencies: list[float] | None = None) -> dict[str, Any]:
    cases = []
    for i, value in enumerate(values):
        entry: dict[str, Any] = {"value": value, "passed": None if value is None or threshold is None else value >= threshold}
        if value is None:
            entry["reason"] = "judge call failed"
        case: dict[str, Any] = {"index": i, "id": f"r{i}", "input": {}, "output": "x", "error": None,
                                "latencyMs": latencies[i] if latencies else 10.0, "inputTokens": 1, "outputTokens": 1,
                                "metrics": {"accuracy": entry}}
        if baseline is not None:
            case["baseline"] = {"metrics": {"accuracy": baseline[i]}, "output": "x"}
        cases.append(case)
    definition: dict[str, Any] = {"name": "accuracy", "type": "exact-match", "direction": "higher", "bounded": True}
    if threshold is not None:
        definition["threshold"] = threshold
    base_doc = None
    if baseline is not None or baseline_value is not None:
        value = baseline_value if baseline_value is not None else sum(baseline or []) / len(baseline or [1])
        base_doc = {"source": "test", "metrics": {"accuracy": value}}
    return {"settings": {"seed": 1729, "unmeasured": "fail", "sources": {}, **(settings or {})},
            "metricDefinitions": [definition], "baseline": base_doc, "shard": None, "cases": cases}


def gate(doc: dict[str, Any], name: str) -> dict[str, Any]:
    return next(g for g in doc["gates"] if g["name"] == name)


def test_pass_rate_gate() -> None:
    doc = summarize(make_doc([1, 1, 1, 0], settings={"minPassRate": 0.75}))
    assert gate(doc, "pass-rate")["status"] == "pass" and doc["passed"] is True
    assert doc["summary"]["passRate"] == 0.75
    doc = summarize(make_doc([1, 1, 0, 0], settings={"minPassRate": 0.75}))
    assert gate(doc, "pass-rate")["status"] == "fail" and doc["passed"] is False
    assert doc["metrics"][0]["passRate"] == 0.5 and doc["metrics"][0]["value"] == 0.5


def test_unmeasured_records_are_not_passes_and_follow_the_policy() -> None:
    values: list[float | None] = [1, 1, 1, None]
    strict = summarize(make_doc(values, settings={"minPassRate": 0.75}))
    assert [c["status"] for c in strict["cases"]] == ["pass", "pass", "pass", "unmeasured"]
    assert gate(strict, "pass-rate")["status"] == "pass"  # 3 of 3 measured
    coverage = gate(strict, "coverage")
    assert coverage["status"] == "unmeasured" and coverage["effect"] == "fails the run"
    assert "judge call failed" in coverage["message"] and strict["passed"] is False
    warn = summarize(make_doc(values, settings={"minPassRate": 0.75, "unmeasured": "warn"}))
    assert warn["passed"] is True and gate(warn, "coverage")["effect"] == "warning"
    everything = summarize(make_doc([None, None], settings={"minPassRate": 0.5, "unmeasured": "ignore"}))
    assert everything["metrics"][0]["status"] == "unmeasured" and everything["metrics"][0]["value"] is None
    assert gate(everything, "pass-rate")["status"] == "unmeasured" and everything["passed"] is True


def test_a_clear_regression_fails() -> None:
    # 20 of 50 records that passed before fail now: a drop of 0.4, far beyond 0.05 and beyond noise
    current = [0.0] * 20 + [1.0] * 30
    doc = summarize(make_doc(current, baseline=[1.0] * 50, settings={"maxRegression": 0.05}))
    regression = gate(doc, "regression:accuracy")
    assert regression["status"] == "fail" and regression["paired"] is True
    assert regression["delta"] == pytest.approx(-0.4)
    assert regression["ci"][1] < -0.05
    assert doc["passed"] is False


def test_noise_within_the_interval_passes() -> None:
    # 3 of 50 records flip: the point estimate (-0.06) is past the 0.05 allowance, but the interval
    # reaches 0, so the evidence does not show a regression beyond the allowance
    current = [0.0] * 3 + [1.0] * 47
    doc = summarize(make_doc(current, baseline=[1.0] * 50, settings={"maxRegression": 0.05}))
    regression = gate(doc, "regression:accuracy")
    assert regression["status"] == "pass", regression
    assert "within noise" in regression["message"]


def test_improvements_and_unpaired_baselines() -> None:
    doc = summarize(make_doc([1.0] * 10, baseline=[0.0] * 10, settings={"maxRegression": 0.0}))
    assert gate(doc, "regression:accuracy")["status"] == "pass"
    # a baseline value only (Model evalBaselines): the interval of the current mean against it
    current = [1.0] * 30 + [0.0] * 20  # 0.6, interval roughly [0.46, 0.74]
    doc = summarize(make_doc(current, baseline_value=0.9, settings={"maxRegression": 0.05}))
    regression = gate(doc, "regression:accuracy")
    assert regression["paired"] is False and regression["status"] == "fail"
    doc = summarize(make_doc(current, baseline_value=0.66, settings={"maxRegression": 0.05}))
    assert gate(doc, "regression:accuracy")["status"] == "pass"


def test_summarize_is_deterministic() -> None:
    rng = random.Random(5)
    base = make_doc([float(rng.random() < 0.7) for _ in range(300)], baseline=[float(rng.random() < 0.75) for _ in range(300)],
                    settings={"maxRegression": 0.05, "minPassRate": 0.5})
    assert summarize(copy.deepcopy(base)) == summarize(copy.deepcopy(base))


def test_environment_latency_and_cost_gates() -> None:
    doc = summarize(make_doc([1, 1], latencies=[100.0, 300.0], settings={"maxLatencyP95Ms": 250}))
    latency = gate(doc, "latency-p95")
    assert latency["status"] == "fail" and latency["value"] == pytest.approx(290.0)
    doc = make_doc([1, 1], settings={"maxCostPer1kRequests": 1.0})
    assert gate(summarize(doc), "cost-per-1k")["status"] == "unmeasured"
    for case in doc["cases"]:
        case["cost"] = 0.0005
    cost = gate(summarize(doc), "cost-per-1k")
    assert cost["status"] == "pass" and cost["value"] == pytest.approx(0.5)


def test_shards_carry_no_gates() -> None:
    doc = make_doc([1, 0], settings={"minPassRate": 1.0})
    doc["shard"] = {"index": 1, "count": 2}
    summarize(doc)
    assert doc["gates"] == [] and doc["passed"] is None


def test_gate_settings_take_the_stricter_value() -> None:
    settings = gate_settings({"minPassRate": 0.8, "maxRegression": 0.05, "unmeasured": "warn"},
                             {"minPassRate": 0.85, "maxRegression": 0.1, "maxLatencyP95Ms": 4000}, True)
    assert settings["minPassRate"] == 0.85 and settings["sources"]["minPassRate"] == "environment"
    assert settings["maxRegression"] == 0.05 and settings["sources"]["maxRegression"] == "suite"
    assert settings["maxLatencyP95Ms"] == 4000 and settings["unmeasured"] == "warn"
    defaults = gate_settings(None, None, True)
    assert defaults["minPassRate"] == 1.0 and defaults["sources"]["minPassRate"] == "default"
    assert defaults["unmeasured"] == "fail"
    assert "minPassRate" not in gate_settings(None, None, False)
