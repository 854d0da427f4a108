"""The bundled example repository: what the README's run command works on."""

from __future__ import annotations

import subprocess
from pathlib import Path

import pytest

from conftest import REPO_ROOT, assert_no_traceback, run_cli
from llmgitops.manifests.ranges import parse_version
from llmgitops.manifests.repository import Repository
from llmgitops.manifests.source import WorkingTree
from llmgitops.validate import validate


def test_example_validates_clean() -> None:
    assert validate(REPO_ROOT, [REPO_ROOT / "environments"]) == []


def test_example_validates_clean_through_the_cli(example_repo: Path) -> None:
    result = run_cli("validate", "environments", cwd=example_repo)
    assert_no_traceback(result)
    assert result.returncode == 0, result.stdout + result.stderr


def test_every_manifest_carries_an_editor_modeline() -> None:
    for path in sorted((REPO_ROOT / "environments").rglob("*.yaml")):
        first = path.read_text(encoding="utf-8").splitlines()[0]
        assert first.startswith("# yaml-language-server: $schema="), path
        schema = (path.parent / first.split("$schema=", 1)[1]).resolve()
        assert schema.is_file(), f"{path}: modeline points at {schema}"


def test_dev_is_ahead_of_staging_which_is_ahead_of_prod() -> None:
    repo = Repository(WorkingTree(REPO_ROOT))
    envs = {name: repo.environment(name) for name in ("dev", "staging", "prod")}

    def versions(env: str) -> dict[tuple[str, str], str]:
        return {(m.kind or "", m.name or ""): m.version or "" for m in envs[env].promotable}

    for newer, older in (("dev", "staging"), ("staging", "prod")):
        new, old = versions(newer), versions(older)
        assert set(old) <= set(new), f"{older} has artifacts {newer} lacks"
        ahead = [key for key in old if parse_version(new[key]) > parse_version(old[key])]  # type: ignore[operator]
        behind = [key for key in old if parse_version(new[key]) < parse_version(old[key])]  # type: ignore[operator]
        assert ahead, f"{newer} is not ahead of {older}"
        assert not behind, f"{newer} is behind {older} on {behind}"


@pytest.mark.slow
def test_the_readme_main_job_runs_the_whole_loop(example_repo: Path) -> None:
    """The quick start's second command, verbatim from the README, on a copy of the example."""
    readme = (REPO_ROOT / "README.md").read_text(encoding="utf-8")
    command = next(line.split("#")[0].split() for line in readme.splitlines() if line.startswith("llmgitops promote"))
    result = run_cli(*command[1:], cwd=example_repo)
    assert_no_traceback(result)
    assert result.returncode == 0, result.stdout[-3000:] + result.stderr[-3000:]
    assert "SUCCEEDED" in result.stdout
    for step in ("train-support-gemma-lora", "evaluate-support-answer-quality", "reindex-product-docs",
                 "canary-5", "analyze-50", "promote-full"):
        assert f"succeeded {step}" in " ".join(result.stdout.split()), step
    branches = subprocess.run(["git", "branch", "--list", "promote/staging/*"], cwd=example_repo,
                              capture_output=True, text=True).stdout
    assert branches.strip(), "no promotion branch"
    status = subprocess.run(["git", "status", "--porcelain"], cwd=example_repo, capture_output=True, text=True)
    assert status.stdout == "", "the user's working tree changed"
