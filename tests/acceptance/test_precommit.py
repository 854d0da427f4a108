"""A real `pre-commit run` in a temporary repository that uses this package as its hook repository."""

from __future__ import annotations

import os
import shutil
import subprocess
from pathlib import Path

import pytest
import yaml

from conftest import REPO_ROOT, commit_all, git, init_git
from llmgitops.hookcatalog import render
from minirepo import FILES, write

pytestmark = pytest.mark.slow


def snapshot_of_this_project(dest: Path) -> str:
    """This checkout's files as git sees them (tracked and new), committed in a repository of their own."""
    listed = subprocess.run(["git", "ls-files", "-z", "-co", "--exclude-standard"], cwd=REPO_ROOT,
                            capture_output=True, check=True).stdout.decode().split("\0")
    for rel in filter(None, listed):
        src = REPO_ROOT / rel
        if src.is_file():
            (dest / rel).parent.mkdir(parents=True, exist_ok=True)
            shutil.copy2(src, dest / rel)
    init_git(dest)
    return commit_all(dest, "snapshot")


def test_hook_catalog_file_does_not_drift() -> None:
    assert (REPO_ROOT / ".pre-commit-hooks.yaml").read_text(encoding="utf-8") == render()
    ids = [hook["id"] for hook in yaml.safe_load(render())]
    assert "llmgitops-validate" in ids and len(ids) == len(set(ids))


def test_pre_commit_runs_our_hook_from_a_hook_repository(tmp_path: Path) -> None:
    if shutil.which("pre-commit") is None:
        pytest.fail("pre-commit is a dev dependency: pip install -e '.[dev]'")
    hooks = tmp_path / "hooks"
    rev = snapshot_of_this_project(hooks)
    user = init_git(tmp_path / "user")
    write(user)
    (user / ".pre-commit-config.yaml").write_text(
        f"repos:\n  - repo: {hooks.as_uri()}\n    rev: {rev}\n    hooks:\n"
        "      - id: llmgitops-validate\n      - id: llmgitops-lint-prompts\n      - id: llmgitops-check-versions\n")
    commit_all(user, "manifests")
    env = {**os.environ, "PRE_COMMIT_HOME": str(tmp_path / "cache"), "GITHUB_ACTIONS": ""}

    clean = subprocess.run(["pre-commit", "run", "--all-files"], cwd=user, env=env, capture_output=True, text=True,
                           timeout=900)
    assert clean.returncode == 0, clean.stdout + clean.stderr
    for hook in ("llmgitops validate", "llmgitops lint-prompts", "llmgitops check-versions"):
        assert hook in clean.stdout
    assert "Failed" not in clean.stdout

    model = "environments/dev/models/chat.yaml"
    (user / model).write_text(FILES[model].replace("runtime: vllm", "runtime: vllmm"))
    git(user, "add", model)
    dirty = subprocess.run(["pre-commit", "run"], cwd=user, env=env, capture_output=True, text=True, timeout=900)
    assert dirty.returncode == 1
    assert f"{model}:16:14: error schema/enum" in dirty.stdout
    assert "Traceback" not in dirty.stdout

    # valid, but the content changed without a version bump: check-versions refuses the commit
    (user / model).write_text(FILES[model].replace("max_model_len: 4096", "max_model_len: 2048"))
    git(user, "add", model)
    unbumped = subprocess.run(["pre-commit", "run"], cwd=user, env=env, capture_output=True, text=True, timeout=900)
    assert unbumped.returncode == 1, unbumped.stdout
    assert "llmgitops check-versions" in unbumped.stdout and model in unbumped.stdout

    (user / model).write_text(FILES[model].replace("max_model_len: 4096", "max_model_len: 2048")
                              .replace("version: 1.2.0", "version: 1.2.1"))
    git(user, "add", model)
    bumped = subprocess.run(["pre-commit", "run"], cwd=user, env=env, capture_output=True, text=True, timeout=900)
    assert bumped.returncode == 0, bumped.stdout
