from __future__ import annotations

from pathlib import Path

import click

from ..validate import find_root
from ..validate import validate as run_validate
from .options import format_option, report, strict_option


@click.command()
@click.argument("paths", nargs=-1, type=click.Path(exists=True, path_type=Path))
@click.option("--repo", type=click.Path(exists=True, file_okay=False, path_type=Path),
              help="Repository root (default: found from the current directory).")
@click.option("--rev", metavar="REV",
              help="Validate the files as committed at REV instead of the working tree (no checkout needed, "
                   "works in bare repositories, e.g. in a pre-receive hook).")
@click.option("--staged", is_flag=True, help="Validate the staged index: what the next commit will contain.")
@format_option
@strict_option
def validate(paths: tuple[Path, ...], repo: Path | None, rev: str | None, staged: bool, fmt: str | None,
             strict: bool) -> int:
    """Validate manifests: schemas, references, DVC pointers, names and the promotion chain.

    PATHS may be files or folders; each environment they touch is validated whole, because references
    cross files. With no PATHS, every environment of the repository is validated.
    """
    if rev is None and not staged:
        root = repo or find_root(paths[0] if paths else Path.cwd())
        return report(run_validate(root, list(paths)), fmt, strict)
    from ..errors import UsageError
    from ..gitrepo import Git, GitTree, require

    if rev is not None and staged:
        raise UsageError("--rev and --staged name different trees; use one")
    git = Git.discover(repo or Path.cwd())
    source = GitTree.index(git) if staged else GitTree(git, require(git, rev or "HEAD", "revision"))
    return report(run_validate(git.root, list(paths), source=source), fmt, strict)
