"""The machine-local folder ``.llmgitops/`` (run records, deployment state, promotion descriptions).

It ignores itself, as pytest's cache folder does, so nothing written there ever shows in `git status`.
"""

from __future__ import annotations

from pathlib import Path

LOCAL_DIR = ".llmgitops"
IGNORE = "# written by llmgitops: machine-local state, never committed\n*\n"


def local_dir(root: Path, *parts: str) -> Path:
    base = root / LOCAL_DIR
    base.mkdir(parents=True, exist_ok=True)
    ignore = base / ".gitignore"
    if not ignore.exists():
        ignore.write_text(IGNORE, encoding="utf-8")
    path = base.joinpath(*parts)
    path.mkdir(parents=True, exist_ok=True)
    return path
