"""The bundled example repository: what the README's run command works on."""

from __future__ import annotations

from pathlib import Path

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
