from __future__ import annotations

from pathlib import Path

import click

from ..errors import LLMGitOpsError
from ..scaffold import scaffold
from ..validate import validate
from .options import report


@click.command()
@click.argument("directory", default=".", type=click.Path(path_type=Path))
@click.option("--force", is_flag=True, help="Write into a non-empty directory (existing files are replaced).")
@click.option("--no-git", is_flag=True, help="Do not run `git init`.")
@click.option("--no-dvc", is_flag=True, help="Do not run `dvc init`.")
def init(directory: Path, force: bool, no_git: bool, no_dvc: bool) -> int:
    """Scaffold a GitOps repository: environments dev, staging and prod with an example of every kind,
    pre-commit wired to the llmgitops hooks, editor schemas, .gitignore, and `git init` / `dvc init`."""
    try:
        result = scaffold(directory, force=force, git=not no_git, dvc=not no_dvc)
    except OSError as exc:
        raise LLMGitOpsError(f"cannot create {directory}: {exc.strerror or exc}") from None
    click.echo(f"created {len(result.files)} files in {result.root}", err=True)
    for note in result.notes:
        click.echo(f"note: {note}", err=True)
    from ..backends.argo.render import render, write

    rendered = render(result.root, [])
    written = write(result.root, rendered)
    if written:
        click.echo(f"rendered {len(written)} files in workflows/", err=True)
    findings = validate(result.root) + list(rendered.findings)
    code = report(findings, "text")
    if code == 0:
        click.echo("next: cd into it, `pre-commit install`, then `llmgitops validate`", err=True)
    return code
