"""From per-case results to metric values and gate verdicts; the same code for a run, a merge of shard
reports and an imported human review, so all three give the same report for the same cases.

Gates (each ends pass, fail or unmeasured):
  pass-rate             records passing every thresholded metric, at least ``minPassRate`` (the
                        stricter of suite and environment; 1.0 when thresholds exist and neither sets it)
  coverage              every record measured by every metric; otherwise unmeasured
  regression:<metric>   the metric did not get worse than the baseline by more than ``maxRegression``
                        (absolute, for metrics on a 0..1 scale; ``params.maxRegression`` in the metric's
                        own unit for latency, tokens and cost). Decided on a seeded bootstrap interval of
                        the change, paired by record when the baseline is a report: it fails only when the
                        whole interval lies beyond the allowance, so noise does not flip it
  latency-p95           the environment's ``maxLatencyP95Ms`` over every request
  cost-per-1k           the environment's ``maxCostPer1kRequests``
  human-pass-rate       ``requireHumanPassRate`` over the imported review verdicts
``gates.unmeasured`` decides what an unmeasured gate does: ``fail`` (the default) fails the run,
``warn`` reports it, ``ignore`` drops it from the verdict.
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from typing import Any

from .stats import bootstrap_interval, mean, paired_delta_interval, percentile

BOOTSTRAP_SEED = 1729
R = 6  # decimals kept in reports


def _round(value: float | None) -> float | None:
    return None if value is None else round(value, R)


def _pair(values: tuple[float, float] | None) -> list[float] | None:
    return None if values is None else [round(values[0], R), round(values[1], R)]


def _extras(definition: dict[str, Any], values: list[float], details: list[dict[str, Any]]) -> dict[str, Any]:
    from .metrics import metric_class

    cls = metric_class(definition["type"])
    if cls is None or not values:
        return {}
    return cls.summary(definition, values, details)


def metric_results(doc: dict[str, Any]) -> list[dict[str, Any]]:
    cases = doc["cases"]
    baseline = doc.get("baseline") or {}
    base_values = baseline.get("metrics") or {}
    out = []
    for definition in doc["metricDefinitions"]:
        name = definition["name"]
        values: list[float] = []
        details: list[dict[str, Any]] = []
        reasons: list[str] = []
        not_applicable = passed = failed = 0
        for case in cases:
            entry = case["metrics"].get(name)
            if entry is None:
                continue
            if entry.get("applicable") is False:
                not_applicable += 1
            elif entry.get("value") is None:
                reasons.append(entry.get("reason") or "unmeasured")
            else:
                values.append(entry["value"])
                details.append(entry.get("detail") or {})
                if entry.get("passed") is True:
                    passed += 1
                elif entry.get("passed") is False:
                    failed += 1
        q = definition.get("percentile")
        result: dict[str, Any] = {"name": name, "type": definition["type"], "direction": definition["direction"]}
        if values:
            value = percentile(values, q) if q is not None else mean(values)
            result.update(
                status="measured",
                value=_round(value),
                ci=_pair(bootstrap_interval(values, BOOTSTRAP_SEED, q) if len(values) > 1 else (value, value)),
            )
        else:
            result.update(status="unmeasured", value=None, ci=None)
        result.update(measured=len(values), unmeasured=len(reasons), notApplicable=not_applicable)
        if reasons:
            result["reason"] = _top_reason(reasons)
        if definition.get("threshold") is not None:
            result["threshold"] = definition["threshold"]
            result["passed"], result["failed"] = passed, failed
            result["passRate"] = _round(passed / (passed + failed)) if passed + failed else None
        if name in base_values and result["value"] is not None:
            result["baseline"] = base_values[name]
            result["delta"] = _round(result["value"] - base_values[name])
        extras = _extras(definition, values, details)
        if extras:
            result["extras"] = extras
        out.append(result)
    return out


def _top_reason(reasons: Sequence[str]) -> str:
    counts: dict[str, int] = {}
    for r in reasons:
        counts[r] = counts.get(r, 0) + 1
    top = max(sorted(counts), key=lambda r: counts[r])
    more = len(reasons) - counts[top]
    return f"{top} ({counts[top]} record{'s' * (counts[top] != 1)}" + (f", {more} for other reasons)" if more else ")")


def case_statuses(doc: dict[str, Any]) -> None:
    """Each case passes when every thresholded metric passes; unmeasured when one of them, or the output
    itself, is missing and none failed."""
    gated = {d["name"] for d in doc["metricDefinitions"] if d.get("threshold") is not None}
    for case in doc["cases"]:
        entries = [case["metrics"][n] for n in gated if n in case["metrics"]]
        if any(e.get("passed") is False for e in entries):
            status = "fail"
        elif case.get("error") or any(e.get("applicable") is not False and e.get("value") is None for e in entries):
            status = "unmeasured"
        else:
            status = "pass"
        case["status"] = status


def _gate(name: str, kind: str, status: str, message: str, **fields: Any) -> dict[str, Any]:
    return {
        "name": name,
        "kind": kind,
        "status": status,
        **{k: v for k, v in fields.items() if v is not None},
        "message": message,
    }


def _pass_rate_gate(doc: dict[str, Any], settings: dict[str, Any]) -> dict[str, Any] | None:
    minimum = settings.get("minPassRate")
    if minimum is None:
        return None
    statuses = [c["status"] for c in doc["cases"]]
    decided = [s for s in statuses if s != "unmeasured"]
    if not decided:
        return _gate("pass-rate", "pass-rate", "unmeasured", "no record could be measured", threshold=minimum)
    rate = decided.count("pass") / len(decided)
    ci = (
        bootstrap_interval([1.0 if s == "pass" else 0.0 for s in decided], BOOTSTRAP_SEED) if len(decided) > 1 else None
    )
    ok = rate >= minimum - 1e-12
    return _gate(
        "pass-rate",
        "pass-rate",
        "pass" if ok else "fail",
        f"{decided.count('pass')}/{len(decided)} records pass ({rate:.1%}; minimum {minimum:.1%})",
        value=_round(rate),
        threshold=minimum,
        ci=_pair(ci),
        source=settings.get("sources", {}).get("minPassRate"),
    )


def _coverage_gate(doc: dict[str, Any], metrics: list[dict[str, Any]]) -> dict[str, Any]:
    missing_cases = [c for c in doc["cases"] if c.get("error")]
    gaps = [m for m in metrics if m["unmeasured"] or m["status"] == "unmeasured"]
    if not missing_cases and not gaps:
        return _gate("coverage", "coverage", "pass", "every record was measured by every metric")
    parts = []
    if missing_cases:
        parts.append(
            f"{len(missing_cases)} record{'s' * (len(missing_cases) != 1)} produced no output "
            f"(first: {missing_cases[0]['id']}: {missing_cases[0]['error']})"
        )
    for m in gaps:
        if m["status"] == "unmeasured":
            parts.append(f"{m['name']} is unmeasured: {m.get('reason', 'no record could be scored')}")
        elif not missing_cases:
            parts.append(f"{m['name']} unmeasured on {m['unmeasured']} record(s): {m.get('reason')}")
    return _gate("coverage", "coverage", "unmeasured", "; ".join(parts))


def _regression_gates(
    doc: dict[str, Any], metrics: list[dict[str, Any]], settings: dict[str, Any]
) -> list[dict[str, Any]]:
    baseline = doc.get("baseline")
    if not baseline:
        return []
    gates = []
    by_name = {d["name"]: d for d in doc["metricDefinitions"]}
    for result in metrics:
        definition = by_name[result["name"]]
        allowance = definition.get("maxRegression")
        if allowance is None and definition.get("bounded"):
            allowance = settings.get("maxRegression")
        base = (baseline.get("metrics") or {}).get(result["name"])
        if allowance is None or base is None:
            continue
        name = f"regression:{result['name']}"
        if result["value"] is None:
            gates.append(
                _gate(
                    name,
                    "regression",
                    "unmeasured",
                    f"{result['name']} is unmeasured",
                    metric=result["name"],
                    baseline=base,
                    threshold=allowance,
                )
            )
            continue
        sign = 1.0 if definition["direction"] == "higher" else -1.0
        lo, hi, paired = _change_interval(doc, result["name"], base, definition.get("percentile"))
        point = result["value"] - base
        # worsening = how much worse than the baseline, positive when worse
        worse_lo = min(-sign * lo, -sign * hi)
        worse_point = -sign * point
        failed = worse_lo > allowance + 1e-12
        how = "paired by record" if paired else "against the baseline value"
        message = (
            f"{result['name']} {result['value']:g} vs baseline {base:g} (change {point:+.4g}, 95% interval "
            f"[{lo:+.4g}, {hi:+.4g}] {how}); allowed worsening {allowance:g}"
        )
        status = "fail" if failed else "pass"
        if not failed and worse_point > allowance:
            message += "; the point estimate is past the allowance but within noise"
        gates.append(
            _gate(
                name,
                "regression",
                status,
                message,
                metric=result["name"],
                value=result["value"],
                baseline=base,
                delta=_round(point),
                ci=[_round(lo), _round(hi)],
                threshold=allowance,
                paired=paired,
            )
        )
    return gates


def _change_interval(doc: dict[str, Any], name: str, base: float, q: float | None) -> tuple[float, float, bool]:
    """Interval of (current - baseline): paired over records the baseline report also scored, else the
    interval of the current value minus the baseline value."""
    current, previous = [], []
    for case in doc["cases"]:
        now = (case["metrics"].get(name) or {}).get("value")
        then = ((case.get("baseline") or {}).get("metrics") or {}).get(name)
        if now is not None and then is not None:
            current.append(now)
            previous.append(then)
    if q is None and len(current) >= 2 and len(current) * 2 >= len(doc["cases"]):
        _, lo, hi = paired_delta_interval(current, previous, BOOTSTRAP_SEED)
        return lo, hi, True
    values = [
        c["metrics"][name]["value"] for c in doc["cases"] if (c["metrics"].get(name) or {}).get("value") is not None
    ]
    lo, hi = bootstrap_interval(values, BOOTSTRAP_SEED, q) if len(values) > 1 else (values[0], values[0])
    return lo - base, hi - base, False


def _latency_gate(doc: dict[str, Any], settings: dict[str, Any]) -> dict[str, Any] | None:
    limit = settings.get("maxLatencyP95Ms")
    if limit is None:
        return None
    latencies = [c["latencyMs"] for c in doc["cases"] if c.get("latencyMs") is not None]
    if not latencies:
        return _gate("latency-p95", "latency", "unmeasured", "no request reported a latency", threshold=limit)
    p95 = percentile(latencies, 95)
    return _gate(
        "latency-p95",
        "latency",
        "pass" if p95 <= limit else "fail",
        f"p95 latency {p95:.0f} ms (maximum {limit:g} ms)",
        value=_round(p95),
        threshold=limit,
        source="environment",
    )


def _cost_gate(doc: dict[str, Any], settings: dict[str, Any]) -> dict[str, Any] | None:
    limit = settings.get("maxCostPer1kRequests")
    if limit is None:
        return None
    costs = [c.get("cost") for c in doc["cases"] if not c.get("error")]
    if not costs or any(c is None for c in costs):
        return _gate(
            "cost-per-1k",
            "cost",
            "unmeasured",
            "cost is unknown: the Model declares no spec.pricing or the provider reported no token usage",
            threshold=limit,
        )
    per_1k = mean([float(c) for c in costs if c is not None]) * 1000
    return _gate(
        "cost-per-1k",
        "cost",
        "pass" if per_1k <= limit else "fail",
        f"{per_1k:.4g} per 1,000 requests (maximum {limit:g})",
        value=_round(per_1k),
        threshold=limit,
        source="environment",
    )


def _human_gate(doc: dict[str, Any], settings: dict[str, Any]) -> dict[str, Any] | None:
    minimum = settings.get("requireHumanPassRate")
    if minimum is None:
        return None
    verdicts = [
        v["verdict"]
        for v in ((doc.get("review") or {}).get("verdicts") or {}).values()
        if v.get("verdict") in ("pass", "fail")
    ]
    if not verdicts:
        return _gate(
            "human-pass-rate",
            "human",
            "unmeasured",
            "no human verdicts imported yet (`llmgitops eval review import FILE`)",
            threshold=minimum,
        )
    rate = verdicts.count("pass") / len(verdicts)
    return _gate(
        "human-pass-rate",
        "human",
        "pass" if rate >= minimum - 1e-12 else "fail",
        f"{verdicts.count('pass')}/{len(verdicts)} reviewed records pass ({rate:.1%}; minimum {minimum:.1%})",
        value=_round(rate),
        threshold=minimum,
    )


def summarize(doc: dict[str, Any]) -> dict[str, Any]:
    """Fill ``metrics``, ``gates``, ``summary`` and ``passed`` of a report from its cases."""
    settings = doc["settings"]
    case_statuses(doc)
    metrics = metric_results(doc)
    doc["metrics"] = metrics
    statuses = [c["status"] for c in doc["cases"]]
    latencies = [c["latencyMs"] for c in doc["cases"] if c.get("latencyMs") is not None]
    summary: dict[str, Any] = {
        "cases": len(statuses),
        "passed": statuses.count("pass"),
        "failed": statuses.count("fail"),
        "unmeasured": statuses.count("unmeasured"),
        "errors": sum(1 for c in doc["cases"] if c.get("error")),
    }
    decided = summary["passed"] + summary["failed"]
    summary["passRate"] = _round(summary["passed"] / decided) if decided else None
    if latencies:
        summary["latencyMs"] = {f"p{q}": _round(percentile(latencies, q)) for q in (50, 95, 99)}
    tokens_in = [c["inputTokens"] for c in doc["cases"] if c.get("inputTokens") is not None]
    tokens_out = [c["outputTokens"] for c in doc["cases"] if c.get("outputTokens") is not None]
    if tokens_in or tokens_out:
        summary["tokens"] = {"input": _round(math.fsum(tokens_in)), "output": _round(math.fsum(tokens_out))}
    doc["summary"] = summary
    if doc.get("shard"):
        # a shard's gates would judge a slice; `eval merge` judges the whole
        doc["gates"], doc["passed"] = [], None
        return doc
    gates = [g for g in (_pass_rate_gate(doc, settings), _coverage_gate(doc, metrics)) if g is not None]
    gates += _regression_gates(doc, metrics, settings)
    gates += [
        g
        for g in (_latency_gate(doc, settings), _cost_gate(doc, settings), _human_gate(doc, settings))
        if g is not None
    ]
    policy = settings.get("unmeasured", "fail")
    for gate in gates:
        if gate["status"] == "unmeasured":
            gate["effect"] = {"fail": "fails the run", "warn": "warning", "ignore": "ignored"}[policy]
    doc["gates"] = gates
    doc["passed"] = not any(g["status"] == "fail" or (g["status"] == "unmeasured" and policy == "fail") for g in gates)
    return doc
