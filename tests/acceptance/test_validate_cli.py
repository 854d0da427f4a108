"""`llmgitops validate` as users run it: a real process, every output format, every exit code."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

import pytest

from conftest import assert_no_traceback, run_cli
from minirepo import FILES, write

MODEL = "environments/dev/models/chat.yaml"


def broken(tmp_path: Path) -> Path:
    return write(tmp_path, {MODEL: FILES[MODEL].replace("runtime: vllm", "runtime: vllmm")})


def test_clean_repository_exits_zero(tmp_path: Path) -> None:
    result = run_cli("validate", cwd=write(tmp_path))
    assert result.returncode == 0, result.stdout + result.stderr
    assert result.stdout == ""
    assert "no problems found" in result.stderr


def test_text_findings_are_path_line_column(tmp_path: Path) -> None:
    result = run_cli("validate", cwd=broken(tmp_path))
    assert result.returncode == 1
    first = result.stdout.splitlines()[0]
    assert first.startswith(f"{MODEL}:16:14: error schema/enum: spec.serving.runtime: \"vllmm\" is not one of")
    assert "    hint: did you mean 'vllm'?" in result.stdout
    assert "1 error, 0 warnings" in result.stderr


def test_json_format(tmp_path: Path) -> None:
    result = run_cli("validate", "--format", "json", cwd=broken(tmp_path))
    assert result.returncode == 1
    doc = json.loads(result.stdout)
    assert doc["summary"] == {"errors": 1, "warnings": 0, "infos": 0}
    [finding] = doc["findings"]
    assert (finding["path"], finding["line"], finding["column"], finding["rule"], finding["severity"]) == (
        MODEL, 16, 14, "schema/enum", "error")


def test_github_annotations_chosen_under_actions(tmp_path: Path) -> None:
    result = run_cli("validate", cwd=broken(tmp_path), env={"GITHUB_ACTIONS": "true"})
    assert result.returncode == 1
    assert result.stdout.startswith(f"::error file={MODEL},line=16,col=14,title=schema/enum::")
    assert "%0Ahint: did you mean 'vllm'?" in result.stdout


def test_sarif_format(tmp_path: Path) -> None:
    result = run_cli("validate", "--format", "sarif", cwd=broken(tmp_path))
    doc = json.loads(result.stdout)
    run = doc["runs"][0]
    assert doc["version"] == "2.1.0"
    assert run["tool"]["driver"]["rules"][0]["id"] == "schema/enum"
    region = run["results"][0]["locations"][0]["physicalLocation"]["region"]
    assert region == {"startLine": 16, "startColumn": 14}


def test_paths_limit_the_environments_checked(tmp_path: Path) -> None:
    root = broken(tmp_path)
    staging_only = run_cli("validate", "environments/staging", cwd=root)
    assert staging_only.returncode == 0
    one_file = run_cli("validate", "environments/dev/prompts/answer.yaml", cwd=root)
    assert one_file.returncode == 1  # its environment is validated whole


def test_strict_fails_on_warnings(tmp_path: Path) -> None:
    root = write(tmp_path, {"environments/dev/notes.yaml": "a: 1\n"})
    assert run_cli("validate", cwd=root).returncode == 0
    assert run_cli("validate", "--strict", cwd=root).returncode == 1


@pytest.mark.parametrize("args", [["validate", "--format", "xml"], ["validate", "no/such/path"], ["nosuchcommand"]])
def test_usage_errors_exit_two(tmp_path: Path, args: list[str]) -> None:
    result = run_cli(*args, cwd=write(tmp_path))
    assert result.returncode == 2
    assert_no_traceback(result)


@pytest.mark.parametrize(
    "content",
    [
        b"a: &a [*a]\n",
        b"x: !!python/object/apply:os.system ['echo pwned']\n",
        b"\x00\x01\x02binary",
        b"\xff\xfe\xfd",
        b"kind: Model\napiVersion: llmgitops.dev/v1alpha1\nmetadata: {name: chat}\nspec: {version: 1.10}\n",
        b"apiVersion: llmgitops.dev/v1alpha1\nkind: Prompt\nmetadata: {name: chat}\nspec: [1, 2]\n",
        b"apiVersion: llmgitops.dev/v1alpha1\nkind: Model\nmetadata: []\nspec: {}\n",
        b"apiVersion: llmgitops.dev/v1alpha1\nkind: Model\nmetadata: {name: chat}\nspec:\n  weights: {dvc: {path: 7}}\n",
    ],
)
def test_hostile_input_is_a_finding_never_a_traceback(tmp_path: Path, content: bytes) -> None:
    root = write(tmp_path)
    (root / MODEL).write_bytes(content)
    result = run_cli("validate", "--format", "json", cwd=root)
    assert result.returncode == 1
    assert_no_traceback(result)
    assert json.loads(result.stdout)["findings"]


def test_internal_error_exits_three_without_traceback(tmp_path: Path) -> None:
    code = (
        "import llmgitops.cli.validate_cmd as v\n"
        "def boom(*a, **k): raise RuntimeError('disk on fire')\n"
        "v.run_validate = boom\n"
        "from llmgitops.cli import main\n"
        "main(['validate'])\n"
    )
    result = subprocess.run([sys.executable, "-c", code], cwd=write(tmp_path), capture_output=True, text=True)
    assert result.returncode == 3
    assert "internal error: RuntimeError: disk on fire" in result.stderr
    assert_no_traceback(result)


def test_path_outside_the_repository(tmp_path: Path) -> None:
    root = write(tmp_path / "repo")
    (root / ".git").mkdir()
    other = tmp_path / "elsewhere.yaml"
    other.write_text("a: 1\n")
    result = run_cli("validate", str(other), "--repo", str(root), cwd=root)
    assert result.returncode == 1
    assert "path/outside-repository" in result.stdout
