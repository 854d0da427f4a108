from __future__ import annotations

import json
from pathlib import Path

import click

from ..validate import find_root


def _report_text(record: object) -> None:
    from ..backends.local.runner import RunRecord

    assert isinstance(record, RunRecord)
    click.echo("")
    click.echo(f"run {record.id}: {record.status.upper()}")
    click.echo(f"  environment {record.environment} at {record.revision[:12]}, state {record.state[:12]}")
    width = max((len(s) for s in record.steps), default=4)
    for step in record.pipeline.steps:
        entry = record.steps.get(step.id)
        if entry is None:
            continue
        click.echo(f"  {entry.status:<9} {step.id:<{width}}  {entry.summary}")
    if record.rollback is not None:
        click.echo(f"  {record.rollback.status:<9} {'rollback':<{width}}  {record.rollback.summary}")
    traffic = ", ".join(f"{state} {share}%" for state, share in sorted(record.traffic.items())) or "nothing"
    click.echo(f"  traffic now: {traffic}")
    if record.path is not None:
        click.echo(f"  record: {record.path}  (step logs beside it)")


def run_and_report(root: Path, env: str, revision: str | None, provider: str | None, fmt: str | None,
                   approvals: tuple[str, ...] = ()) -> int:
    from ..backends.local.runner import run_pipeline

    quiet = fmt == "json"
    record = run_pipeline(root, env, revision, _provider(provider), approvals,
                          echo=(lambda _m: None) if quiet else (lambda m: click.echo(m, err=True)))
    if quiet:
        click.echo(json.dumps(record.to_dict(), indent=2))
    else:
        _report_text(record)
    return 0 if record.ok else 1


def _provider(spec: str | None) -> str | None:
    """A replay file given relative to where the user stands must still be found from the checkout."""
    if spec and spec.startswith("replay:"):
        path = Path(spec[len("replay:"):])
        if not path.is_absolute():
            path = Path.cwd() / path
        return f"replay:{path.resolve()}"
    return spec


@click.group()
def pipeline() -> None:
    """Run an environment's pipeline on this machine (the local backend)."""


@pipeline.command("run")
@click.argument("environment")
@click.option("--revision", metavar="REV", help="Commit, branch or tag to deploy (default: HEAD).")
@click.option("--provider", metavar="SPEC",
              help="Evaluate with this provider instead of the embedded models: one the Environment declares "
                   "(e.g. replay, recorded responses), openai:URL, or replay:FILE (answers recorded with "
                   "`eval --record`).")
@click.option("--approve-as", "approvals", multiple=True, metavar="NAME",
              help="Record an approval by NAME (repeatable) for an environment that requires approval.")
@click.option("--format", "fmt", type=click.Choice(["text", "json"]), default="text", help="Output format.")
@click.option("--repo", type=click.Path(exists=True, file_okay=False, path_type=Path),
              help="Repository root (default: found from the current directory).")
def run(environment: str, revision: str | None, provider: str | None, approvals: tuple[str, ...], fmt: str,
        repo: Path | None) -> int:
    """Run ENVIRONMENT's pipeline here: validate, train, evaluate, re-index, canary with analysis, approve,
    promote; a failure rolls back to the last good release. Exit code 1 when the run failed."""
    root = repo or find_root(Path.cwd())
    return run_and_report(root, environment, revision, provider, fmt, approvals)
