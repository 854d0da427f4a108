"""`llmgitops render` through the real CLI: writing, --check on stale/edited/extra files, and the
repository's own workflows/ being up to date."""

from __future__ import annotations

import json
from pathlib import Path

from conftest import REPO_ROOT, assert_no_traceback, commit_all, run_cli


def test_render_writes_then_check_passes(example_repo: Path) -> None:
    first = run_cli("render", cwd=example_repo)
    assert_no_traceback(first)
    assert first.returncode == 0, first.stdout + first.stderr
    assert "wrote workflows/staging/workflow.yaml" in first.stderr
    assert "dev: nothing to render" in first.stderr
    assert (example_repo / "workflows/argocd/prod.yaml").is_file()
    commit_all(example_repo, "render")
    check = run_cli("render", "--check", cwd=example_repo)
    assert check.returncode == 0, check.stdout + check.stderr
    again = run_cli("render", cwd=example_repo)
    assert "wrote" not in again.stderr  # nothing changed, nothing rewritten


def test_check_fails_on_edited_missing_and_extra_files(example_repo: Path) -> None:
    run_cli("render", cwd=example_repo)
    commit_all(example_repo, "render")
    workflow = example_repo / "workflows/staging/workflow.yaml"
    workflow.write_text(workflow.read_text().replace("mutexes", "mutexs"))
    (example_repo / "workflows/prod/release.yaml").unlink()
    (example_repo / "workflows/staging/notes.yaml").write_text("a: 1\n")
    result = run_cli("render", "--check", "--format", "json", cwd=example_repo)
    assert_no_traceback(result)
    assert result.returncode == 1
    found = {(f["path"], f["rule"]) for f in json.loads(result.stdout)["findings"] if f["severity"] == "error"}
    assert found == {("workflows/staging/workflow.yaml", "render/stale"), ("workflows/prod/release.yaml", "render/stale"),
                     ("workflows/staging/notes.yaml", "render/stale")}
    text = run_cli("render", "--check", cwd=example_repo)
    assert "workflows/staging/workflow.yaml:" in text.stdout and "error render/stale" in text.stdout
    # --check wrote nothing
    assert "mutexs" in workflow.read_text()


def test_a_manifest_change_makes_the_rendered_files_stale(example_repo: Path) -> None:
    run_cli("render", cwd=example_repo)
    commit_all(example_repo, "render")
    env = example_repo / "environments/staging/environment.yaml"
    env.write_text(env.read_text().replace("steps: [5, 25, 50, 100]", "steps: [10, 100]"))
    result = run_cli("render", "--check", "staging", cwd=example_repo)
    assert result.returncode == 1
    assert "workflows/staging/workflowtemplate.yaml" in result.stdout


def test_unknown_environment(example_repo: Path) -> None:
    result = run_cli("render", "qa", cwd=example_repo)
    assert_no_traceback(result)
    assert result.returncode == 1
    assert "error render/unknown-environment: there is no environment 'qa'" in result.stdout


def test_the_repository_s_own_workflows_are_up_to_date() -> None:
    result = run_cli("render", "--check", cwd=REPO_ROOT)
    assert_no_traceback(result)
    assert result.returncode == 0, "run `llmgitops render` and commit workflows/:\n" + result.stdout
    assert (REPO_ROOT / "workflows/argocd").is_dir() and any(Path(REPO_ROOT / "workflows").iterdir())
