"""A retrieval suite run on the candidate RagConfig beside the current one, on the same queries.

The current (baseline) RagConfig is the one of the same name in another environment (``baseline_env``:
where it serves now) or at a Git revision (``baseline_ref``: before the change). Both run through the
evaluation engine in one process, with the candidate suite's dataset and metrics; the embedding model
is loaded once and the embedding cache serves every chunk the two share. The candidate's report then
carries the baseline's per-query values, so the engine's regression gates decide on a paired bootstrap
interval of the difference (``gates.maxRegression``), exactly as for a baseline report.
"""

from __future__ import annotations

import asyncio
import dataclasses
from pathlib import Path
from typing import Any

from ..errors import LLMGitOpsError, UsageError
from ..manifests.repository import EnvironmentState, Manifest, Repository
from ..manifests.source import WorkingTree


def _baseline_state(root: Path, env: str, baseline_env: str | None,
                    baseline_ref: str | None) -> tuple[EnvironmentState, str]:
    if (baseline_env is None) == (baseline_ref is None):
        raise UsageError("name exactly one baseline: an environment or a Git revision")
    if baseline_env is not None:
        repo = Repository(WorkingTree(root))
        if baseline_env not in repo.environment_names():
            raise UsageError(f"no environment {baseline_env!r} to take the baseline RagConfig from")
        return repo.environment(baseline_env), f"environment {baseline_env}"
    from ..gitrepo import Git, GitTree, require

    git = Git.discover(root)
    assert baseline_ref is not None
    sha = require(git, baseline_ref, "baseline revision")
    repo = Repository(GitTree(git, sha))
    if env not in repo.environment_names():
        raise UsageError(f"environment {env} does not exist at {baseline_ref}")
    return repo.environment(env), f"{baseline_ref} ({sha[:12]})"


async def _cases(plan: Any, cases: Any) -> list[dict[str, Any]]:
    from ..evaluation.progress import Progress
    from ..evaluation.runner import Execution, RunServices

    services = RunServices(plan, None, lambda provider: provider)
    try:
        with Progress(f"eval {plan.suite.name}", len(cases), enabled=False) as progress:
            return await Execution(plan, None, services, progress).run(cases)
    finally:
        await services.aclose()
        await plan.target.close()


def run_against_baseline(root: Path, env: str | None, suite_name: str, *, baseline_env: str | None = None,
                         baseline_ref: str | None = None, report_dir: Path | None = None,
                         write: bool = True) -> Any:
    """Run retrieval suite ``suite_name`` on its RagConfig and on the baseline RagConfig; return the
    candidate's ``SuiteReport`` with the baseline's values and the regression gates in it."""
    from ..evaluation.baseline import from_report
    from ..evaluation.datasets import load_dataset
    from ..evaluation.gates import summarize
    from ..evaluation.runner import (
        EvalConfigError,
        SuiteReport,
        build_document,
        default_report_dir,
        locate_suite,
        plan_suite,
    )
    from ..evaluation.targets import TargetContext, TargetError
    from .evaluation import RagTarget

    root = root.resolve()
    repo = Repository(WorkingTree(root))
    env_state, suite = locate_suite(repo, root, suite_name, env)
    plan = plan_suite(root, env_state, suite)
    if not isinstance(plan.target, RagTarget):
        raise UsageError(f"EvalSuite {suite.name} does not evaluate a RagConfig alone",
                         hint="a baseline RagConfig run compares retrieval suites (targets: one RagConfig)")
    base_state, label = _baseline_state(root, env_state.name, baseline_env, baseline_ref)
    base_manifest: Manifest | None = base_state.find("RagConfig", plan.target.name)
    if base_manifest is None:
        raise LLMGitOpsError(f"RagConfig {plan.target.name} does not exist in {label}: nothing to compare with",
                             hint="a new RagConfig has no baseline; run `llmgitops eval` on it alone")
    try:
        base_target = RagTarget(base_manifest, TargetContext(root, base_state, suite))
    except TargetError as exc:
        raise EvalConfigError(exc.findings) from None
    base_plan = dataclasses.replace(plan, target=base_target,
                                    metrics=[type(m)(m.spec, base_target) for m in plan.metrics])
    dataset = load_dataset(root, plan.dataset)
    if dataset.findings:
        raise EvalConfigError(dataset.findings)

    base_doc = build_document(base_plan, dataset, None, asyncio.run(_cases(base_plan, dataset.cases)), None, None)
    summarize(base_doc)
    baseline = from_report(base_doc, f"RagConfig {base_target.name} {base_target.version} from {label}")
    doc = build_document(plan, dataset, None, asyncio.run(_cases(plan, dataset.cases)), None, baseline)
    summarize(doc)
    doc["baselineRun"] = {"source": label, "target": base_target.describe(), "metrics": baseline.metrics,
                          "summary": base_doc["summary"]}
    report = SuiteReport(doc)
    if write:
        from ..evaluation.report import write_reports

        out = report_dir or default_report_dir(root, env_state.name, suite.name or "suite", None)
        report.paths = write_reports(doc, out)
    return report
