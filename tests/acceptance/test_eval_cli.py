"""`llmgitops eval` as a user runs it: exit codes, output, report files, merge and review import."""

from __future__ import annotations

import csv
import json
from pathlib import Path
from typing import Any

import evalrepo
from conftest import assert_no_traceback, run_cli
from openai_loopback import LoopbackOpenAI

SUITE = "environments/dev/evals/qa-suite.yaml"


def make(tmp_path: Path, loopback: LoopbackOpenAI, change: Any = None, records: list[dict[str, Any]] | None = None) -> Path:
    docs = evalrepo.manifests(loopback.url)
    if change:
        change(docs)
    return evalrepo.write(tmp_path / "repo", docs, records)


def test_passing_suite_exits_0_and_writes_reports(tmp_path: Path, loopback: LoopbackOpenAI) -> None:
    root = make(tmp_path, loopback)
    result = run_cli("eval", "qa-suite", cwd=root)
    assert_no_traceback(result)
    assert result.returncode == 0, result.stderr
    assert result.stdout.startswith("eval qa-suite 1.0.0 (dev): PASSED")
    assert "gate pass-rate" in result.stdout and "metric mentions" in result.stdout
    # not a terminal: plain progress lines, no bar
    assert "qa-suite: 4/4 records (100%)" in result.stderr and "\x1b[" not in result.stderr
    for name in ("report.json", "report.md", "report.html"):
        assert (root / ".llmgitops/reports/dev/qa-suite" / name).is_file()
    assert "  answers: 0 from the cache, 4 fetched\n" in result.stdout
    again = run_cli("eval", "qa-suite", "--quiet", cwd=root)
    assert "  answers: 4 from the cache, 0 fetched (the run memo read the scored records back)" in again.stdout
    assert again.stdout.splitlines()[0] == result.stdout.splitlines()[0] and len(loopback.requests) == 4


def test_failed_gate_exits_1(tmp_path: Path, loopback: LoopbackOpenAI) -> None:
    def strict(docs: dict[str, Any]) -> None:
        docs[SUITE]["spec"]["gates"]["minPassRate"] = 1.0

    root = make(tmp_path, loopback, strict)
    result = run_cli("eval", "qa-suite", "--quiet", "--report", str(tmp_path / "out"), cwd=root)
    assert result.returncode == 1 and "FAILED" in result.stdout
    assert "3/4 records pass (75.0%; minimum 100.0%)" in result.stdout
    assert result.stderr.strip().startswith("reports:")  # --quiet: no progress
    github = run_cli("eval", "qa-suite", "--quiet", "--format", "github", cwd=root)
    assert f"::error file={SUITE},title=eval gate pass-rate::" in github.stdout
    as_json = run_cli("eval", "qa-suite", "--quiet", "--format", "json", cwd=root)
    assert json.loads(as_json.stdout)["passed"] is False and as_json.returncode == 1


def test_usage_errors_exit_2(tmp_path: Path, loopback: LoopbackOpenAI) -> None:
    root = make(tmp_path, loopback)
    for args in (["eval", "no-such-suite"], ["eval", "qa-suite", "--shard", "3/2"], ["eval", "qa-suite", "--shard", "x"],
                 ["eval", "qa-suite", "--provider", "nope"], ["eval", "qa-suite", "--env", "prod"]):
        result = run_cli(*args, cwd=root)
        assert_no_traceback(result)
        assert result.returncode == 2, (args, result.stderr)


def test_broken_declarations_are_findings_exit_1(tmp_path: Path, loopback: LoopbackOpenAI) -> None:
    def broken(docs: dict[str, Any]) -> None:
        docs[SUITE]["spec"]["metrics"][0] = {"name": "mentions", "type": "regex", "params": {"pattern": "(x"}}

    root = make(tmp_path, loopback, broken, records=[{"id": "a", "question": "", "expected": "x"}])
    result = run_cli("eval", "qa-suite", cwd=root)
    assert_no_traceback(result)
    assert result.returncode == 1
    assert f"{SUITE}:18:16: error eval/metric: metric 'mentions': params.pattern does not compile" in result.stdout
    sarif = run_cli("eval", "qa-suite", "--format", "sarif", cwd=root)
    assert json.loads(sarif.stdout)["runs"][0]["results"][0]["ruleId"] == "eval/metric"


def test_bad_dataset_record_is_reported_at_its_line(tmp_path: Path, loopback: LoopbackOpenAI) -> None:
    records = [{"id": "a", "question": "fine", "expected": "x"}, {"id": "b", "question": 7, "expected": "x"}]
    result = run_cli("eval", "qa-suite", cwd=make(tmp_path, loopback, records=records))
    assert result.returncode == 1
    assert "data/qa.jsonl:2:1: error eval/dataset-record: question: 7 is not of type 'string'" in result.stdout


def test_unreachable_endpoint_is_unmeasured_not_a_crash(tmp_path: Path, loopback: LoopbackOpenAI) -> None:
    root = make(tmp_path, loopback)
    result = run_cli("eval", "qa-suite", "--provider", "openai:http://127.0.0.1:9/v1", "--quiet", "--no-cache", cwd=root)
    assert_no_traceback(result)
    assert result.returncode == 1
    assert "gate coverage" in result.stdout and "unmeasured [fails the run]" in result.stdout


def test_shards_merge_and_review_import(tmp_path: Path, loopback: LoopbackOpenAI) -> None:
    def human(docs: dict[str, Any]) -> None:
        docs[SUITE]["spec"]["gates"]["requireHumanPassRate"] = 1.0

    root = make(tmp_path, loopback, human)
    for i in (1, 2):
        shard = run_cli("eval", "qa-suite", "--shard", f"{i}/2", "--quiet", "--report", f"s{i}", cwd=root)
        assert shard.returncode == 0 and "shard done" in shard.stdout
    merged = run_cli("eval", "merge", "s1/report.json", "s2/report.json", "--report", "merged", cwd=root)
    assert_no_traceback(merged)
    assert merged.returncode == 1 and "human-pass-rate" in merged.stdout  # not reviewed yet: unmeasured fails
    incomplete = run_cli("eval", "merge", "s1/report.json", "--report", "x", cwd=root)
    assert incomplete.returncode == 2 and "missing shard(s) 2" in incomplete.stderr
    sampled = run_cli("eval", "qa-suite", "--human-sample", "2", "--quiet", "--report", "full", cwd=root)
    assert sampled.returncode == 1
    sheet = root / "full" / "review.csv"
    rows = list(csv.DictReader(sheet.open(encoding="utf-8")))
    lines = ["id,verdict,reviewer,comment"] + [f"{r['id']},pass,ana,fine" for r in rows]
    (root / "full" / "verdicts.csv").write_text("\n".join(lines) + "\n", encoding="utf-8")
    imported = run_cli("eval", "review", "import", "full/verdicts.csv", cwd=root)
    assert_no_traceback(imported)
    assert imported.returncode == 0, imported.stdout + imported.stderr
    report = json.loads((root / "full" / "report.json").read_text())
    assert report["passed"] is True and len(report["review"]["verdicts"]) == 2
    bad = run_cli("eval", "review", "import", "full/verdicts.csv", "--report", "nowhere/report.json", cwd=root)
    assert bad.returncode == 1 and "no report to import into" in bad.stderr


def test_help_lists_the_subcommands(tmp_path: Path) -> None:
    result = run_cli("eval", "--help", cwd=tmp_path)
    assert result.returncode == 0 and "merge" in result.stdout and "review" in result.stdout
    run_help = run_cli("eval", "run", "--help", cwd=tmp_path)
    assert "--human-sample" in run_help.stdout and "--shard" in run_help.stdout
