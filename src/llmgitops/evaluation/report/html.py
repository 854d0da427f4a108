"""The report as one self-contained HTML page: no script, no external file, inline SVG charts, so it opens
offline and from a CI artifact store. Charts: each metric against its baseline (with the bootstrap
interval), the latency distribution, and a per-record table whose outputs are diffed word by word against
the reference (and against the baseline's output when there is one). Every piece of text is escaped.
"""

from __future__ import annotations

import difflib
import json
import re
from html import escape
from typing import Any

from .markdown import case_problems, fmt, verdict

MAX_ROWS = 5000
CSS = """
body{font:14px/1.45 system-ui,-apple-system,Segoe UI,Roboto,sans-serif;margin:24px;color:#1f2328;max-width:1200px}
h1{font-size:22px}h2{font-size:17px;margin-top:28px;border-bottom:1px solid #d0d7de;padding-bottom:4px}
table{border-collapse:collapse;width:100%;margin:8px 0}
th,td{border:1px solid #d0d7de;padding:4px 8px;text-align:left;vertical-align:top}th{background:#f6f8fa}
.pass{color:#1a7f37;font-weight:600}.fail{color:#cf222e;font-weight:600}.unmeasured{color:#9a6700;font-weight:600}
.facts{color:#57606a}
pre{white-space:pre-wrap;word-break:break-word;background:#f6f8fa;padding:6px;margin:4px 0;
max-height:320px;overflow:auto}
del{background:#ffebe9;color:#82071e}ins{background:#dafbe1;color:#116329;text-decoration:none}
details summary{cursor:pointer}.num{text-align:right;font-variant-numeric:tabular-nums}
"""


def e(value: Any) -> str:
    return escape("" if value is None else str(value), quote=True)


def word_diff(old: str, new: str) -> str:
    """``new`` against ``old``, word by word: removed words struck through, added words highlighted."""
    a, b = re.findall(r"\S+|\s+", old), re.findall(r"\S+|\s+", new)
    out = []
    for op, i1, i2, j1, j2 in difflib.SequenceMatcher(None, a, b, autojunk=False).get_opcodes():
        if op in ("replace", "delete"):
            out.append(f"<del>{e(''.join(a[i1:i2]))}</del>")
        if op in ("replace", "insert"):
            out.append(f"<ins>{e(''.join(b[j1:j2]))}</ins>")
        if op == "equal":
            out.append(e("".join(a[i1:i2])))
    return "".join(out)


def metric_chart(doc: dict[str, Any]) -> str:
    """Horizontal bars for metrics on a 0..1 scale: the value, its interval, and the baseline as a tick."""
    bounded = {d["name"] for d in doc["metricDefinitions"] if d.get("bounded")}
    rows = [m for m in doc["metrics"] if m["name"] in bounded]
    if not rows:
        return ""
    left, width, row_h = 170, 420, 26
    height = row_h * len(rows) + 30
    parts = [
        f'<svg xmlns="http://www.w3.org/2000/svg" width="{left + width + 90}" height="{height}" '
        'role="img" aria-label="metrics against baseline">'
    ]
    for tick in (0, 0.25, 0.5, 0.75, 1.0):
        x = left + tick * width
        parts.append(f'<line x1="{x:.1f}" y1="0" x2="{x:.1f}" y2="{height - 20}" stroke="#d0d7de"/>')
        parts.append(f'<text x="{x:.1f}" y="{height - 6}" font-size="11" text-anchor="middle">{tick:g}</text>')
    for i, m in enumerate(rows):
        y = i * row_h + 6
        parts.append(f'<text x="{left - 8}" y="{y + 13}" font-size="12" text-anchor="end">{e(m["name"])}</text>')
        if m["value"] is None:
            parts.append(f'<text x="{left + 4}" y="{y + 13}" font-size="12" fill="#9a6700">unmeasured</text>')
            continue
        value = min(max(m["value"], 0.0), 1.0)
        parts.append(
            f'<rect x="{left}" y="{y}" width="{value * width:.1f}" height="16" fill="#54aeff"><title>'
            f"{e(m['name'])} {fmt(m['value'])}</title></rect>"
        )
        if m.get("ci"):
            lo, hi = (min(max(v, 0.0), 1.0) for v in m["ci"])
            parts.append(
                f'<line x1="{left + lo * width:.1f}" y1="{y + 8}" x2="{left + hi * width:.1f}" y2="{y + 8}" '
                'stroke="#0a3069" stroke-width="2"/>'
            )
        if m.get("baseline") is not None:
            bx = left + min(max(m["baseline"], 0.0), 1.0) * width
            parts.append(
                f'<line x1="{bx:.1f}" y1="{y - 2}" x2="{bx:.1f}" y2="{y + 18}" stroke="#cf222e" '
                f'stroke-width="3"><title>baseline {fmt(m["baseline"])}</title></line>'
            )
        parts.append(f'<text x="{left + width + 6}" y="{y + 13}" font-size="12">{fmt(m["value"])}</text>')
    parts.append("</svg>")
    legend = (
        '<p class="facts">Bars: value; dark line: 95% bootstrap interval; red tick: baseline.</p>'
        if any(m.get("baseline") is not None for m in rows)
        else '<p class="facts">Bars: value; dark line: 95% bootstrap interval.</p>'
    )
    return "".join(parts) + legend


def latency_chart(doc: dict[str, Any]) -> str:
    values = sorted(c["latencyMs"] for c in doc["cases"] if c.get("latencyMs") is not None)
    if not values:
        return ""
    bins = 24
    lo, hi = values[0], values[-1]
    span = (hi - lo) or 1.0
    counts = [0] * bins
    for v in values:
        counts[min(int((v - lo) / span * bins), bins - 1)] += 1
    width, height, top = 600, 160, max(counts)
    bar = width / bins
    parts = [
        f'<svg xmlns="http://www.w3.org/2000/svg" width="{width + 20}" height="{height + 40}" role="img" '
        'aria-label="latency distribution">'
    ]
    for i, count in enumerate(counts):
        h = count / top * height
        x0 = lo + span * i / bins
        parts.append(
            f'<rect x="{10 + i * bar:.1f}" y="{10 + height - h:.1f}" width="{bar - 1:.1f}" height="{h:.1f}" '
            f'fill="#8250df"><title>{x0:.0f} to {x0 + span / bins:.0f} ms: {count}</title></rect>'
        )
    for name, value in (doc["summary"].get("latencyMs") or {}).items():
        if name in ("p50", "p95"):
            x = 10 + (value - lo) / span * width
            parts.append(
                f'<line x1="{x:.1f}" y1="4" x2="{x:.1f}" y2="{height + 12}" stroke="#cf222e" stroke-dasharray="4 3"/>'
            )
            parts.append(f'<text x="{x + 3:.1f}" y="14" font-size="11" fill="#cf222e">{name}</text>')
    parts.append(f'<text x="10" y="{height + 32}" font-size="11">{lo:.0f} ms</text>')
    parts.append(f'<text x="{width + 10}" y="{height + 32}" font-size="11" text-anchor="end">{hi:.0f} ms</text>')
    parts.append("</svg>")
    return "".join(parts)


def _reference_text(doc: dict[str, Any], case: dict[str, Any]) -> str | None:
    from ..cases import MISSING, lookup

    for definition in doc["metricDefinitions"]:
        name = definition.get("field")
        if name:
            found = lookup(case["input"], name)
            if isinstance(found, str):
                return found
    found = case["input"].get("expected") if isinstance(case["input"], dict) else MISSING
    return found if isinstance(found, str) else None


def case_rows(doc: dict[str, Any]) -> str:
    names = [d["name"] for d in doc["metricDefinitions"]]
    head = "".join(f"<th>{e(n)}</th>" for n in names)
    rows = [
        f"<table><thead><tr><th>record</th><th>status</th>{head}<th>latency ms</th><th>output</th></tr></thead><tbody>"
    ]
    order = {"fail": 0, "unmeasured": 1, "pass": 2}
    for case in sorted(doc["cases"], key=lambda c: (order[c["status"]], c["index"]))[:MAX_ROWS]:
        cells = []
        for name in names:
            entry = case["metrics"].get(name) or {}
            if entry.get("applicable") is False:
                cells.append('<td class="num">n/a</td>')
            elif entry.get("value") is None:
                cells.append(f'<td class="unmeasured" title="{e(entry.get("reason"))}">unmeasured</td>')
            else:
                cls = {True: "pass", False: "fail", None: ""}[entry.get("passed")]
                cells.append(f'<td class="num {cls}">{e(fmt(entry["value"]))}</td>')
        output = case.get("output") or ""
        reference = _reference_text(doc, case)
        body = [f"<pre>{e(output)}</pre>" if output else f"<pre>{e(case.get('error') or '')}</pre>"]
        problems = case_problems(doc, case)
        details = [f"<p>{e('; '.join(problems))}</p>"] if problems else []
        if reference is not None and output:
            details.append(f"<p>against the reference:</p><pre>{word_diff(reference, output)}</pre>")
        previous = (case.get("baseline") or {}).get("output")
        if isinstance(previous, str) and previous != output:
            details.append(f"<p>against the baseline output:</p><pre>{word_diff(previous, output)}</pre>")
        details.append(f"<p>input:</p><pre>{e(json.dumps(case['input'], ensure_ascii=False, indent=1)[:4000])}</pre>")
        body.append(f"<details><summary>details</summary>{''.join(details)}</details>")
        rows.append(
            f'<tr><td>{e(case["id"])}</td><td class="{case["status"]}">{case["status"]}</td>{"".join(cells)}'
            f'<td class="num">{e(fmt(case.get("latencyMs")))}</td><td>{"".join(body)}</td></tr>'
        )
    rows.append("</tbody></table>")
    if len(doc["cases"]) > MAX_ROWS:
        rows.append(f'<p class="facts">{len(doc["cases"]) - MAX_ROWS} more records are in report.json.</p>')
    return "".join(rows)


def gates_html(doc: dict[str, Any]) -> str:
    if not doc.get("gates"):
        return '<p class="facts">No gates: this is a shard; `llmgitops eval merge` decides the gates.</p>'
    rows = ["<table><thead><tr><th>gate</th><th>status</th><th>result</th></tr></thead><tbody>"]
    for gate in doc["gates"]:
        effect = f" ({e(gate['effect'])})" if gate.get("effect") else ""
        rows.append(
            f'<tr><td>{e(gate["name"])}</td><td class="{gate["status"]}">{gate["status"]}{effect}</td>'
            f"<td>{e(gate['message'])}</td></tr>"
        )
    rows.append("</tbody></table>")
    return "".join(rows)


def metrics_html(doc: dict[str, Any]) -> str:
    rows = [
        "<table><thead><tr><th>metric</th><th>type</th><th>value</th><th>95% interval</th><th>baseline</th>"
        "<th>change</th><th>records passing</th><th>measured</th></tr></thead><tbody>"
    ]
    for m in doc["metrics"]:
        ci = f"[{fmt(m['ci'][0])}, {fmt(m['ci'][1])}]" if m.get("ci") else "—"
        passing = f"{m['passed']}/{m['passed'] + m['failed']}" if m.get("passRate") is not None else "—"
        value = fmt(m["value"]) if m["status"] == "measured" else f"unmeasured: {m.get('reason', '')}"
        rows.append(
            f'<tr><td>{e(m["name"])}</td><td>{e(m["type"])}</td><td class="num">{e(value)}</td>'
            f'<td>{e(ci)}</td><td class="num">{e(fmt(m.get("baseline")))}</td>'
            f'<td class="num">{e(fmt(m.get("delta")))}</td><td>{e(passing)}</td>'
            f"<td>{m['measured']}/{m['measured'] + m['unmeasured']}</td></tr>"
        )
        for key, value in (m.get("extras") or {}).items():
            shown = e(json.dumps(value, ensure_ascii=False))
            rows.append(f'<tr><td></td><td colspan="7" class="facts">{e(key)}: {shown}</td></tr>')
    rows.append("</tbody></table>")
    return "".join(rows)


def render_html(doc: dict[str, Any]) -> str:
    suite, dataset, summary = doc["suite"], doc["dataset"], doc["summary"]
    title = f"{verdict(doc)}: {suite['name']} {suite['version']} ({suite['environment']})"
    targets = ", ".join(f"{t['kind']} {t['name']} {t.get('version') or ''}" for t in doc["targets"])
    facts = [
        f"targets: {targets}",
        f"dataset {dataset['name']} {dataset['version']}, {dataset['records']} records",
        f"{summary['passed']} passed, {summary['failed']} failed, {summary['unmeasured']} unmeasured",
    ]
    if doc.get("provider"):
        facts.append(f"provider {doc['provider']['name']} ({doc['provider']['type']})")
    facts.append(f"baseline: {doc['baseline']['source']}" if doc.get("baseline") else "no baseline")
    latency = latency_chart(doc)
    body = [
        f"<h1>{e(title)}</h1>",
        f'<p class="facts">{e(" · ".join(facts))}</p>',
        "<h2>Gates</h2>",
        gates_html(doc),
        "<h2>Metrics</h2>",
        metric_chart(doc),
        metrics_html(doc),
    ]
    if latency:
        body += ["<h2>Latency</h2>", latency]
    body += ["<h2>Records</h2>", case_rows(doc)]
    return (
        '<!DOCTYPE html>\n<html lang="en"><head><meta charset="utf-8"/>'
        f"<title>{e(title)}</title><style>{CSS}</style></head><body>{''.join(body)}</body></html>\n"
    )
