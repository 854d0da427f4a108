"""`llmgitops init`: a new repository that validates clean, and never a half-written one."""

from __future__ import annotations

from pathlib import Path

import pytest

from conftest import assert_no_traceback, git, run_cli
from llmgitops.errors import LLMGitOpsError
from llmgitops.scaffold import scaffold


def test_init_round_trip_validates_clean(tmp_path: Path) -> None:
    target = tmp_path / "new-repo"
    result = run_cli("init", str(target), cwd=tmp_path)
    assert result.returncode == 0, result.stdout + result.stderr
    assert_no_traceback(result)
    for env in ("dev", "staging", "prod"):
        folder = target / "environments" / env
        assert (folder / "environment.yaml").is_file()
        kinds = {p.parent.name for p in folder.glob("*/*.yaml")}
        assert kinds == {"models", "prompts", "rag", "datasets", "evals"}
    assert (target / ".pre-commit-config.yaml").is_file() and (target / ".gitignore").is_file()
    assert git(target, "rev-parse", "--is-inside-work-tree") == "true"
    assert (target / ".dvc" / "config").exists()
    again = run_cli("validate", cwd=target)
    assert again.returncode == 0, again.stdout
    rendered = run_cli("render", "--check", cwd=target)
    assert rendered.returncode == 0, rendered.stdout + rendered.stderr


def test_every_scaffolded_manifest_has_a_resolving_modeline(tmp_path: Path) -> None:
    target = scaffold(tmp_path / "r", git=False, dvc=False).root
    manifests = sorted((target / "environments").rglob("*.yaml"))
    assert manifests
    for path in manifests:
        first = path.read_text(encoding="utf-8").splitlines()[0]
        assert first.startswith("# yaml-language-server: $schema="), path
        assert (path.parent / first.split("$schema=", 1)[1]).resolve().is_file(), path


def test_refuses_a_non_empty_directory_without_force(tmp_path: Path) -> None:
    target = tmp_path / "busy"
    target.mkdir()
    (target / "keep.txt").write_text("mine")
    result = run_cli("init", str(target), cwd=tmp_path)
    assert result.returncode == 1
    assert "not empty" in result.stderr and "--force" in result.stderr
    assert sorted(p.name for p in target.iterdir()) == ["keep.txt"]
    assert not [p for p in tmp_path.iterdir() if p.name.startswith(".llmgitops-init-")]


def test_force_adds_the_scaffold_and_keeps_other_files(tmp_path: Path) -> None:
    target = tmp_path / "busy"
    target.mkdir()
    (target / "keep.txt").write_text("mine")
    result = run_cli("init", str(target), "--force", "--no-dvc", cwd=tmp_path)
    assert result.returncode == 0, result.stderr
    assert (target / "keep.txt").read_text() == "mine"
    assert (target / "environments" / "dev" / "environment.yaml").is_file()


def test_init_into_a_file_is_an_error(tmp_path: Path) -> None:
    target = tmp_path / "file"
    target.write_text("x")
    with pytest.raises(LLMGitOpsError):
        scaffold(target)


def test_unwritable_place_is_a_clean_error(tmp_path: Path) -> None:
    blocker = tmp_path / "a-file"
    blocker.write_text("x")
    result = run_cli("init", str(blocker / "repo"), cwd=tmp_path)
    assert result.returncode == 1
    assert_no_traceback(result)
    assert "cannot create" in result.stderr
    assert sorted(p.name for p in tmp_path.iterdir()) == ["a-file"]


def test_failure_midway_leaves_nothing_behind(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    """The copy is made to fail partway by patching the file copy: a real disk-full cannot be staged here."""
    import llmgitops.scaffold as sc

    calls = {"n": 0}
    real = sc.shutil.copyfile

    def flaky(src: object, dst: object) -> object:
        calls["n"] += 1
        if calls["n"] == 5:
            raise OSError(28, "No space left on device")
        return real(src, dst)  # type: ignore[arg-type]

    monkeypatch.setattr(sc.shutil, "copyfile", flaky)
    with pytest.raises(OSError):
        scaffold(tmp_path / "half", git=False, dvc=False)
    assert list(tmp_path.iterdir()) == []
