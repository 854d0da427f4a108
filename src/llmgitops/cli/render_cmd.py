from __future__ import annotations

from pathlib import Path

import click

from ..findings import sort_findings
from ..validate import find_root
from .options import format_option, report, strict_option


@click.command()
@click.argument("environments", nargs=-1)
@click.option("--check", is_flag=True, help="Write nothing; exit 1 when a rendered file is stale, edited or extra.")
@click.option("--repo", type=click.Path(exists=True, file_okay=False, path_type=Path),
              help="Repository root (default: found from the current directory).")
@format_option
@strict_option
def render(environments: tuple[str, ...], check: bool, repo: Path | None, fmt: str | None, strict: bool) -> int:
    """Render each environment's pipeline as Argo manifests in workflows/<env>/ (and workflows/argocd/).

    Environments whose deploy.target is `local` have nothing to render: `llmgitops pipeline run ENV`
    runs their pipeline. With no ENVIRONMENTS every environment is rendered.
    """
    from ..backends.argo.render import render as run_render
    from ..backends.argo.render import stale, write

    root = repo or find_root(Path.cwd())
    rendered = run_render(root, list(environments))
    findings = list(rendered.findings)
    if check:
        findings += stale(root, rendered)
    else:
        for relpath in write(root, rendered):
            click.echo(f"wrote {relpath}" if (root / relpath).exists() else f"removed {relpath}", err=True)
    for env, why in sorted(rendered.skipped.items()):
        click.echo(f"{env}: nothing to render ({why})", err=True)
    return report(sort_findings(findings), fmt, strict)
