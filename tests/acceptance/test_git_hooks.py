"""The plain Git hooks in hooks/, installed in real repositories and run by real git commands.

The server side is a real bare repository with hooks/pre-receive installed: a push made with
`git push --no-verify` still meets it.
"""

from __future__ import annotations

import os
import shutil
import subprocess
import sys
from pathlib import Path

import pytest

from conftest import REPO_ROOT, commit_all, git, init_git, run_cli
from minirepo import write

PROMPT = "environments/dev/prompts/answer.yaml"


@pytest.fixture
def hook_env(tmp_path: Path) -> dict[str, str]:
    """The environment git runs hooks with: LLMGITOPS points at this interpreter's llmgitops."""
    wrapper = tmp_path / "bin" / "llmgitops-under-test"
    wrapper.parent.mkdir()
    wrapper.write_text(f'#!/bin/sh\nexec "{sys.executable}" -m llmgitops "$@"\n')
    wrapper.chmod(0o755)
    env = {k: v for k, v in os.environ.items() if not k.startswith("GIT_")}
    env.update({"LLMGITOPS": str(wrapper), "GITHUB_ACTIONS": ""})
    env.pop("LLMGITOPS_DEBUG", None)
    return env


def install(hook: str, hooks_dir: Path) -> None:
    hooks_dir.mkdir(parents=True, exist_ok=True)
    shutil.copy(REPO_ROOT / "hooks" / hook, hooks_dir / hook)
    (hooks_dir / hook).chmod(0o755)


def run(cwd: Path, env: dict[str, str], *args: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run(["git", *args], cwd=cwd, env=env, capture_output=True, text=True, timeout=300)


def edit(root: Path, old: str, new: str) -> None:
    path = root / PROMPT
    text = path.read_text()
    assert old in text
    path.write_text(text.replace(old, new, 1))


@pytest.fixture
def server(tmp_path: Path) -> tuple[Path, Path]:
    """A bare remote with the pre-receive hook and a clone pushing to it."""
    seed = init_git(tmp_path / "seed")
    write(seed)
    commit_all(seed, "base")
    remote = tmp_path / "remote.git"
    git(tmp_path, "clone", "-q", "--bare", str(seed), str(remote))
    install("pre-receive", remote / "hooks")
    clone = tmp_path / "clone"
    git(tmp_path, "clone", "-q", str(remote), str(clone))
    git(clone, "config", "user.email", "ci@example.com")
    git(clone, "config", "user.name", "CI")
    return remote, clone


def test_hooks_are_executable_posix_sh() -> None:
    for name in ("pre-commit", "pre-push", "pre-receive"):
        path = REPO_ROOT / "hooks" / name
        assert path.read_text().startswith("#!/bin/sh\n")
        assert os.access(path, os.X_OK)
        dash = shutil.which("dash") or "sh"
        assert subprocess.run([dash, "-n", str(path)]).returncode == 0


def test_pre_receive_refuses_an_unbumped_push_made_with_no_verify(server: tuple[Path, Path],
                                                                 hook_env: dict[str, str]) -> None:
    remote, clone = server
    before = git(remote, "rev-parse", "main")
    edit(clone, "Answer briefly.", "Answer at length.")
    commit_all(clone, "reword without a bump")
    push = run(clone, hook_env, "push", "--no-verify", "origin", "main")
    assert push.returncode != 0
    assert "pre-receive hook declined" in push.stderr
    assert f"remote: {PROMPT}:" in push.stderr and "error version/not-bumped" in push.stderr
    assert "Traceback" not in push.stderr
    assert git(remote, "rev-parse", "main") == before

    edit(clone, "version: 2.0.0", "version: 2.1.0")
    fixed = commit_all(clone, "bump")
    push = run(clone, hook_env, "push", "--no-verify", "origin", "main")
    assert push.returncode == 0, push.stderr
    assert git(remote, "rev-parse", "main") == fixed


def test_pre_receive_validates_the_pushed_tree(server: tuple[Path, Path], hook_env: dict[str, str]) -> None:
    _, clone = server
    edit(clone, "type: chat", "type: chat\n  temprature: 0.2")
    edit(clone, "version: 2.0.0", "version: 2.0.1")
    commit_all(clone, "typo")
    push = run(clone, hook_env, "push", "--no-verify", "origin", "main")
    assert push.returncode != 0
    assert "schema/unknown-field" in push.stderr


def test_pre_receive_checks_new_branches_and_allows_deletions(server: tuple[Path, Path],
                                                             hook_env: dict[str, str]) -> None:
    _, clone = server
    git(clone, "checkout", "-q", "-b", "feature")
    edit(clone, "Answer briefly.", "Answer at length.")
    commit_all(clone, "unbumped on a new branch")
    push = run(clone, hook_env, "push", "--no-verify", "origin", "feature")
    assert push.returncode != 0 and "version/not-bumped" in push.stderr

    git(clone, "reset", "-q", "--hard", "origin/main")
    git(clone, "commit", "-q", "--allow-empty", "-m", "no manifest changes")
    assert run(clone, hook_env, "push", "origin", "feature").returncode == 0
    assert run(clone, hook_env, "push", "origin", "--delete", "feature").returncode == 0


def test_pre_push_hook(server: tuple[Path, Path], hook_env: dict[str, str]) -> None:
    remote, clone = server
    shutil.rmtree(remote / "hooks")  # only the client-side hook this time
    install("pre-push", clone / ".git" / "hooks")
    edit(clone, "Answer briefly.", "Answer at length.")
    commit_all(clone, "unbumped")
    push = run(clone, hook_env, "push", "origin", "main")
    assert push.returncode != 0
    assert "version/not-bumped" in push.stdout + push.stderr
    assert "error: failed to push" in push.stderr

    edit(clone, "version: 2.0.0", "version: 2.1.0")
    commit_all(clone, "bumped")
    push = run(clone, hook_env, "push", "origin", "main")
    assert push.returncode == 0, push.stdout + push.stderr


def test_pre_commit_hook_checks_what_is_staged(tmp_path: Path, hook_env: dict[str, str]) -> None:
    repo = init_git(tmp_path / "repo")
    write(repo)
    commit_all(repo, "base")
    install("pre-commit", repo / ".git" / "hooks")

    edit(repo, "Answer briefly.", "Answer at length.")
    run(repo, hook_env, "add", "-A")
    commit = run(repo, hook_env, "commit", "-m", "unbumped")
    assert commit.returncode != 0
    assert "version/not-bumped" in commit.stdout + commit.stderr
    assert "llmgitops found problems" in commit.stderr

    bump = subprocess.run([hook_env["LLMGITOPS"], "bump"], cwd=repo, env=hook_env, capture_output=True, text=True)
    assert bump.returncode == 0, bump.stdout + bump.stderr
    run(repo, hook_env, "add", "-A")
    commit = run(repo, hook_env, "commit", "-m", "bumped")
    assert commit.returncode == 0, commit.stdout + commit.stderr

    # a schema error in the staged file fails the commit even though the working tree is fixed
    edit(repo, "type: chat", "type: chat\n  temprature: 0.2")
    run(repo, hook_env, "add", "-A")
    edit(repo, "\n  temprature: 0.2", "")
    commit = run(repo, hook_env, "commit", "-m", "typo staged")
    assert commit.returncode != 0
    assert "schema/unknown-field" in commit.stdout + commit.stderr


def test_validate_reads_commits_and_the_index_without_a_checkout(server: tuple[Path, Path]) -> None:
    """What the hooks run: `validate --rev` in a bare repository, `validate --staged` in a clone."""
    remote, clone = server
    assert run_cli("validate", "--rev", "main", cwd=remote).returncode == 0
    broken = run_cli("validate", "--rev", "no-such-rev", cwd=remote)
    assert broken.returncode == 2 and "revision 'no-such-rev' is not a commit" in broken.stderr
    assert run_cli("validate", "--rev", "HEAD", "--staged", cwd=clone).returncode == 2

    edit(clone, "type: chat", "type: chat\n  temprature: 0.2")
    git(clone, "add", "-A")
    edit(clone, "\n  temprature: 0.2", "")
    staged = run_cli("validate", "--staged", cwd=clone)
    assert staged.returncode == 1 and f"{PROMPT}:" in staged.stdout and "schema/unknown-field" in staged.stdout
    assert run_cli("validate", cwd=clone).returncode == 0  # the working tree itself is fine
