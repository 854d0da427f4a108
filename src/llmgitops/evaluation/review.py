"""Human review: a sheet of sampled records to judge, and importing the verdicts into the report.

``--human-sample N`` picks N records stratified by outcome (failed, unmeasured, passed; each non-empty
group gets at least one, the rest in proportion, seeded so the same run picks the same records) and
writes ``review.csv`` and ``review.html`` next to the report. Reviewers fill in ``verdict`` (pass, fail or
skip), ``reviewer`` and ``comment`` (in the CSV, or in the page, which saves a filled CSV).
``llmgitops eval review import FILE`` puts the verdicts into report.json: the suite's ``human`` metrics
take them as values, and the ``requireHumanPassRate`` gate is decided.
"""

from __future__ import annotations

import csv
import io
import json
import random
from html import escape
from pathlib import Path
from typing import Any

from ..errors import LLMGitOpsError
from .gates import BOOTSTRAP_SEED, summarize

COLUMNS = ("id", "status", "input", "output", "reference", "verdict", "reviewer", "comment")
VERDICTS = ("pass", "fail", "skip")
MAX_CELL = 20_000


def stratified_sample(cases: list[dict[str, Any]], n: int, seed: int = BOOTSTRAP_SEED) -> list[dict[str, Any]]:
    if n >= len(cases):
        return list(cases)
    strata: dict[str, list[dict[str, Any]]] = {}
    for case in cases:
        strata.setdefault(case["status"], []).append(case)
    groups = [strata[k] for k in ("fail", "unmeasured", "pass") if strata.get(k)]
    quota = [1 if n >= len(groups) else 0 for _ in groups]
    left = n - sum(quota)
    total = len(cases)
    # largest remainder: the remaining picks in proportion to each group's size
    shares = [left * len(g) / total for g in groups]
    extra = [int(s) for s in shares]
    for i in sorted(range(len(groups)), key=lambda i: shares[i] - extra[i], reverse=True)[: left - sum(extra)]:
        extra[i] += 1
    rng = random.Random(seed)
    picked: list[dict[str, Any]] = []
    for group, q, x in zip(groups, quota, extra, strict=True):
        picked += rng.sample(group, min(len(group), q + x))
    return sorted(picked, key=lambda c: c["index"])


def _safe_cell(text: str) -> str:
    """Spreadsheets run cells starting with = + - @ as formulas; model output must not."""
    text = text[:MAX_CELL]
    return "'" + text if text[:1] in ("=", "+", "-", "@", "\t", "\r") else text


def _reference(doc: dict[str, Any], case: dict[str, Any]) -> str:
    from .report.html import _reference_text

    return _reference_text(doc, case) or ""


def write_review_sheet(doc: dict[str, Any], directory: Path, n: int) -> dict[str, Path]:
    from ..atomicfile import write_text

    picked = stratified_sample(doc["cases"], n)
    buffer = io.StringIO()
    writer = csv.writer(buffer, lineterminator="\n")
    writer.writerow(COLUMNS)
    for case in picked:
        writer.writerow(
            [
                case["id"],
                case["status"],
                _safe_cell(json.dumps(case["input"], ensure_ascii=False)),
                _safe_cell(case.get("output") or case.get("error") or ""),
                _safe_cell(_reference(doc, case)),
                "",
                "",
                "",
            ]
        )
    paths = {"review_csv": directory / "review.csv", "review_html": directory / "review.html"}
    write_text(paths["review_csv"], buffer.getvalue())
    write_text(paths["review_html"], review_page(doc, picked))
    return paths


_SCRIPT = """
function saveCsv(){var q=function(s){return '"'+String(s).replace(/"/g,'""')+'"'};
var rows=[['id','verdict','reviewer','comment'].join(',')];var who=document.getElementById('reviewer').value;
document.querySelectorAll('section[data-id]').forEach(function(s){var v=s.querySelector('input[type=radio]:checked');
rows.push([q(s.dataset.id),q(v?v.value:''),q(who),q(s.querySelector('textarea').value)].join(','))});
var a=document.createElement('a');a.href=URL.createObjectURL(new Blob([rows.join('\\n')+'\\n'],{type:'text/csv'}));
a.download='review-verdicts.csv';a.click();}
"""


def review_page(doc: dict[str, Any], picked: list[dict[str, Any]]) -> str:
    suite = doc["suite"]
    parts = [
        f"<h1>Review: {escape(suite['name'])} {escape(suite['version'])} ({escape(suite['environment'])})</h1>",
        f"<p>{len(picked)} records. Judge each output, then save the verdicts and run "
        "<code>llmgitops eval review import review-verdicts.csv --report report.json</code>.</p>",
        '<p>Reviewer: <input id="reviewer"/></p>',
    ]
    for case in picked:
        cid = escape(case["id"], quote=True)
        radios = "".join(f'<label><input type="radio" name="v-{cid}" value="{v}"/> {v}</label> ' for v in VERDICTS)
        parts.append(
            f'<section data-id="{cid}"><h2>{cid} <small>(automatic: {escape(case["status"])})</small></h2>'
            f"<p>input</p><pre>{escape(json.dumps(case['input'], ensure_ascii=False, indent=1)[:MAX_CELL])}</pre>"
            f"<p>output</p><pre>{escape((case.get('output') or case.get('error') or '')[:MAX_CELL])}</pre>"
            f"<p>reference</p><pre>{escape(_reference(doc, case)[:MAX_CELL])}</pre>"
            f'<p>{radios}</p><textarea rows="2" cols="80" placeholder="comment"></textarea></section>'
        )
    parts.append('<p><button type="button" onclick="saveCsv()">Save verdicts (CSV)</button></p>')
    css = (
        "body{font:14px system-ui,sans-serif;margin:24px;max-width:1000px}pre{white-space:pre-wrap;"
        "background:#f6f8fa;padding:6px}section{border-top:1px solid #d0d7de;margin-top:16px}"
    )
    return (
        '<!DOCTYPE html>\n<html lang="en"><head><meta charset="utf-8"/><title>Review</title>'
        f"<style>{css}</style><script>{_SCRIPT}</script></head><body>{''.join(parts)}</body></html>\n"
    )


def read_verdicts(path: Path, known: set[str]) -> dict[str, dict[str, str]]:
    """Verdicts from a filled review CSV, keyed by record id; every problem is reported with its line."""
    try:
        text = path.read_text(encoding="utf-8-sig")
    except (OSError, UnicodeDecodeError) as exc:
        raise LLMGitOpsError(f"{path}: cannot read: {exc}") from None
    reader = csv.DictReader(io.StringIO(text, newline=""))
    if reader.fieldnames is None or "id" not in reader.fieldnames or "verdict" not in reader.fieldnames:
        raise LLMGitOpsError(f"{path}:1: a review file needs the columns id and verdict")
    verdicts: dict[str, dict[str, str]] = {}
    problems: list[str] = []
    try:
        for row in reader:
            line = reader.line_num
            cid = (row.get("id") or "").strip()
            verdict = (row.get("verdict") or "").strip().lower()
            if not verdict:
                continue  # not reviewed yet
            if cid not in known:
                problems.append(f"{path}:{line}: record {cid!r} is not in the report")
            elif verdict not in VERDICTS:
                problems.append(f"{path}:{line}: verdict {verdict!r} is not one of {', '.join(VERDICTS)}")
            elif cid in verdicts:
                problems.append(f"{path}:{line}: record {cid!r} has a second verdict")
            else:
                entry = {"verdict": verdict}
                for key in ("reviewer", "comment"):
                    if (row.get(key) or "").strip():
                        entry[key] = (row.get(key) or "").strip()[:2000]
                verdicts[cid] = entry
    except csv.Error as exc:
        problems.append(f"{path}:{reader.line_num}: {exc}")
    if problems:
        raise LLMGitOpsError("\n".join(problems))
    return verdicts


def import_review(doc: dict[str, Any], verdict_file: Path) -> dict[str, Any]:
    """The report with the verdicts merged in (later imports override earlier verdicts per record) and
    metrics and gates decided again."""
    if doc.get("shard"):
        raise LLMGitOpsError("import reviews into a full or merged report, not a shard")
    verdicts = read_verdicts(verdict_file, {c["id"] for c in doc["cases"]})
    if not verdicts:
        raise LLMGitOpsError(f"{verdict_file}: no verdicts filled in")
    review = doc.setdefault("review", {})
    merged = {**(review.get("verdicts") or {}), **verdicts}
    review["verdicts"] = dict(sorted(merged.items()))
    human = [d for d in doc["metricDefinitions"] if d["type"] == "human"]
    for case in doc["cases"]:
        given = review["verdicts"].get(case["id"])
        for definition in human:
            if given is None or given["verdict"] == "skip":
                continue
            value = 1.0 if given["verdict"] == "pass" else 0.0
            threshold = definition.get("threshold")
            case["metrics"][definition["name"]] = {
                "value": value,
                "passed": None if threshold is None else value >= threshold,
            }
    return summarize(doc)
