from __future__ import annotations

import json
from pathlib import Path

import click

from ..errors import EXIT_USAGE, LLMGitOpsError
from ..findings import has_errors
from ..reporting import default_format
from ..validate import find_root
from .options import format_option, report


@click.command()
@click.argument("source", metavar="FROM")
@click.argument("target", metavar="TO")
@click.option("--only", "only", multiple=True, metavar="KIND/NAME",
              help="Promote only these artifacts (repeatable), and what they need.")
@click.option("--dry-run", is_flag=True, help="Print the plan and the pull request description; write nothing.")
@click.option("--push", "remote", metavar="REMOTE", help="Push the promotion branch to this remote.")
@click.option("--open-pr", "forge", type=click.Choice(["github", "gitlab"]),
              help="Open the pull request through the forge's API (token from GITHUB_TOKEN / GITLAB_TOKEN).")
@click.option("--base", "base_branch", metavar="BRANCH",
              help="Branch the pull request targets (default: the current branch).")
@click.option("--description-file", type=click.Path(dir_okay=False, path_type=Path),
              help="Where to write the description (default: .llmgitops/promotions/<TO>-<plan>.md).")
@click.option("--run", "run_pipeline", is_flag=True,
              help="Then run TO's pipeline on this machine against the promotion branch and report it.")
@click.option("--provider", metavar="SPEC", help="With --run: evaluate with this provider (see `pipeline run --help`).")
@click.option("--repo", type=click.Path(exists=True, file_okay=False, path_type=Path),
              help="Repository root (default: found from the current directory).")
@format_option
def promote(source: str, target: str, only: tuple[str, ...], dry_run: bool, remote: str | None,
            forge: str | None, base_branch: str | None, description_file: Path | None, run_pipeline: bool,
            provider: str | None, repo: Path | None, fmt: str | None) -> int:
    """Promote FROM's changed artifacts to TO as a branch, a commit and a pull request description.

    The plan lists every artifact that is new, changed or removed, with its versions, the bump its
    change demands and the pipeline flags. Policy violations are reported and nothing is written.
    The commit is built in a temporary git worktree: your working tree and branch are left alone.
    """
    from ..promotion import commit, prepare
    from ..promotion.forge import open_pull_request, push

    if forge and not remote:
        raise LLMGitOpsError("--open-pr needs --push REMOTE: the pull request's branch must be on the forge",
                             EXIT_USAGE)
    if dry_run and (remote or run_pipeline):
        raise LLMGitOpsError("--dry-run writes nothing: it cannot --push or --run", EXIT_USAGE)
    if provider and not run_pipeline:
        raise LLMGitOpsError("--provider applies to --run", EXIT_USAGE)
    root = repo or find_root(Path.cwd())
    prepared = prepare(root, source, target, only)
    plan = prepared.plan
    chosen = default_format(fmt)
    as_json = chosen == "json"
    if has_errors(plan.findings) or plan.empty or dry_run:
        if as_json:
            click.echo(json.dumps({"plan": plan.to_dict(), "findings": [f.to_dict() for f in plan.findings],
                                   "description": prepared.description, "written": False}, indent=2))
            return 1 if has_errors(plan.findings) else 0
        code = report(plan.findings, chosen)
        if code:
            click.echo("not promoted: fix the errors above (nothing was written)", err=True)
            return code
        if plan.empty:
            click.echo(f"nothing to promote: {target} already holds {source}'s artifacts", err=True)
            return 0
        click.echo(prepared.description)
        click.echo("dry run: nothing was written", err=True)
        return 0
    applied = commit(prepared, description_file)
    outcome: dict[str, object] = {"branch": applied.branch, "commit": applied.commit, "created": applied.created,
                                  "descriptionFile": str(applied.description_path)}
    if remote:
        push(prepared.git, remote, applied.branch)
        outcome["pushed"] = remote
    if forge and remote:
        base = base_branch or prepared.git.text("symbolic-ref", "--quiet", "--short", "HEAD", ok=(0, 1)) or "main"
        pr = open_pull_request(forge, prepared.git, remote, applied.branch, base,
                               f"Promote {source} → {target} ({len(plan.items)} artifacts)", prepared.description)
        outcome["pullRequest"] = {"url": pr.url, "number": pr.number, "created": pr.created}
    code = 0
    if not as_json:
        report(plan.findings, chosen)
        click.echo(prepared.description)
        state = "created" if applied.created else "already exists (same plan), unchanged"
        click.echo(f"branch {applied.branch} {state} at {applied.commit[:12]}", err=True)
        click.echo(f"description written to {applied.description_path}", err=True)
        if remote:
            click.echo(f"pushed {applied.branch} to {remote}", err=True)
        if "pullRequest" in outcome:
            click.echo(f"pull request: {outcome['pullRequest']['url']}", err=True)  # type: ignore[index]
    if run_pipeline:
        from .pipeline_cmd import run_and_report

        code = run_and_report(root, target, applied.branch, provider, None if as_json else chosen)
    if as_json:
        click.echo(json.dumps({"plan": plan.to_dict(), "findings": [f.to_dict() for f in plan.findings],
                               "description": prepared.description, "written": True, **outcome}, indent=2))
    return code
