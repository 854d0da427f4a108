"""`llmgitops init`: a new GitOps repository that validates clean from the first commit.

The files are built in a temporary folder beside the target and moved into place in one rename, so an
interrupted init leaves nothing half-written. Into an existing folder (``--force``) each file is written
atomically on its own.
"""

from __future__ import annotations

import importlib.util
import os
import shutil
import subprocess
import sys
import tempfile
from dataclasses import dataclass, field
from pathlib import Path

from ..errors import LLMGitOpsError
from ..schemas import SCHEMA_VERSION, schema_dir

TEMPLATES = Path(__file__).parent / "templates"
# packaging drops dotfiles in some tools, so templates carry them without the dot
RENAMES = {"gitignore": ".gitignore", "pre-commit-config.yaml": ".pre-commit-config.yaml"}


@dataclass
class InitResult:
    root: Path
    files: list[str] = field(default_factory=list)
    git: bool = False
    dvc: bool = False
    notes: list[str] = field(default_factory=list)


def _stage(staging: Path) -> list[str]:
    written = []
    for src in sorted(TEMPLATES.rglob("*")):
        if src.is_dir() or "__pycache__" in src.parts:
            continue
        rel = src.relative_to(TEMPLATES)
        rel = rel.with_name(RENAMES.get(rel.name, rel.name)) if rel.parent == Path(".") else rel
        dest = staging / rel
        dest.parent.mkdir(parents=True, exist_ok=True)
        shutil.copyfile(src, dest)
        written.append(rel.as_posix())
    schemas = staging / "schemas" / SCHEMA_VERSION
    schemas.mkdir(parents=True, exist_ok=True)
    for src in sorted(schema_dir().glob("*.json")):
        shutil.copyfile(src, schemas / src.name)
        written.append(f"schemas/{SCHEMA_VERSION}/{src.name}")
    return sorted(written)


def _is_empty(path: Path) -> bool:
    return not any(path.iterdir())


def _inside_git(path: Path) -> bool:
    probe = subprocess.run(["git", "rev-parse", "--is-inside-work-tree"], cwd=path, capture_output=True, text=True)
    return probe.returncode == 0 and probe.stdout.strip() == "true"


def scaffold(target: Path, force: bool = False, git: bool = True, dvc: bool = True) -> InitResult:
    target = target.absolute()
    if target.exists() and not target.is_dir():
        raise LLMGitOpsError(f"{target} exists and is not a directory")
    if target.is_dir() and not _is_empty(target) and not force:
        raise LLMGitOpsError(f"{target} is not empty; refusing to overwrite",
                             hint="use --force to add the scaffold to an existing directory")
    target.parent.mkdir(parents=True, exist_ok=True)
    staging = Path(tempfile.mkdtemp(prefix=".llmgitops-init-", dir=target.parent))
    try:
        files = _stage(staging)
        if not target.exists() or _is_empty(target):
            if target.exists():
                target.rmdir()
            staging.rename(target)
        else:
            for rel in files:
                dest = target / rel
                dest.parent.mkdir(parents=True, exist_ok=True)
                os.replace(staging / rel, dest)
    finally:
        shutil.rmtree(staging, ignore_errors=True)
    result = InitResult(target, files)
    if git and shutil.which("git") and not _inside_git(target):
        subprocess.run(["git", "init", "-q"], cwd=target, check=True)
        result.git = True
    if dvc and (target / ".git").exists() and not (target / ".dvc").exists():
        if importlib.util.find_spec("dvc") is not None:
            done = subprocess.run([sys.executable, "-m", "dvc", "init", "-q"], cwd=target, capture_output=True,
                                  text=True)
            result.dvc = done.returncode == 0
            if not result.dvc:
                result.notes.append(f"dvc init failed: {done.stderr.strip()[:200]}")
        else:
            result.notes.append("dvc is not installed: run `dvc init` once it is (pip install 'llmgitops[dvc]')")
    return result
