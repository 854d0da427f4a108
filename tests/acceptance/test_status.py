"""`llmgitops status` on the bundled example: versions per environment, ahead/behind, pending branches."""

from __future__ import annotations

import json
from pathlib import Path

from conftest import assert_no_traceback, run_cli


def cell(data: dict, ref: str, env: str) -> dict:
    kind, name = ref.split("/")
    row = next(a for a in data["artifacts"] if a["kind"] == kind and a["name"] == name)
    return row["environments"][env]


def test_status_marks_ahead_behind_and_pending(example_repo: Path) -> None:
    before = run_cli("status", "--format", "json", cwd=example_repo)
    assert_no_traceback(before)
    assert before.returncode == 0
    data = json.loads(before.stdout)
    assert [e["name"] for e in data["environments"]] == ["dev", "staging", "prod"]
    answer_dev, answer_staging = cell(data, "Prompt/support-answer", "dev"), cell(data, "Prompt/support-answer", "staging")
    assert answer_dev["version"] != answer_staging["version"]
    assert answer_dev["ahead"] and answer_staging["behind"] and answer_staging["pending"] == []
    assert cell(data, "Model/support-gemma-lora", "prod")["version"] is None

    promoted = run_cli("promote", "dev", "staging", "--format", "json", cwd=example_repo)
    branch = json.loads(promoted.stdout)["branch"]
    after = json.loads(run_cli("status", "--format", "json", cwd=example_repo).stdout)
    assert cell(after, "Prompt/support-answer", "staging")["pending"] == [
        {"branch": branch, "version": answer_dev["version"]}]
    text = run_cli("status", cwd=example_repo)
    assert text.returncode == 0
    assert "promotion chain: dev -> staging -> prod" in text.stdout
    line = next(x for x in text.stdout.splitlines() if x.startswith("Prompt/support-answer"))
    assert f"pending {branch}" in line and "ahead" in line
