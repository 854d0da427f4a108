"""analyze: after each canary weight, is the candidate as good as what it replaces?

Locally the canary's share of traffic is a deterministic slice of each evaluation's records (the first
``weight`` percent by a hash of the record id, so 5% looks at a few records and 100% at all of them).
On that slice the candidate's report is compared with the stable release's report of the same suite:
the regression gates of the evaluation engine (a paired bootstrap per metric, within the suite's and the
environment's ``maxRegression``) and the pass rate, which may not drop by more than that allowance.

In the cluster the step queries Prometheus: each ``deploy.analysis.metrics`` query must satisfy its
threshold, and more than ``failureLimit`` failed measurements fail the step.
"""

from __future__ import annotations

import copy
import hashlib
import json
import math
import os
import urllib.error
import urllib.parse
import urllib.request
from pathlib import Path
from typing import Any

from ..model import Step
from .context import StepContext, StepFailed, StepOutcome, TransientError

PROMETHEUS_ENV = "PROMETHEUS_URL"


def _slice(cases: list[dict[str, Any]], weight: int) -> list[dict[str, Any]]:
    ordered = sorted(cases, key=lambda c: hashlib.sha256(str(c.get("id")).encode()).hexdigest())
    return ordered[: max(1, math.ceil(len(ordered) * weight / 100))] if ordered else []


def _rate(cases: list[dict[str, Any]]) -> float | None:
    decided = [c.get("status") for c in cases if c.get("status") in ("pass", "fail")]
    return decided.count("pass") / len(decided) if decided else None


def compare(candidate: dict[str, Any], stable: dict[str, Any], weight: int, allowance: float
            ) -> tuple[bool, list[str]]:
    """(passed, findings) of the candidate's report against the stable one on the canary's slice."""
    from ...evaluation.gates import summarize

    by_id = {c.get("id"): c for c in stable.get("cases") or []}
    sample = [c for c in _slice(list(candidate.get("cases") or []), weight) if c.get("id") in by_id]
    if not sample:
        return True, ["no record in common with the stable report: nothing to compare"]
    doc = copy.deepcopy({k: v for k, v in candidate.items() if k not in ("gates", "metrics", "summary", "passed")})
    doc["shard"] = None
    doc["cases"] = copy.deepcopy(sample)
    stable_metrics: dict[str, float] = {}
    stable_doc = copy.deepcopy(stable)
    stable_doc["cases"] = [copy.deepcopy(by_id[c["id"]]) for c in sample]
    stable_doc["shard"] = None
    stable_doc.pop("baseline", None)
    summarize(stable_doc)
    for metric in stable_doc.get("metrics") or []:
        if metric.get("value") is not None:
            stable_metrics[metric["name"]] = metric["value"]
    for case in doc["cases"]:
        before = by_id[case["id"]].get("metrics") or {}
        case["baseline"] = {"metrics": {n: e.get("value") for n, e in before.items() if isinstance(e, dict)}}
    doc["baseline"] = {"source": "stable release", "metrics": stable_metrics}
    settings = dict(doc.get("settings") or {})
    settings["maxRegression"] = allowance
    doc["settings"] = settings
    summarize(doc)
    notes, ok = [], True
    for gate in doc.get("gates") or []:
        if gate.get("kind") == "regression" and gate.get("status") == "fail":
            ok = False
            notes.append(gate.get("message", gate.get("name", "regression")))
    now_rate, then_rate = _rate(doc["cases"]), _rate(stable_doc["cases"])
    if now_rate is not None and then_rate is not None:
        line = (f"pass rate {now_rate:.1%} vs stable {then_rate:.1%} on {len(sample)} record(s) "
                f"(allowed drop {allowance:g})")
        if now_rate < then_rate - allowance - 1e-12:
            ok = False
            line = "regression: " + line
        notes.insert(0, line)
    return ok, notes


def _allowance(ctx: StepContext, suite: str) -> float:
    values = [ctx.settings.gates["maxRegression"]] if "maxRegression" in ctx.settings.gates else []
    manifest = ctx.release.manifests.get(("EvalSuite", suite))
    gates = manifest.spec.get("gates") if manifest is not None else None
    if isinstance(gates, dict) and isinstance(gates.get("maxRegression"), (int, float)):
        values.append(float(gates["maxRegression"]))
    return min(values) if values else 0.0


def local(ctx: StepContext, step: Step) -> StepOutcome:
    from ...backends.local.state import load

    assert step.weight is not None
    state = load(ctx.state_root, ctx.environment)
    reports: dict[str, str] = dict(ctx.shared.get("reports", {}))
    if state.stable is None:
        return StepOutcome(f"at {step.weight}%: no stable release to compare with (first deployment)",
                           {"weight": step.weight, "compared": []})
    if not reports:
        return StepOutcome(f"at {step.weight}%: no evaluation ran for this change; nothing to compare",
                           {"weight": step.weight, "compared": []})
    failures, compared = [], []
    for suite, path in sorted(reports.items()):
        stable_path = state.stable.reports.get(suite)
        if not stable_path or not Path(stable_path).is_file():
            ctx.log(f"{suite}: the stable release has no report of this suite; nothing to compare")
            continue
        candidate = json.loads(Path(path).read_text(encoding="utf-8"))
        stable = json.loads(Path(stable_path).read_text(encoding="utf-8"))
        ok, notes = compare(candidate, stable, step.weight, _allowance(ctx, suite))
        for note in notes:
            ctx.log(f"{suite}: {note}")
        compared.append(suite)
        if not ok:
            failures.append(f"{suite}: {notes[0]}")
    if failures:
        raise StepFailed(f"canary analysis at {step.weight}% found a regression against the stable release "
                         f"{state.stable.state[:12]}: " + "; ".join(failures))
    what = ", ".join(compared) or "no suite with a stable report"
    return StepOutcome(f"at {step.weight}%: candidate holds up against stable {state.stable.state[:12]} ({what})",
                       {"weight": step.weight, "compared": compared})


def _query(base: str, promql: str) -> float | None:
    url = f"{base.rstrip('/')}/api/v1/query?{urllib.parse.urlencode({'query': promql})}"
    try:
        with urllib.request.urlopen(url, timeout=30) as response:
            payload = json.loads(response.read())
    except (urllib.error.URLError, OSError, ValueError) as exc:
        raise TransientError(f"Prometheus at {base} did not answer: {exc}") from None
    if payload.get("status") != "success":
        raise StepFailed(f"Prometheus refused the query: {payload.get('error', 'unknown error')}")
    data = payload.get("data") or {}
    result = data.get("result")
    if data.get("resultType") == "scalar" and isinstance(result, list):
        return float(result[1])
    if data.get("resultType") == "vector" and isinstance(result, list):
        if not result:
            return None
        if len(result) > 1:
            raise StepFailed("the analysis query returned more than one series; aggregate it to one value")
        return float(result[0]["value"][1])
    raise StepFailed(f"unexpected Prometheus result type {data.get('resultType')!r}")


def prometheus(ctx: StepContext, step: Step, base: str) -> StepOutcome:
    """Measure once: the workflow lets the canary take traffic for ``deploy.analysis.interval`` first (a
    suspend step), so the queries' rate windows see the new share."""
    metrics = ctx.settings.metrics
    if not metrics:
        return StepOutcome(f"at {step.weight}%: the Environment defines no analysis metrics", {"weight": step.weight})
    failed, lines = 0, []
    for metric in metrics:
        value = _query(base, metric.query)
        if value is None or math.isnan(value):
            failed += 1
            lines.append(f"{metric.name}: no data")
        elif not metric.passes(value):
            failed += 1
            lines.append(f"{metric.name} = {value:g}, needs {metric.comparison} {metric.threshold:g}")
        else:
            lines.append(f"{metric.name} = {value:g} ({metric.comparison} {metric.threshold:g})")
    for line in lines:
        ctx.log(line)
    if failed > ctx.settings.failure_limit:
        raise StepFailed(f"canary analysis at {step.weight}%: {failed} failed measurement(s) (limit "
                         f"{ctx.settings.failure_limit}): " + "; ".join(lines))
    return StepOutcome(f"at {step.weight}%: " + "; ".join(lines), {"weight": step.weight, "failed": failed})


def analyze(ctx: StepContext, step: Step) -> StepOutcome:
    base = os.environ.get(PROMETHEUS_ENV)
    if base and ctx.shared.get("backend") != "local":
        return prometheus(ctx, step, base)
    return local(ctx, step)
