"""evaluate and eval-merge: the EvalSuite's gates, through the evaluation engine (``run_suite``).

A suite whose dataset is large runs sharded: in Argo each shard is its own pod (`withItems`), then
``eval-merge`` merges the shard reports and decides the gates on the whole; the local runner runs the
shards one after another inside the evaluate step and merges them there, with the same code.
"""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

from ...errors import LLMGitOpsError
from ..model import Step
from .context import StepContext, StepFailed, StepOutcome, TransientError


def _gates(document: dict[str, Any]) -> str:
    failed = [g for g in document.get("gates") or [] if g.get("status") in ("fail", "unmeasured")]
    return "; ".join(f"{g.get('name')}: {g.get('message')}" for g in failed[:4]) or "no gate passed"


def _summary(name: str, document: dict[str, Any]) -> str:
    summary = document.get("summary") or {}
    rate = summary.get("passRate")
    rate_text = f"{rate:.1%}" if isinstance(rate, (int, float)) else "n/a"
    return f"{name}: {summary.get('passed', 0)}/{summary.get('cases', 0)} records pass ({rate_text})"


def _keep(ctx: StepContext, suite: str, path: Path) -> None:
    with ctx.lock:
        ctx.shared.setdefault("reports", {})[suite] = str(path)


def _run(ctx: StepContext, suite: str, shard: tuple[int, int] | None, out: Path) -> dict[str, Any]:
    from ...evaluation import run_suite
    from ...evaluation.providers import ProviderError

    try:
        report = run_suite(ctx.repo_root, ctx.environment, suite, provider=ctx.provider, shard=shard,
                           report_dir=out)
    except ProviderError as exc:
        raise TransientError(f"{suite}: provider failed: {exc}") from None
    except LLMGitOpsError as exc:
        raise StepFailed(f"{suite}: {exc.message}") from None
    return report.document


def _write(path: Path, document: dict[str, Any]) -> Path:
    from ...evaluation.report import write_reports

    return write_reports(document, path)["json"]


def evaluate(ctx: StepContext, step: Step) -> StepOutcome:
    assert step.artifact is not None
    suite = step.artifact.name
    manifest = ctx.release.manifests.get(("EvalSuite", suite))
    if manifest is None or manifest.version != step.artifact.version:
        raise StepFailed(f"{step.artifact.ref} is not in {ctx.environment} at {ctx.revision[:12]}")
    base = ctx.out_dir / "reports" / suite
    given = ctx.shared.get("shard")
    if given is not None and given[1] > 1:
        # one pod of a fan-out: the report is this shard's; eval-merge decides the gates
        document = _run(ctx, suite, given, base)
        ctx.log(_summary(f"{suite} shard {given[0]}/{given[1]}", document))
        return StepOutcome(_summary(f"{suite} shard {given[0]}/{given[1]}", document),
                           {"report": str(base / "report.json")})
    if step.shards > 1:
        from ...evaluation.shard import merge

        parts = [_run(ctx, suite, (i, step.shards), base / f"shard-{i}-of-{step.shards}")
                 for i in range(1, step.shards + 1)]
        document = merge(parts)
        path = _write(base, document)
    else:
        document = _run(ctx, suite, None, base)
        path = base / "report.json"
    _keep(ctx, suite, path)
    ctx.log(_summary(suite, document))
    if document.get("passed") is not True:
        raise StepFailed(f"{step.artifact.ref} gates failed: {_gates(document)}")
    return StepOutcome(_summary(suite, document), {"report": str(path), "passed": True})


def merge(ctx: StepContext, step: Step) -> StepOutcome:
    """Merge the shard reports Argo collected into ``--reports`` and decide the gates on the whole."""
    from ...evaluation.shard import MergeError
    from ...evaluation.shard import merge as merge_reports

    assert step.artifact is not None
    suite = step.artifact.name
    folder = ctx.shared.get("shard-reports")
    if folder is None:
        raise StepFailed("eval-merge needs --reports: the folder of shard reports")
    documents = [json.loads(p.read_text(encoding="utf-8")) for p in sorted(Path(folder).rglob("report.json"))]
    try:
        document = merge_reports(documents)
    except MergeError as exc:
        raise StepFailed(f"{suite}: {exc.message}") from None
    path = _write(ctx.out_dir / "reports", document)
    _keep(ctx, suite, path)
    if document.get("passed") is not True:
        raise StepFailed(f"{step.artifact.ref} gates failed: {_gates(document)}")
    return StepOutcome(_summary(suite, document), {"report": str(path), "passed": True})
