"""`llmgitops check-versions` and `llmgitops bump`: the semver policy as commands."""

from __future__ import annotations

import os
import sys
from pathlib import Path

import click

from ..errors import UsageError
from ..findings import sort_findings
from .options import format_option, report, strict_option

REF_MODES = ("pre-push", "pre-receive")


@click.command("check-versions")
@click.argument("paths", nargs=-1, type=click.Path(path_type=Path))
@click.option("--base", "base_ref", metavar="REF",
              help="Compare against the merge base with REF (CI). Default: HEAD, for the staged changes.")
@click.option("--head", "head_ref", metavar="REF", help="The revision to check (with --base; default HEAD).")
@click.option("--stdin-refs", type=click.Choice(REF_MODES),
              help="Read ref updates from standard input, as the pre-push or pre-receive hook gets them.")
@click.option("--remote", metavar="NAME",
              help="pre-push: the remote pushed to (its tracking refs say what it already has).")
@click.option("--repo", type=click.Path(exists=True, file_okay=False, path_type=Path),
              help="The repository (default: the one containing the current directory).")
@format_option
@strict_option
def check_versions(paths: tuple[Path, ...], base_ref: str | None, head_ref: str | None,
                   stdin_refs: str | None, remote: str | None, repo: Path | None, fmt: str | None,
                   strict: bool) -> int:
    """Check that every changed manifest carries the semver bump its content demands.

    \b
    Modes:
      (default)              the staged index against HEAD (pre-commit)
      --base REF [--head R]  R (default HEAD) against its merge base with REF (CI)
      --stdin-refs MODE      ref updates on standard input (pre-push, pre-receive; bare repositories)
    Under `pre-commit run --from-ref X --to-ref Y` the refs are taken from the environment.
    PATHS, when given, limit the report to those files.
    """
    from ..gitrepo import Git, parse_ref_updates
    from ..versioning.modes import check_range, check_ref_updates, check_staged
    from ..versioning.report import render_changes

    if head_ref and not base_ref:
        raise UsageError("--head needs --base")
    if stdin_refs and base_ref:
        raise UsageError("--stdin-refs and --base are different modes; use one")
    git = Git.discover(repo or Path.cwd())
    if stdin_refs:
        updates = parse_ref_updates(sys.stdin.read(), stdin_refs)
        result = check_ref_updates(git, updates, _known_refs(stdin_refs, remote))
    elif base_ref:
        result = check_range(git, base_ref, head_ref or "HEAD")
    elif os.environ.get("PRE_COMMIT_FROM_REF") and os.environ.get("PRE_COMMIT_TO_REF"):
        result = check_range(git, os.environ["PRE_COMMIT_FROM_REF"], os.environ["PRE_COMMIT_TO_REF"])
    else:
        result = check_staged(git)
    changes, findings = result.changes, result.findings
    if paths:
        wanted = {_relative(git.root, p) for p in paths}
        changes = [c for c in changes if {c.old_path, c.new_path} & wanted]
        findings = [f for f in findings if f.path in wanted]
    findings = sort_findings(findings)
    return report(findings, fmt, strict, render_changes(changes), {"changes": [c.to_dict() for c in changes]})


def _known_refs(mode: str, remote: str | None) -> list[str]:
    """What the receiving side already has: every ref (pre-receive: none is updated yet), or the
    remote's tracking refs (pre-push)."""
    if mode == "pre-receive":
        return ["--all"]
    return [f"--remotes={remote}" if remote else "--remotes"]


def _relative(root: Path, path: Path) -> str:
    absolute = (path if path.is_absolute() else Path.cwd() / path).resolve()
    try:
        return absolute.relative_to(root.resolve()).as_posix()
    except ValueError:
        return path.as_posix()


@click.command("bump")
@click.argument("paths", nargs=-1, type=click.Path(exists=True, path_type=Path))
@click.option("--level", type=click.Choice(("major", "minor", "patch")),
              help="Bump by this level instead of the minimum the change requires (never less).")
@click.option("--base", "base_ref", default="HEAD", show_default=True, metavar="REF",
              help="The revision the versions were published at.")
@click.option("--dry-run", is_flag=True, help="Say what would be written, write nothing.")
@click.option("--repo", type=click.Path(exists=True, file_okay=False, path_type=Path),
              help="The repository (default: the one containing the current directory).")
@format_option
@strict_option
def bump(paths: tuple[Path, ...], level: str | None, base_ref: str, dry_run: bool, repo: Path | None,
         fmt: str | None, strict: bool) -> int:
    """Write the minimum version each changed manifest requires (comments and formatting kept).

    With no PATHS, every manifest changed since --base (tracked files, staged or not) is considered.
    Afterwards, references in the same environment that the new versions no longer satisfy are
    reported.
    """
    from ..gitrepo import Git
    from ..versioning.bump import bump as run_bump
    from ..versioning.model import Level

    git = Git.discover(repo or Path.cwd())
    result = run_bump(git.root, list(paths), Level.parse(level) if level else None, base_ref, dry_run)
    lines = []
    for b in result.bumped:
        if b.after is not None:
            verb = "would write" if dry_run else "wrote"
            lines.append(f"{b.path}: {b.before or '-'} -> {b.after} ({verb}; {b.reason})")
        else:
            lines.append(f"{b.path}: left at {b.before or '-'} ({b.reason})")
    head = "\n".join(lines) + ("\n" if lines else "")
    extra = {"bumped": [{"path": b.path, "before": b.before, "after": b.after, "reason": b.reason,
                         "written": b.after is not None and not dry_run, "change": b.change.to_dict()}
                        for b in result.bumped]}
    return report(sort_findings(result.findings), fmt, strict, head, extra)


__all__ = ["bump", "check_versions"]
