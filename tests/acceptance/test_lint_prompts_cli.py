"""`llmgitops lint-prompts` as users run it: the real CLI in a subprocess on real repositories."""

from __future__ import annotations

import json
import sys
from pathlib import Path

import pytest

from conftest import REPO_ROOT, assert_no_traceback, run_cli

sys.path.insert(0, str(Path(__file__).resolve().parents[1] / "unit" / "prompts"))
from prompt_cases import BASE, MODEL, MODEL_PATH, PROMPT_PATH, edit, pos_of

ENVIRONMENT = "apiVersion: llmgitops.dev/v1alpha1\nkind: Environment\nmetadata:\n  name: {name}\nspec:\n  promotion:\n" \
              "    from: {source}\n"
UNDECLARED = edit("        <question>{{ question }}</question>\n",
                  "        <question>{{ question }}</question>\n        Reply in {{ lang }}.\n")


@pytest.fixture
def cache_env(tmp_path: Path) -> dict[str, str]:
    return {"LLMGITOPS_CACHE_DIR": str(tmp_path / "cache")}


def make_repo(root: Path, prompt: str = BASE, extra: dict[str, str] | None = None) -> Path:
    files = {
        "environments/dev/environment.yaml": ENVIRONMENT.format(name="dev", source="null"),
        "environments/staging/environment.yaml": ENVIRONMENT.format(name="staging", source="dev"),
        MODEL_PATH: MODEL.format(window=8192),
        PROMPT_PATH: prompt,
        **(extra or {}),
    }
    for rel, text in files.items():
        path = root / rel
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text(text, encoding="utf-8")
    return root


def test_clean_repository(tmp_path: Path, cache_env: dict[str, str]) -> None:
    result = run_cli("lint-prompts", cwd=make_repo(tmp_path), env=cache_env)
    assert_no_traceback(result)
    assert result.returncode == 0, result.stdout + result.stderr
    assert "no problems found" in result.stderr


def test_error_is_reported_at_its_yaml_position(tmp_path: Path, cache_env: dict[str, str]) -> None:
    result = run_cli("lint-prompts", cwd=make_repo(tmp_path, UNDECLARED), env=cache_env)
    assert_no_traceback(result)
    assert result.returncode == 1
    line, column = pos_of(UNDECLARED, "lang }}")
    assert f"{PROMPT_PATH}:{line}:{column}: error prompt/undeclared-variable: " in result.stdout


def test_json_format_and_strict(tmp_path: Path, cache_env: dict[str, str]) -> None:
    warning_only = edit("  messages:\n", "    extra:\n      type: string\n  messages:\n")
    root = make_repo(tmp_path, warning_only)
    result = run_cli("lint-prompts", "--format", "json", cwd=root, env=cache_env)
    assert result.returncode == 0, result.stderr
    doc = json.loads(result.stdout)
    assert [f["rule"] for f in doc["findings"]] == ["prompt/unused-variable"]
    assert (doc["findings"][0]["line"], doc["findings"][0]["column"]) == pos_of(warning_only, "extra:")
    assert run_cli("lint-prompts", "--strict", cwd=root, env=cache_env).returncode == 1


def test_paths_scope_to_their_environment(tmp_path: Path, cache_env: dict[str, str]) -> None:
    root = make_repo(tmp_path, extra={"environments/staging/prompts/answer.yaml": UNDECLARED,
                                      "environments/staging/models/chat.yaml": MODEL.format(window=8192)})
    assert run_cli("lint-prompts", "environments/dev", cwd=root, env=cache_env).returncode == 0
    result = run_cli("lint-prompts", "environments/staging/prompts/answer.yaml", cwd=root, env=cache_env)
    assert result.returncode == 1 and "environments/staging/prompts/answer.yaml" in result.stdout
    assert "environments/dev/" not in result.stdout


def test_broken_prompt_file_is_a_finding(tmp_path: Path, cache_env: dict[str, str]) -> None:
    root = make_repo(tmp_path, BASE.replace("  type: chat\n", "  type: chat\n type: [\n"))
    result = run_cli("lint-prompts", cwd=root, env=cache_env)
    assert_no_traceback(result)
    assert result.returncode == 1 and "yaml/syntax" in result.stdout


def test_prompt_outside_environments_is_linted(tmp_path: Path, cache_env: dict[str, str]) -> None:
    root = make_repo(tmp_path, extra={"drafts/answer.yaml": UNDECLARED})
    result = run_cli("lint-prompts", "drafts/answer.yaml", cwd=root, env=cache_env)
    assert result.returncode == 1 and "drafts/answer.yaml" in result.stdout
    assert "prompt/undeclared-variable" in result.stdout


def test_validate_runs_the_prompt_lint(tmp_path: Path, cache_env: dict[str, str]) -> None:
    result = run_cli("validate", cwd=make_repo(tmp_path, UNDECLARED), env=cache_env)
    assert_no_traceback(result)
    assert result.returncode == 1 and "prompt/undeclared-variable" in result.stdout


def test_suppression_is_listed_in_json(tmp_path: Path, cache_env: dict[str, str]) -> None:
    prompt = edit("  name: answer\n", "  name: answer\n  annotations:\n"
                  "    llmgitops.dev/ignore: prompt/undeclared-variable,prompt/render-error\n", UNDECLARED)
    result = run_cli("lint-prompts", "--format", "json", cwd=make_repo(tmp_path, prompt), env=cache_env)
    assert result.returncode == 0, result.stdout
    doc = json.loads(result.stdout)
    assert doc["findings"] == []
    assert sorted(s["rule"] for s in doc["suppressed"]) == ["prompt/render-error", "prompt/undeclared-variable"]
    assert {s["extra"]["suppressed"]["severity"] for s in doc["suppressed"]} == {"error"}
    text = run_cli("lint-prompts", cwd=tmp_path, env=cache_env)
    assert "info prompt/undeclared-variable" in text.stdout and "2 suppressed" in text.stderr


def test_compiled_template_cache_survives_corruption(tmp_path: Path) -> None:
    cache = tmp_path / "cache"
    root = make_repo(tmp_path / "repo")
    env = {"LLMGITOPS_CACHE_DIR": str(cache)}
    cache.mkdir()
    assert run_cli("lint-prompts", cwd=root, env=env).returncode == 0
    (stored,) = cache.iterdir()
    assert stored.stat().st_size > 0
    stored.write_bytes(stored.read_bytes()[:40] + b"\x00garbage")
    result = run_cli("lint-prompts", cwd=root, env=env)
    assert_no_traceback(result)
    assert result.returncode == 0


def test_bundled_example_lints_clean(tmp_path: Path, cache_env: dict[str, str]) -> None:
    if not list((REPO_ROOT / "environments").glob("*/prompts/*.yaml")):
        pytest.skip("the bundled example has no prompts")
    result = run_cli("lint-prompts", "--strict", "--repo", str(REPO_ROOT), cwd=tmp_path, env=cache_env)
    assert_no_traceback(result)
    assert result.returncode == 0, result.stdout + result.stderr
    assert "no problems found" in result.stderr
