"""`llmgitops bump` on real repositories: only the version scalar changes, atomically; then check passes."""

from __future__ import annotations

import json
import os
import stat
import subprocess
from pathlib import Path

import pytest

from conftest import assert_no_traceback, commit_all, git, init_git, run_cli
from minirepo import write

PROMPT = "environments/dev/prompts/answer.yaml"
EVAL = "environments/dev/evals/answer-quality.yaml"

# Comments everywhere, flow-style maps and sequences, odd spacing, a quoted version: all must survive.
STYLED = """# yaml-language-server: $schema=../../../schemas/v1alpha1/prompt.json
apiVersion: llmgitops.dev/v1alpha1   # the schema version
kind: Prompt
metadata: {name: answer, labels: {team: support}}   # flow style
spec:
  # the artifact's own version
  version:   '2.0.0'    # trailing comment
  type: chat
  modelRef: {name: chat, version: "^1.2.0"}
  input:
    question: {type: string, required: true}   # user text
  messages: [
    {role: system, content: "Answer briefly."},
    {role: user, content: "<question>{{ question }}</question>"},
  ]
"""


def bump(root: Path, *args: str) -> subprocess.CompletedProcess[str]:
    result = run_cli("bump", *args, cwd=root)
    assert_no_traceback(result)
    return result


def check(root: Path) -> subprocess.CompletedProcess[str]:
    git(root, "add", "-A")
    result = run_cli("check-versions", cwd=root)
    assert_no_traceback(result)
    return result


@pytest.mark.parametrize("version_text", ["'2.0.0'", '"2.0.0"', "2.0.0"])
def test_bump_changes_only_the_version_bytes(mini: Path, version_text: str) -> None:
    styled = STYLED.replace("'2.0.0'", version_text)
    (mini / PROMPT).write_text(styled)
    commit_all(mini, "styled")
    edited = styled.replace("Answer briefly.", "Answer in one short paragraph.")
    (mini / PROMPT).write_text(edited)

    result = bump(mini)
    assert result.returncode == 0, result.stdout + result.stderr
    assert f"{PROMPT}: 2.0.0 -> 2.1.0 (wrote; minor required by prompt/message-reworded)" in result.stdout
    assert (mini / PROMPT).read_bytes() == edited.replace(version_text, version_text.replace("2.0.0", "2.1.0"),
                                                          1).encode()
    assert check(mini).returncode == 0


def test_bump_keeps_crlf_and_bom(mini: Path) -> None:
    original = ("\ufeff" + (mini / PROMPT).read_text()).replace("\n", "\r\n").encode("utf-8")
    (mini / PROMPT).write_bytes(original)
    commit_all(mini, "crlf")
    edited = original.replace(b"Answer briefly.", b"Answer at length.")
    (mini / PROMPT).write_bytes(edited)
    assert bump(mini).returncode == 0
    assert (mini / PROMPT).read_bytes() == edited.replace(b"version: 2.0.0", b"version: 2.1.0")


def test_bump_writes_major_and_reports_references_it_breaks(mini: Path) -> None:
    text = (mini / PROMPT).read_text()
    (mini / PROMPT).write_text(text.replace("question:\n      type: string", "question:\n      type: integer"))
    result = bump(mini, PROMPT)
    assert result.returncode == 1
    assert "2.0.0 -> 3.0.0 (wrote; major required by prompt/input-retyped)" in result.stdout
    assert f"{EVAL}:" in result.stdout
    assert "error ref/version-unsatisfied: Prompt 'answer' is now at 3.0.0 in 'dev', which does not satisfy " \
           "'^2.0.0'" in result.stdout
    assert "version: 3.0.0" in (mini / PROMPT).read_text()


def test_level_higher_than_required_is_written_lower_is_refused(mini: Path) -> None:
    path = mini / PROMPT
    path.write_text(path.read_text().replace("Answer briefly.", "Answer at length."))
    before = path.read_bytes()
    result = bump(mini, "--level", "patch")
    assert result.returncode == 1
    assert "error version/insufficient-bump: --level patch gives 2.0.1, but the change requires minor" \
        in result.stdout
    assert path.read_bytes() == before

    result = bump(mini, "--level", "major")
    assert result.returncode == 1  # the eval's ^2.0.0 no longer matches: reported
    assert "2.0.0 -> 3.0.0 (wrote; --level major)" in result.stdout
    assert path.read_bytes() == before.replace(b"version: 2.0.0", b"version: 3.0.0")


def test_already_sufficient_and_unchanged_are_left_alone(mini: Path) -> None:
    path = mini / PROMPT
    path.write_text(path.read_text().replace("Answer briefly.", "Answer at length.").replace("2.0.0", "2.5.0"))
    before = path.read_bytes()
    result = bump(mini)
    assert result.returncode == 0
    assert f"{PROMPT}: left at 2.5.0 (2.5.0 already satisfies the required minor bump)" in result.stdout
    assert path.read_bytes() == before
    assert bump(mini, "environments/dev/models/chat.yaml").stdout.strip().endswith("(content unchanged)")


def test_dry_run_and_json(mini: Path) -> None:
    path = mini / PROMPT
    path.write_text(path.read_text().replace("Answer briefly.", "Answer at length."))
    before = path.read_bytes()
    result = bump(mini, "--dry-run", "--format", "json")
    assert result.returncode == 0
    doc = json.loads(result.stdout)
    (entry,) = doc["bumped"]
    assert (entry["path"], entry["before"], entry["after"], entry["written"]) == (PROMPT, "2.0.0", "2.1.0", False)
    assert entry["change"]["required"] == "minor"
    assert path.read_bytes() == before


def test_changed_data_file_bumps_its_dataset(mini: Path) -> None:
    with open(mini / "data/qa.jsonl", "a", encoding="utf-8") as fh:
        fh.write('{"question": "Restore?", "answer": "Yes."}\n')
    result = bump(mini)
    assert "environments/dev/datasets/qa.yaml: 1.0.0 -> 1.1.0 (wrote; minor required by " \
           "dataset/records-appended)" in result.stdout
    # the eval pins qa at exactly 1.0.0: that reference is reported
    assert "ref/version-unsatisfied" in result.stdout
    assert result.returncode == 1


def test_block_scalar_version_is_refused_and_untouched(mini: Path) -> None:
    path = mini / PROMPT
    path.write_text(path.read_text().replace("version: 2.0.0", "version: |-\n    2.0.0"))
    commit_all(mini, "block")
    path.write_text(path.read_text().replace("Answer briefly.", "Answer at length."))
    before = path.read_bytes()
    result = bump(mini)
    assert result.returncode == 1
    assert "error version/block-scalar" in result.stdout
    assert path.read_bytes() == before


def test_write_is_atomic_and_keeps_the_file_mode(mini: Path) -> None:
    path = mini / PROMPT
    path.write_text(path.read_text().replace("Answer briefly.", "Answer at length."))
    os.chmod(path, 0o640)
    assert bump(mini).returncode == 0
    assert stat.S_IMODE(path.stat().st_mode) == 0o640
    assert sorted(p.name for p in path.parent.iterdir()) == ["answer.yaml"]  # no temporary file left


def test_bad_input_is_a_finding(mini: Path, tmp_path: Path) -> None:
    (mini / PROMPT).write_text("spec: [unclosed\n")
    result = bump(mini)
    assert result.returncode == 1
    assert f"{PROMPT}:" in result.stdout and "yaml/syntax" in result.stdout
    outside = tmp_path / "elsewhere.yaml"
    outside.write_text("a: 1\n")
    result = bump(mini, str(outside))
    assert result.returncode == 1 and "path/outside-repository" in result.stdout


def test_new_repository_has_nothing_to_bump(tmp_path: Path) -> None:
    root = init_git(tmp_path / "fresh")
    write(root)
    result = bump(root)
    assert result.returncode == 0 and result.stdout == ""
