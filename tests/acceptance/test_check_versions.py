"""`llmgitops check-versions` on real git repositories: staged, --base/--head, findings, JSON, exit codes."""

from __future__ import annotations

import json
import os
import shutil
import subprocess
from pathlib import Path

import pytest

from conftest import assert_no_traceback, commit_all, git, init_git, run_cli
from minirepo import write

PROMPT = "environments/dev/prompts/answer.yaml"
MODEL = "environments/dev/models/chat.yaml"
DATASET = "environments/dev/datasets/qa.yaml"


def edit(root: Path, rel: str, old: str, new: str, stage: bool = True) -> None:
    path = root / rel
    text = path.read_text(encoding="utf-8")
    assert old in text, f"{old!r} not in {rel}"
    path.write_text(text.replace(old, new, 1), encoding="utf-8")
    if stage:
        git(root, "add", rel)


def version_line(root: Path, rel: str) -> int:
    lines = (root / rel).read_text(encoding="utf-8").splitlines()
    return next(i for i, line in enumerate(lines, 1) if line.strip().startswith("version:")
                and lines[i - 2].strip() == "spec:")


def check(root: Path, *args: str, env: dict[str, str] | None = None) -> subprocess.CompletedProcess[str]:
    result = run_cli("check-versions", *args, cwd=root, env=env)
    assert_no_traceback(result)
    return result


def test_staged_change_needs_its_bump(mini: Path) -> None:
    edit(mini, PROMPT, "Answer briefly.", "Answer in one short paragraph.")
    result = check(mini)
    assert result.returncode == 1, result.stdout + result.stderr
    line = version_line(mini, PROMPT)
    assert f"{PROMPT}:{line}:12: error version/not-bumped: Prompt answer changed but spec.version is still 2.0.0" \
        in result.stdout
    assert "prompt/message-reworded ($.spec.messages[0].content)" in result.stdout
    assert f"{PROMPT}: Prompt answer 2.0.0 -> 2.0.0 (changed; requires minor) [requires-rebaseline]" in result.stdout
    assert "llmgitops bump environments/dev/prompts/answer.yaml` (writes 2.1.0)" in result.stdout

    edit(mini, PROMPT, "version: 2.0.0", "version: 2.0.1")
    result = check(mini)
    assert result.returncode == 1
    assert "error version/insufficient-bump: Prompt answer: 2.0.0 -> 2.0.1 is a patch bump, but the change " \
           "requires minor" in result.stdout

    edit(mini, PROMPT, "version: 2.0.1", "version: 2.1.0")
    result = check(mini)
    assert result.returncode == 0, result.stdout
    assert "no problems found" in result.stderr


def test_major_change_names_every_rule_that_demands_it(mini: Path) -> None:
    edit(mini, PROMPT, "    question:\n      type: string", "    query:\n      type: integer")
    edit(mini, PROMPT, "version: 2.0.0", "version: 2.1.0")
    result = check(mini)
    assert result.returncode == 1
    assert "2.0.0 -> 2.1.0 is a minor bump, but the change requires major (major: " in result.stdout
    assert "prompt/input-removed ($.spec.input)" in result.stdout
    assert "prompt/input-added-required ($.spec.input.query)" in result.stdout
    assert "set spec.version to 3.0.0 or higher" in result.stdout


def test_only_staged_content_counts(mini: Path) -> None:
    edit(mini, PROMPT, "Answer briefly.", "Answer at length.", stage=False)
    assert check(mini).returncode == 0


def test_backwards_and_bump_without_change(mini: Path) -> None:
    edit(mini, MODEL, "version: 1.2.0", "version: 1.1.9")
    result = check(mini)
    assert result.returncode == 1
    assert "error version/backwards: Model chat: spec.version went backwards, 1.2.0 -> 1.1.9" in result.stdout

    edit(mini, MODEL, "version: 1.1.9", "version: 1.3.0")
    result = check(mini)
    assert result.returncode == 0
    assert "warning version/bump-without-change" in result.stdout
    assert check(mini, "--strict").returncode == 1


def test_new_artifacts_pass_with_any_valid_version(mini: Path) -> None:
    text = (mini / PROMPT).read_text().replace("name: answer", "name: other").replace("2.0.0", "0.0.1")
    (mini / "environments/dev/prompts/other.yaml").write_text(text)
    git(mini, "add", "-A")
    result = check(mini)
    assert result.returncode == 0, result.stdout
    assert "Prompt other - -> 0.0.1 (added)" in result.stdout

    (mini / "environments/dev/prompts/other.yaml").write_text(text.replace("0.0.1", "one"))
    git(mini, "add", "-A")
    result = check(mini)
    assert result.returncode == 1
    assert "error version/invalid" in result.stdout


def test_removed_artifacts_are_reported_and_fail_when_still_referenced(mini: Path) -> None:
    git(mini, "rm", "-q", DATASET)
    result = check(mini)
    assert result.returncode == 1
    assert f"{DATASET}:1:1: info version/removed: Dataset qa 1.0.0 is removed from dev" in result.stdout
    assert "environments/dev/evals/answer-quality.yaml" in result.stdout
    assert "error version/removed-referenced: EvalSuite answer-quality refers to Dataset qa" in result.stdout

    git(mini, "rm", "-q", "environments/dev/evals/answer-quality.yaml")
    result = check(mini)
    assert result.returncode == 0, result.stdout


def test_same_version_means_same_content_in_every_environment(mini: Path) -> None:
    staging = "environments/staging/prompts/answer.yaml"
    (mini / staging).parent.mkdir(parents=True)
    shutil.copy(mini / PROMPT, mini / staging)
    git(mini, "add", "-A")
    assert check(mini).returncode == 0  # a promotion: byte-identical copy

    edit(mini, staging, "Answer briefly.", "Answer at length.")
    result = check(mini)
    assert result.returncode == 1
    assert f"{staging}:" in result.stdout
    assert "error version/environment-conflict: Prompt answer 2.0.0 differs from the same version in " \
           f"{PROMPT}" in result.stdout


def test_published_versions_are_immutable_across_history(mini: Path) -> None:
    edit(mini, PROMPT, "Answer briefly.", "Answer in one short paragraph.")
    edit(mini, PROMPT, "version: 2.0.0", "version: 2.1.0")
    published = commit_all(mini, "publish 2.1.0")
    text = (mini / PROMPT).read_text()
    git(mini, "rm", "-q", PROMPT)
    git(mini, "commit", "-q", "-m", "remove")

    (mini / PROMPT).parent.mkdir(parents=True, exist_ok=True)
    (mini / PROMPT).write_text(text.replace("Answer in one short paragraph.", "Answer with a haiku."))
    git(mini, "add", PROMPT)
    result = check(mini)
    assert result.returncode == 1
    assert f"error version/reused: Prompt answer 2.1.0 was published with other content in {published[:12]}" \
        in result.stdout

    (mini / PROMPT).write_text(text)  # the very same content may come back
    git(mini, "add", PROMPT)
    assert check(mini).returncode == 0


def test_ci_mode_diffs_from_the_merge_base(mini: Path) -> None:
    git(mini, "checkout", "-q", "-b", "feature")
    edit(mini, PROMPT, "Answer briefly.", "Answer in one short paragraph.")
    edit(mini, PROMPT, "version: 2.0.0", "version: 2.1.0")
    commit_all(mini, "feature")
    git(mini, "checkout", "-q", "main")
    edit(mini, MODEL, "max_model_len: 4096", "max_model_len: 2048")  # unbumped, but not the branch's doing
    commit_all(mini, "main moves on")

    result = check(mini, "--base", "main", "--head", "feature")
    assert result.returncode == 0, result.stdout
    assert "Prompt answer 2.0.0 -> 2.1.0 (changed; requires minor)" in result.stdout
    assert "Model chat" not in result.stdout

    # main publishes 2.1.0 with other content after the branch point: the branch's 2.1.0 is a reuse
    edit(mini, PROMPT, "Answer briefly.", "Answer tersely.")
    edit(mini, PROMPT, "version: 2.0.0", "version: 2.1.0")
    main_publish = commit_all(mini, "main publishes 2.1.0")
    result = check(mini, "--base", "main", "--head", "feature")
    assert result.returncode == 1
    assert f"version/reused: Prompt answer 2.1.0 was published with other content in {main_publish[:12]}" \
        in result.stdout


def test_pre_commit_from_and_to_ref_are_honoured(mini: Path) -> None:
    base = git(mini, "rev-parse", "HEAD")
    edit(mini, PROMPT, "Answer briefly.", "Answer in one short paragraph.")
    head = commit_all(mini, "unbumped")
    env = {"PRE_COMMIT_FROM_REF": base, "PRE_COMMIT_TO_REF": head}
    result = check(mini, env=env)
    assert result.returncode == 1
    assert "version/not-bumped" in result.stdout
    assert check(mini).returncode == 0  # staged mode: nothing staged


def test_a_changed_pointer_or_data_file_changes_its_manifest(mini: Path) -> None:
    edit(mini, "data/chat.dvc", "3f2a1c9be0d5e1f2a3b4c5d6e7f80912", "00000000000000000000000000000000")
    with open(mini / "data/qa.jsonl", "a", encoding="utf-8") as fh:
        fh.write('{"question": "Restore?", "answer": "Yes."}\n')
    git(mini, "add", "-A")
    result = check(mini, "--format", "json")
    assert result.returncode == 1
    doc = json.loads(result.stdout)
    rules = {(f["path"], f["rule"]) for f in doc["findings"]}
    assert (MODEL, "version/not-bumped") in rules and (DATASET, "version/not-bumped") in rules
    by_name = {c["name"]: c for c in doc["changes"]}
    assert [h["rule"] for h in by_name["chat"]["hits"]] == ["model/weights-changed"]
    assert [h["rule"] for h in by_name["qa"]["hits"]] == ["dataset/records-appended"]
    assert by_name["qa"]["flags"] == ["requires-rebaseline"]


def test_json_output_shape(mini: Path) -> None:
    edit(mini, PROMPT, "Answer briefly.", "Answer at length.")
    result = check(mini, "--format", "json")
    assert result.returncode == 1
    doc = json.loads(result.stdout)
    assert set(doc) == {"version", "tool", "findings", "summary", "changes"}
    assert doc["summary"] == {"errors": 1, "warnings": 0, "infos": 0}
    (finding,) = doc["findings"]
    assert set(finding) >= {"path", "line", "column", "rule", "severity", "message", "hint"}
    (change,) = doc["changes"]
    assert change == {
        "kind": "Prompt", "name": "answer", "environment": "dev", "path": PROMPT, "status": "changed",
        "oldVersion": "2.0.0", "newVersion": "2.0.0", "required": "minor", "achieved": None,
        "flags": ["requires-rebaseline"], "editorialClaim": False,
        "hits": [{"rule": "prompt/message-reworded", "level": "minor", "path": "$.spec.messages[0].content",
                  "message": "message 0 (system) reworded", "flags": ["requires-rebaseline"]}],
    }


def test_github_and_sarif_formats(mini: Path) -> None:
    edit(mini, PROMPT, "Answer briefly.", "Answer at length.")
    github = check(mini, "--format", "github")
    assert github.returncode == 1
    assert github.stdout.startswith(f"::error file={PROMPT},line=")
    sarif = json.loads(check(mini, "--format", "sarif").stdout)
    assert sarif["runs"][0]["results"][0]["ruleId"] == "version/not-bumped"


def test_base_manifest_that_does_not_parse_is_a_finding(mini: Path) -> None:
    good = (mini / PROMPT).read_text()
    (mini / PROMPT).write_text("apiVersion: [unclosed\n")
    commit_all(mini, "broken (pushed before the hooks were installed)")
    (mini / PROMPT).write_text(good)
    git(mini, "add", PROMPT)
    result = check(mini)
    assert result.returncode == 0, result.stdout
    assert f"{PROMPT}:1:1: warning version/base-unreadable: the manifest at the base" in result.stdout


@pytest.mark.parametrize("text,rule", [
    ("apiVersion: [unclosed\n", "yaml/syntax"),
    ("a: &a [x, x, x, x, x, x, x, x, x]\n" + "".join(f"b{i}: [*a, *a, *a, *a]\n" for i in range(12)),
     "yaml/alias-limit"),
    ("kind: !!python/object:os.system {}\n", "yaml/unknown-tag"),
    ("\xff\xfe", "yaml/encoding"),
])
def test_hostile_new_manifest_is_a_finding(mini: Path, text: str, rule: str) -> None:
    (mini / PROMPT).write_bytes(text.encode("latin-1") if rule == "yaml/encoding" else text.encode())
    git(mini, "add", PROMPT)
    result = check(mini)
    assert result.returncode == 1
    assert f"error {rule}" in result.stdout


def test_prompt_with_template_syntax_and_shell_metacharacters(mini: Path) -> None:
    edit(mini, PROMPT, "Answer briefly.", "Answer $(rm -rf /) `id` {{ '{{' }} {% raw %}{{x}}{% endraw %}; | &")
    result = check(mini)
    assert result.returncode == 1
    assert "prompt/message-reworded" in result.stdout


def test_empty_repository_everything_is_new(tmp_path: Path) -> None:
    root = init_git(tmp_path / "fresh")
    write(root)
    git(root, "add", "-A")
    result = check(root)
    assert result.returncode == 0, result.stdout
    assert "(added)" in result.stdout


def test_usage_errors_exit_2(mini: Path, tmp_path: Path) -> None:
    result = check(mini, "--base", "no-such-branch")
    assert result.returncode == 2
    assert "base 'no-such-branch' is not a commit in this repository" in result.stderr
    assert check(mini, "--head", "HEAD").returncode == 2
    outside = tmp_path / "not-a-repo"
    outside.mkdir()
    result = check(outside)
    assert result.returncode == 2 and "not inside a git repository" in result.stderr
    bare = tmp_path / "bare.git"
    git(tmp_path, "clone", "-q", "--bare", str(mini), str(bare))
    result = check(bare)
    assert result.returncode == 2 and "bare repository has no index" in result.stderr
    result = run_cli("check-versions", "--stdin-refs", "pre-receive", cwd=bare, input="garbage\n")
    assert result.returncode == 2 and "not a pre-receive ref update" in result.stderr


def test_paths_limit_the_report(mini: Path) -> None:
    edit(mini, PROMPT, "Answer briefly.", "Answer at length.")
    edit(mini, MODEL, "max_model_len: 4096", "max_model_len: 2048")
    result = check(mini, MODEL)
    assert result.returncode == 1
    assert PROMPT not in result.stdout and MODEL in result.stdout


def test_real_pre_commit_runs_the_hook_from_ref_to_ref(mini: Path) -> None:
    """The hook catalog entry, run by the real pre-commit with --from-ref/--to-ref as in CI."""
    if shutil.which("pre-commit") is None:
        pytest.skip("pre-commit is not installed")
    (mini / ".pre-commit-config.yaml").write_text(
        "repos:\n  - repo: local\n    hooks:\n      - id: llmgitops-check-versions\n"
        "        name: llmgitops check-versions\n        entry: llmgitops check-versions\n"
        "        language: system\n        pass_filenames: false\n        stages: [pre-commit, pre-push, manual]\n")
    base = commit_all(mini, "config")
    edit(mini, PROMPT, "Answer briefly.", "Answer at length.")
    head = commit_all(mini, "unbumped")
    env = {**os.environ, "PRE_COMMIT_HOME": str(mini.parent / "pc-home")}
    run = subprocess.run(["pre-commit", "run", "--hook-stage", "manual", "--from-ref", base, "--to-ref", head],
                         cwd=mini, capture_output=True, text=True, env=env, timeout=300)
    assert run.returncode == 1, run.stdout + run.stderr
    assert "version/not-bumped" in run.stdout
    edit(mini, PROMPT, "version: 2.0.0", "version: 2.1.0")
    fixed = commit_all(mini, "bumped")
    run = subprocess.run(["pre-commit", "run", "--hook-stage", "manual", "--from-ref", base, "--to-ref", fixed],
                         cwd=mini, capture_output=True, text=True, env=env, timeout=300)
    assert run.returncode == 0, run.stdout + run.stderr
