from __future__ import annotations

import json
from pathlib import Path

import click

from ..validate import find_root


@click.command()
@click.option("--format", "fmt", type=click.Choice(["text", "json"]), default="text", help="Output format.")
@click.option("--repo", type=click.Path(exists=True, file_okay=False, path_type=Path),
              help="Repository root (default: found from the current directory).")
def status(fmt: str, repo: Path | None) -> int:
    """Every artifact's version in every environment: ahead, behind, or pending promotion.

    Versions come from the working tree; pending promotions from unmerged promote/<env>/* branches.
    """
    from ..manifests.source import WorkingTree
    from ..status import as_text, compute, promotion_branches

    root = repo or find_root(Path.cwd())
    branches = {}
    if (root / ".git").exists():
        from ..gitrepo import Git

        branches = promotion_branches(Git.discover(root))
    result = compute(WorkingTree(root), branches)
    if fmt == "json":
        click.echo(json.dumps(result.to_dict(), indent=2))
    else:
        click.echo(as_text(result), nl=False)
    return 0
