from __future__ import annotations

from pathlib import Path

import click

from ..validate import find_root
from .options import format_option, report, strict_option


@click.command("lint-prompts")
@click.argument("paths", nargs=-1, type=click.Path(exists=True, path_type=Path))
@click.option("--repo", type=click.Path(exists=True, file_okay=False, path_type=Path),
              help="Repository root (default: found from the current directory).")
@format_option
@strict_option
def lint_prompts(paths: tuple[Path, ...], repo: Path | None, fmt: str | None, strict: bool) -> int:
    """Lint prompts: templates compile, variables are declared and used, examples render, token budgets
    fit the model, no secrets, personal data or injection holes.

    PATHS may be files or folders; the Prompts of each environment they touch are linted (a Model
    change moves its Prompts' token budgets). With no PATHS, every environment is linted.
    """
    from ..prompts.linter import lint_paths

    root = repo or find_root(paths[0] if paths else Path.cwd())
    return report(lint_paths(root, list(paths)), fmt, strict)
