"""validate and approve: the steps that decide without changing anything."""

from __future__ import annotations

from ...findings import Severity
from ...reporting import as_text
from ..model import Step
from .context import StepContext, StepFailed, StepOutcome


def validate(ctx: StepContext, step: Step) -> StepOutcome:
    """The environment at this revision validates clean and is the state the pipeline was built for."""
    from ...manifests.repository import Repository
    from ...manifests.source import WorkingTree
    from ...validate import validate as run_validate
    from ..release import release_of

    findings = run_validate(ctx.repo_root, [ctx.repo_root / "environments" / ctx.environment])
    if findings:
        ctx.log(as_text(findings).rstrip())
    errors = [f for f in findings if f.severity is Severity.ERROR]
    if errors:
        raise StepFailed(f"{ctx.environment} does not validate: {len(errors)} error(s), first "
                         f"{errors[0].path}:{errors[0].line}: {errors[0].rule}")
    state = release_of(Repository(WorkingTree(ctx.repo_root)).environment(ctx.environment)).state
    expected = str(ctx.shared.get("expected-state") or ctx.release.state)
    if state != expected:
        # the branch moved on: the newer state has its own workflow, this run must not deploy it
        raise StepFailed(f"{ctx.environment} at {ctx.revision[:12]} is state {state[:12]}, not the "
                         f"{expected[:12]} this pipeline deploys: a newer state supersedes this run")
    warnings = len(findings)
    return StepOutcome(f"{ctx.environment} validates clean ({warnings} warning{'s' * (warnings != 1)}), "
                       f"state {state[:12]}", {"revision": ctx.revision, "state": state})


def approve(ctx: StepContext, step: Step, decisions: tuple[str, ...] | None = None,
            approvers: tuple[str, ...] | None = None) -> StepOutcome:
    """Enough distinct, allowed people approved; who they were is the step's output."""
    settings = ctx.settings
    people = tuple(dict.fromkeys(a.strip() for a in (approvers if approvers is not None else ctx.approvals)
                                 if a.strip()))
    verdicts = decisions if decisions is not None else tuple("approve" for _ in people)
    if any(d != "approve" for d in verdicts):
        who = ", ".join(p for p, d in zip(people, verdicts, strict=False) if d != "approve") or "an approver"
        raise StepFailed(f"{who} rejected the rollout of {ctx.environment}")
    allowed = set(settings.approvers)
    strangers = [p for p in people if allowed and p not in allowed]
    if strangers:
        raise StepFailed(f"{', '.join(strangers)} may not approve {ctx.environment}; approvers: "
                         f"{', '.join(settings.approvers)}")
    if len(people) < settings.min_approvals:
        raise StepFailed(f"{ctx.environment} needs {settings.min_approvals} approval(s) from "
                         f"{', '.join(settings.approvers) or 'its approvers'}; got {len(people)}"
                         + ("" if people else " (locally: llmgitops pipeline run --approve-as NAME)"))
    return StepOutcome(f"approved by {', '.join(people)}", {"decision": "approve", "approvers": list(people)})
