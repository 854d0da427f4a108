"""The report as Markdown: what a pull request comment needs (verdict, gates, metric deltas against the
baseline, the worst records). Model output is untrusted text: it only ever appears inside code fences
or escaped table cells, so it cannot inject markup into the comment."""

from __future__ import annotations

import json
import re
from typing import Any

STATUS = {"pass": "✅ pass", "fail": "❌ fail", "unmeasured": "⚠️ unmeasured"}
WORST = 5


def cell(text: Any, limit: int = 160) -> str:
    value = "" if text is None else str(text)
    value = " ".join(value.split())
    if len(value) > limit:
        value = value[: limit - 1] + "…"
    return (
        value.replace("\\", "\\\\")
        .replace("|", "\\|")
        .replace("<", "&lt;")
        .replace(">", "&gt;")
        .replace("`", "\\`")
        .replace("*", "\\*")
        .replace("_", "\\_")
        .replace("[", "\\[")
    )


def fence(text: str, lang: str = "") -> str:
    longest = max((len(m) for m in re.findall(r"`+", text)), default=0)
    ticks = "`" * max(3, longest + 1)
    return f"{ticks}{lang}\n{text}\n{ticks}"


def fmt(value: Any) -> str:
    if value is None:
        return "—"
    if isinstance(value, float):
        return f"{value:.4g}"
    return str(value)


def verdict(doc: dict[str, Any]) -> str:
    passed = doc.get("passed")
    if passed is None:
        return "🧩 shard report (gates are decided when shards are merged)"
    return "✅ Evaluation passed" if passed else "❌ Evaluation failed"


def headline(doc: dict[str, Any]) -> list[str]:
    suite, dataset = doc["suite"], doc["dataset"]
    targets = ", ".join(f"{t['kind']} {t['name']} {t.get('version') or ''}".strip() for t in doc["targets"])
    provider = doc.get("provider")
    lines = [f"## {verdict(doc)}: {cell(suite['name'])} {suite['version']} ({cell(suite['environment'])})", ""]
    facts = [
        f"targets: {cell(targets)}",
        f"dataset: {cell(dataset['name'])} {dataset['version']} ({dataset['records']} records)",
    ]
    if provider:
        facts.append(f"provider: {cell(provider['name'])} ({provider['type']})")
    if doc.get("shard"):
        facts.append(f"shard {doc['shard']['index']}/{doc['shard']['count']}")
    baseline = doc.get("baseline")
    facts.append(f"baseline: {cell(baseline['source'])}" if baseline else "baseline: none")
    summary = doc["summary"]
    facts.append(f"{summary['passed']} passed, {summary['failed']} failed, {summary['unmeasured']} unmeasured")
    lines.append(" · ".join(facts))
    return lines


def gates_table(doc: dict[str, Any]) -> list[str]:
    if not doc.get("gates"):
        return []
    lines = ["", "### Gates", "", "| Gate | Status | Result |", "|---|---|---|"]
    for gate in doc["gates"]:
        status = STATUS[gate["status"]]
        if gate.get("effect") and gate["status"] == "unmeasured":
            status += f" ({gate['effect']})"
        lines.append(f"| {cell(gate['name'])} | {status} | {cell(gate['message'], 400)} |")
    return lines


def _delta(metric: dict[str, Any]) -> str:
    delta = metric.get("delta")
    if delta is None:
        return "—"
    if delta == 0:
        return "±0"
    better = (delta > 0) == (metric["direction"] == "higher")
    return f"{delta:+.4g} {'🟢' if better else '🔴'}"


def metrics_table(doc: dict[str, Any]) -> list[str]:
    lines = [
        "",
        "### Metrics",
        "",
        "| Metric | Value | 95% interval | Baseline | Change | Records passing | Measured |",
        "|---|---|---|---|---|---|---|",
    ]
    for metric in doc["metrics"]:
        ci = metric.get("ci")
        interval = f"[{fmt(ci[0])}, {fmt(ci[1])}]" if ci else "—"
        if metric.get("passRate") is not None:
            passing = f"{metric['passed']}/{metric['passed'] + metric['failed']} (threshold {fmt(metric['threshold'])})"
        else:
            passing = "not gated" if metric.get("threshold") is None else "—"
        measured = f"{metric['measured']}/{metric['measured'] + metric['unmeasured']}"
        value = (
            fmt(metric["value"]) if metric["status"] == "measured" else f"unmeasured: {cell(metric.get('reason'), 80)}"
        )
        lines.append(
            f"| {cell(metric['name'])} ({metric['type']}) | {value} | {interval} | {fmt(metric.get('baseline'))} "
            f"| {_delta(metric)} | {passing} | {measured} |"
        )
    return lines


def worst_cases(doc: dict[str, Any], limit: int = WORST) -> list[dict[str, Any]]:
    rank = {"fail": 0, "unmeasured": 1, "pass": 2}
    bad = [c for c in doc["cases"] if c["status"] != "pass"]

    def failures(case: dict[str, Any]) -> int:
        return sum(1 for e in case["metrics"].values() if e.get("passed") is False)

    return sorted(bad, key=lambda c: (rank[c["status"]], -failures(c), c["index"]))[:limit]


def case_problems(doc: dict[str, Any], case: dict[str, Any]) -> list[str]:
    thresholds = {d["name"]: d.get("threshold") for d in doc["metricDefinitions"]}
    problems = []
    if case.get("error"):
        problems.append(f"no output: {case['error']}")
    for name, entry in case["metrics"].items():
        if entry.get("passed") is False:
            problems.append(f"{name} {fmt(entry['value'])} (threshold {fmt(thresholds.get(name))})")
        elif entry.get("value") is None and entry.get("applicable") is not False and not case.get("error"):
            problems.append(f"{name} unmeasured: {entry.get('reason')}")
    return problems


def worst_section(doc: dict[str, Any]) -> list[str]:
    worst = worst_cases(doc)
    if not worst:
        return []
    lines = ["", f"### Worst records ({len(worst)} of {sum(1 for c in doc['cases'] if c['status'] != 'pass')})", ""]
    for case in worst:
        problems = "; ".join(case_problems(doc, case)) or case["status"]
        lines.append(f"<details><summary>{cell(case['id'])}: {cell(problems, 300)}</summary>")
        lines.append("")
        lines.append("**Input**")
        lines.append(fence(json.dumps(case["input"], ensure_ascii=False, indent=1)[:2000], "json"))
        lines.append("**Output**")
        lines.append(fence((case.get("output") or "")[:2000]))
        previous = (case.get("baseline") or {}).get("output")
        if previous is not None and previous != case.get("output"):
            lines.append("**Baseline output**")
            lines.append(fence(str(previous)[:2000]))
        lines.append("</details>")
    return lines


def render_markdown(doc: dict[str, Any]) -> str:
    lines = headline(doc) + gates_table(doc) + metrics_table(doc) + worst_section(doc)
    latency = doc["summary"].get("latencyMs")
    if latency:
        lines += [
            "",
            f"Latency p50 {latency['p50']:.0f} ms · p95 {latency['p95']:.0f} ms · p99 {latency['p99']:.0f} ms",
        ]
    return "\n".join(lines) + "\n"
