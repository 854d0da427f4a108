"""Human review: stratified review sheets, importing verdicts, the human metric and its gate; and report
rendering of hostile model output."""

from __future__ import annotations

import csv
import io
from pathlib import Path
from typing import Any

import pytest
from evalhelpers import check_html

import evalrepo
from llmgitops.errors import LLMGitOpsError
from llmgitops.evaluation import run_suite
from llmgitops.evaluation.report.html import render_html
from llmgitops.evaluation.report.json import validate
from llmgitops.evaluation.report.markdown import render_markdown
from llmgitops.evaluation.review import import_review, stratified_sample
from llmgitops.evaluation.runner import RunOptions
from openai_loopback import LoopbackOpenAI

SUITE = "environments/dev/evals/qa-suite.yaml"


def test_stratified_sample_keeps_every_outcome() -> None:
    cases = [{"index": i, "id": f"r{i}", "status": s}
             for i, s in enumerate(["fail"] * 6 + ["unmeasured"] * 2 + ["pass"] * 12)]
    picked = stratified_sample(cases, 5)
    statuses = [c["status"] for c in picked]
    # one from each group, then the 2 left in proportion (6, 2, 12 of 20 -> largest remainders: pass, fail)
    assert (statuses.count("fail"), statuses.count("unmeasured"), statuses.count("pass")) == (2, 1, 2)
    assert picked == stratified_sample(cases, 5)  # seeded
    assert [c["index"] for c in picked] == sorted(c["index"] for c in picked)
    assert stratified_sample(cases, 50) == cases


def reviewed_repo(tmp_path: Path, server: LoopbackOpenAI) -> Path:
    docs = evalrepo.manifests(server.url)
    docs[SUITE]["spec"]["metrics"].append({"name": "reviewer-ok", "type": "human", "threshold": 1.0})
    docs[SUITE]["spec"]["gates"].update(requireHumanPassRate=0.6, unmeasured="warn")
    records = [{"id": f"r{i}", "question": f"=cmd|' /C calc'!A{i} sky" if i == 0 else f"sky {i}", "expected": "sky"}
               for i in range(6)]
    return evalrepo.write(tmp_path / "repo", docs, records)


def fill(sheet: Path, verdicts: dict[str, str]) -> Path:
    rows = list(csv.DictReader(sheet.open(encoding="utf-8")))
    out = io.StringIO()
    writer = csv.DictWriter(out, fieldnames=list(rows[0]))
    writer.writeheader()
    for row in rows:
        row["verdict"] = verdicts.get(row["id"], "")
        row["reviewer"] = "ana"
        writer.writerow(row)
    filled = sheet.with_name("filled.csv")
    filled.write_text(out.getvalue(), encoding="utf-8")
    return filled


def test_review_sheet_then_import(tmp_path: Path, loopback: LoopbackOpenAI) -> None:
    root = reviewed_repo(tmp_path, loopback)
    result = run_suite(root, None, "qa-suite", options=RunOptions(human_sample=4))
    doc = result.document
    human = next(g for g in doc["gates"] if g["name"] == "human-pass-rate")
    assert human["status"] == "unmeasured" and doc["passed"] is True  # policy warn
    assert len(doc["review"]["sheet"]) == 4
    sheet = result.paths["review_csv"]
    rows = list(csv.DictReader(sheet.open(encoding="utf-8")))
    assert [r["id"] for r in rows] == doc["review"]["sheet"]
    assert all(not r["output"].startswith("=") for r in rows)  # no spreadsheet formulas
    check_html(result.paths["review_html"].read_text())
    ids = [r["id"] for r in rows]
    updated = import_review(doc, fill(sheet, {ids[0]: "pass", ids[1]: "fail", ids[2]: "PASS", ids[3]: "skip"}))
    gate = next(g for g in updated["gates"] if g["name"] == "human-pass-rate")
    assert gate["status"] == "pass" and gate["value"] == pytest.approx(2 / 3)
    assert updated["review"]["verdicts"][ids[1]] == {"verdict": "fail", "reviewer": "ana"}
    metric = next(m for m in updated["metrics"] if m["name"] == "reviewer-ok")
    assert metric["measured"] == 3 and metric["value"] == pytest.approx(2 / 3)
    failed_case = next(c for c in updated["cases"] if c["id"] == ids[1])
    assert failed_case["status"] == "fail"
    assert validate(updated) == []
    again = import_review(updated, fill(sheet, {ids[0]: "fail", ids[2]: "fail"}))
    assert next(g for g in again["gates"] if g["name"] == "human-pass-rate")["status"] == "fail"


def test_review_import_errors_name_the_line(tmp_path: Path, loopback: LoopbackOpenAI) -> None:
    root = reviewed_repo(tmp_path, loopback)
    result = run_suite(root, None, "qa-suite", options=RunOptions(human_sample=2))
    bad = tmp_path / "bad.csv"
    bad.write_text("id,verdict\nr1,maybe\nnope,pass\n", encoding="utf-8")
    with pytest.raises(LLMGitOpsError) as caught:
        import_review(result.document, bad)
    message = str(caught.value.message)
    assert f"{bad}:2: verdict 'maybe' is not one of pass, fail, skip" in message
    assert f"{bad}:3: record 'nope' is not in the report" in message
    empty = tmp_path / "empty.csv"
    empty.write_text("id,verdict\nr1,\n", encoding="utf-8")
    with pytest.raises(LLMGitOpsError, match="no verdicts"):
        import_review(result.document, empty)
    (tmp_path / "cols.csv").write_text("name\nx\n", encoding="utf-8")
    with pytest.raises(LLMGitOpsError, match="columns id and verdict"):
        import_review(result.document, tmp_path / "cols.csv")


HOSTILE = "</details></pre><script>alert(1)</script>``` | * _x_ [link](javascript:x)"


def test_reports_escape_model_output(tmp_path: Path, loopback: LoopbackOpenAI) -> None:
    records = [{"id": "<b>id</b>", "question": HOSTILE, "expected": "nothing"}]
    root = evalrepo.write(tmp_path / "repo", evalrepo.manifests(loopback.url), records)
    doc: dict[str, Any] = run_suite(root, None, "qa-suite").document
    page = render_html(doc)
    tags = check_html(page)
    assert "script" not in tags and "<b>id</b>" not in page
    markdown = render_markdown(doc)
    assert "<script>" not in markdown.split("```")[0]  # only inside code fences
    fenced = [block for block in markdown.split("\n````") if "alert(1)" in block]
    assert fenced, "hostile output must sit in a fence longer than the backticks it contains"
    assert "&lt;b&gt;id&lt;/b&gt;" in markdown
