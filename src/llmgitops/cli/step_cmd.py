"""`llmgitops step KIND`: one pipeline step, as each container of the rendered Argo Workflow runs it.

Hidden from --help: people run pipelines (`llmgitops pipeline run`, or Argo), pipelines run steps.
"""

from __future__ import annotations

import json
import os
from pathlib import Path

import click

from ..errors import EXIT_USAGE, LLMGitOpsError
from ..pipeline.model import STEP_KINDS


def _split(text: str | None) -> tuple[str, ...]:
    return tuple(p.strip() for p in (text or "").split(",") if p.strip())


@click.command(hidden=True)
@click.argument("kind", type=click.Choice(STEP_KINDS))
@click.option("--environment", required=True, help="Environment whose pipeline this step belongs to.")
@click.option("--revision", required=True, help="Commit (or, for validate, the branch) the step works on.")
@click.option("--state", help="validate: the environment state hash the workflow was rendered for.")
@click.option("--kind", "artifact_kind", help="Kind of the artifact the step works on.")
@click.option("--name", help="Name of the artifact.")
@click.option("--version", "artifact_version", help="Version of the artifact.")
@click.option("--weight", type=click.IntRange(0, 100), help="Canary traffic percentage.")
@click.option("--shard", type=int, help="evaluate: this pod's shard, 1-based.")
@click.option("--shards", type=click.IntRange(1, 256), default=1, help="evaluate: number of shards.")
@click.option("--mode", type=click.Choice(["reembed", "rebuild"]), help="reindex: what the change forces.")
@click.option("--decisions", help="approve: comma-separated decisions (approve/reject), one per approver.")
@click.option("--approvers", help="approve: comma-separated approvers, as the Git host knows them.")
@click.option("--reports", type=click.Path(path_type=Path), help="eval-merge: folder of shard reports.")
@click.option("--provider", metavar="SPEC", help="evaluate: provider override (a declared provider, or openai:URL).")
def step(kind: str, environment: str, revision: str, state: str | None, artifact_kind: str | None,
         name: str | None, artifact_version: str | None, weight: int | None, shard: int | None, shards: int,
         mode: str | None, decisions: str | None, approvers: str | None, reports: Path | None,
         provider: str | None) -> int:
    """Run one pipeline step in the current checkout."""
    from ..backends.local.runner import candidate_release
    from ..gitrepo import Git, require
    from ..manifests.repository import Repository
    from ..manifests.source import WorkingTree
    from ..pipeline.model import Artifact, IdentityError
    from ..pipeline.model import Step as PipelineStep
    from ..pipeline.settings import settings_of
    from ..pipeline.steps import StepContext, run_step
    from ..pipeline.steps import checks as step_checks
    from ..pipeline.steps.context import StepOutcome
    from ..validate import find_root

    root = find_root(Path.cwd())
    git = Git.discover(root)
    sha = require(git, "HEAD", "the checkout's commit")
    out_dir = Path(os.environ.get("LLMGITOPS_OUT") or root / ".llmgitops" / "step")
    out_dir.mkdir(parents=True, exist_ok=True)
    try:
        artifact = None
        if artifact_kind or name or artifact_version:
            artifact = Artifact(artifact_kind or "", name or "", artifact_version or "")
        this = PipelineStep(kind, kind, artifact=artifact, weight=weight or None, shards=shards, mode=mode)
    except (IdentityError, TypeError) as exc:
        raise LLMGitOpsError(f"step {kind}: {exc}", EXIT_USAGE) from None
    release, _ = candidate_release(root, root, environment)
    env_manifest = Repository(WorkingTree(root)).environment(environment).environment
    if env_manifest is None:
        raise LLMGitOpsError(f"there is no environment {environment!r} here", EXIT_USAGE)
    ctx = StepContext(repo_root=root, state_root=root, environment=environment, revision=sha,
                      release=release, settings=settings_of(env_manifest), out_dir=out_dir, provider=provider,
                      log=lambda m: click.echo(m, err=True))
    if kind == "evaluate" and shard is not None:
        ctx.shared["shard"] = (shard, shards)
    if kind == "eval-merge" and reports is not None:
        ctx.shared["shard-reports"] = reports
    if state is not None and kind == "validate":
        ctx.shared["expected-state"] = state
    outcome: StepOutcome
    if kind == "approve" and (decisions or approvers):
        outcome = step_checks.approve(ctx, this, _split(decisions), _split(approvers))
    else:
        outcome = run_step(ctx, this)
    for key, value in sorted(outcome.outputs.items()):
        text = value if isinstance(value, str) else json.dumps(value, sort_keys=True)
        (out_dir / key).write_text(text, encoding="utf-8")
    click.echo(outcome.summary)
    return 0
