from __future__ import annotations

from pathlib import Path

import click

from ..validate import find_root, validate as run_validate
from .options import format_option, report, strict_option


@click.command()
@click.argument("paths", nargs=-1, type=click.Path(exists=True, path_type=Path))
@click.option("--repo", type=click.Path(exists=True, file_okay=False, path_type=Path),
              help="Repository root (default: found from the current directory).")
@format_option
@strict_option
def validate(paths: tuple[Path, ...], repo: Path | None, fmt: str | None, strict: bool) -> int:
    """Validate manifests: schemas, references, DVC pointers, names and the promotion chain.

    PATHS may be files or folders; each environment they touch is validated whole, because references
    cross files. With no PATHS, every environment of the repository is validated.
    """
    root = repo or find_root(paths[0] if paths else Path.cwd())
    return report(run_validate(root, list(paths)), fmt, strict)
