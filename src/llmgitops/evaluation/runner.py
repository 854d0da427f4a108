"""One evaluation run: resolve the suite, load its dataset, run the records through the target on the
provider, score them, apply the gates, write the reports.

``run_suite`` is the API the pipeline's evaluate step and ``llmgitops eval`` call.
"""

import asyncio
import dataclasses
import datetime
import time
from collections.abc import Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from .. import __version__
from ..errors import UsageError
from ..manifests.repository import Repository
from ..manifests.source import WorkingTree
from .baseline import Baseline, load_baseline
from .cases import Case
from .datasets import DatasetData, load_dataset
from .execution import Budget, Execution, RunServices
from .gates import summarize
from .metrics import Metric
from .progress import Progress
from .providers import Provider, build_provider
from .report.json import SCHEMA_ID
from .suite import EvalConfigError, Plan, locate_suite, number, plan_suite
from .targets import Target

# the names other parts of llmgitops (the pipeline, the RAG comparison) build on
__all__ = [
    "Budget",
    "EvalConfigError",
    "Execution",
    "Plan",
    "RunOptions",
    "RunServices",
    "SuiteReport",
    "build_document",
    "default_report_dir",
    "locate_suite",
    "plan_suite",
    "run_suite",
]


@dataclass
class SuiteReport:
    """A finished run: the report document and the files written."""

    document: dict[str, Any]
    paths: dict[str, Path] = field(default_factory=dict)

    @property
    def passed(self) -> bool | None:
        """True or False for a full run or a merge; None for a shard (gates are decided at merge)."""
        value = self.document.get("passed")
        return value if isinstance(value, bool) else None

    @property
    def gates(self) -> list[dict[str, Any]]:
        return list(self.document.get("gates") or [])

    @property
    def metrics(self) -> dict[str, Any]:
        return {m["name"]: m.get("value") for m in self.document.get("metrics") or []}


# -- the document ---------------------------------------------------------------------------------


def _metric_definitions(metrics: list[Metric]) -> list[dict[str, Any]]:
    out = []
    for metric in metrics:
        definition = metric.describe()
        definition["bounded"] = metric.bounded
        if metric.percentile is not None:
            definition["percentile"] = metric.percentile
        allowance = number(metric.params.get("maxRegression"))
        if allowance is not None:
            definition["maxRegression"] = allowance
        if metric.params:
            definition["params"] = metric.params
        out.append(definition)
    return out


def build_document(
    plan: Plan,
    dataset: DatasetData,
    provider: Provider | None,
    cases: list[dict[str, Any]],
    shard: tuple[int, int] | None,
    baseline: Baseline | None,
) -> dict[str, Any]:
    suite = plan.suite
    provider_doc = (
        {"name": provider.config.name, "type": provider.type, "identity": provider.identity()}
        if provider is not None
        else None
    )
    if baseline is not None:
        for case in cases:
            previous = baseline.cases.get(case["id"])
            if previous is not None:
                case["baseline"] = previous
    return {
        "schema": SCHEMA_ID,
        "suite": {
            "name": suite.name,
            "version": suite.version,
            "environment": plan.env.name,
            "path": suite.relpath,
            "sha256": suite.digest,
        },
        "targets": plan.targets,
        "dataset": dataset.describe(),
        "provider": provider_doc,
        "settings": plan.settings,
        "metricDefinitions": _metric_definitions(plan.metrics),
        "baseline": baseline.describe() if baseline is not None else None,
        "shard": {"index": shard[0], "count": shard[1]} if shard else None,
        "cases": cases,
    }


# -- the entry point ------------------------------------------------------------------------------


@dataclass
class RunOptions:
    provider: str | None = None
    shard: tuple[int, int] | None = None
    baseline: Path | None = None
    report_dir: Path | None = None
    use_cache: bool | None = None
    record: Path | None = None
    human_sample: int | None = None
    progress: bool = False
    write: bool = True
    budget: float | None = None  # largest spend of fresh requests, in the Model's pricing currency
    token_budget: int | None = None  # largest number of tokens (prompt + output) of fresh requests


def default_report_dir(root: Path, env: str, suite: str, shard: tuple[int, int] | None) -> Path:
    base = root / ".llmgitops" / "reports" / env / suite
    return base / f"shard-{shard[0]}-of-{shard[1]}" if shard else base


def run_suite(
    repo_root: Path | str,
    env: str | None,
    suite_name: str,
    *,
    provider: str | None = None,
    shard: tuple[int, int] | None = None,
    baseline: Path | str | None = None,
    report_dir: Path | str | None = None,
    options: RunOptions | None = None,
) -> SuiteReport:
    """Run an EvalSuite and apply its gates. Raises ``EvalConfigError`` (with findings) when the suite
    cannot run as declared and ``LLMGitOpsError`` for bad arguments; a failed gate is ``passed == False``."""
    opts = dataclasses.replace(
        options or RunOptions(),
        provider=provider or (options.provider if options else None),
        shard=shard or (options.shard if options else None),
        baseline=Path(baseline) if baseline else (options.baseline if options else None),
        report_dir=Path(report_dir) if report_dir else (options.report_dir if options else None),
    )
    root = Path(repo_root).resolve()
    repo = Repository(WorkingTree(root))
    env_state, suite = locate_suite(repo, root, suite_name, env)
    plan = plan_suite(root, env_state, suite, opts.provider, opts.use_cache)
    if opts.budget is not None and (plan.target.model is None or plan.target.model.pricing is None):
        raise UsageError("--budget needs the Model's spec.pricing", hint="or limit tokens with --token-budget")
    dataset = load_dataset(root, plan.dataset)
    if dataset.findings:
        raise EvalConfigError(dataset.findings)
    cases = dataset.cases
    if opts.shard is not None:
        from .shard import select

        cases = select(cases, *opts.shard)
    model_name = plan.target.model.name if plan.target.model is not None else None
    base = load_baseline(root, env_state, suite.name or "", suite.version or "", model_name, opts.baseline)
    started = time.time()
    perf = time.perf_counter()
    document, cache_stats = asyncio.run(_execute(plan, dataset.digest, cases, opts))
    seconds = time.perf_counter() - perf
    doc = build_document(plan, dataset, document["provider"], document["cases"], opts.shard, base)
    summarize(doc)
    doc["run"] = {
        "startedAt": datetime.datetime.fromtimestamp(started, datetime.UTC).isoformat(timespec="seconds"),
        "seconds": round(seconds, 3),
        "recordsPerSecond": round(len(cases) / seconds, 2) if seconds > 0 else None,
        "cache": cache_stats,
        "tool": f"llmgitops {__version__}",
    }
    if opts.human_sample:
        from .review import stratified_sample

        doc["review"] = {"sheet": [c["id"] for c in stratified_sample(doc["cases"], opts.human_sample)]}
    report = SuiteReport(doc)
    if opts.write:
        from .report import write_reports

        out_dir = opts.report_dir or default_report_dir(root, env_state.name, suite.name or "suite", opts.shard)
        report.paths = write_reports(doc, out_dir)
        if opts.human_sample:
            from .review import write_review_sheet

            report.paths.update(write_review_sheet(doc, out_dir, opts.human_sample))
    return report


async def _execute(
    plan: Plan, dataset_digest: str, cases: Sequence[Case], opts: RunOptions
) -> tuple[dict[str, Any], dict[str, Any] | None]:
    from .memo import NO_MEMO, memo_key, remember
    from .providers.cache import CachedProvider, ResponseCache
    from .providers.replay import Recorder, RecordingProvider

    scope = f"{plan.env.name}/{plan.suite.name}" + (f"/{opts.shard[0]}-of-{opts.shard[1]}" if opts.shard else "")
    cache = ResponseCache(plan.root / ".llmgitops" / "cache" / "responses.sqlite", scope) if plan.use_cache else None
    recorder = Recorder(opts.record) if opts.record else None
    memo = memo_key(plan, dataset_digest, opts.provider, opts.shard, recorder is not None) if cache else NO_MEMO

    def wrap(inner: Provider) -> Provider:
        wrapped = inner
        if cache is not None and inner.type != "replay":
            wrapped = CachedProvider(wrapped, cache)
        if recorder is not None:
            wrapped = RecordingProvider(wrapped, recorder)
        return wrapped

    main = None
    if plan.provider_config is not None:
        main = wrap(build_provider(plan.provider_config, plan.target.model, plan.root, plan.suite.name or ""))
    services = RunServices(plan, main, wrap)
    label = f"eval {plan.suite.name}" + (f" shard {opts.shard[0]}/{opts.shard[1]}" if opts.shard else "")
    stats: dict[str, Any] | None = None
    try:
        recalled = cache.recall_run(memo.key) if cache is not None and memo.key else None
        if recalled is not None:
            results, lookups = recalled
            stats = {"hits": lookups, "misses": 0, "memo": "hit"}
        else:
            with Progress(label, len(cases), enabled=opts.progress) as progress:
                budget = Budget(opts.budget, opts.token_budget)
                results = await Execution(plan, main, services, progress, budget).run(cases)
            if cache is not None:
                stats = {"hits": cache.hits, "misses": cache.misses, "memo": remember(cache, memo, results)}
    finally:
        if main is not None:
            await main.aclose()
        await services.aclose()
        await plan.target.close()
        retriever = plan.target.retriever
        if isinstance(retriever, Target) and retriever is not plan.target:
            await retriever.close()
        if cache is not None:
            cache.close()
    if recorder is not None:
        recorder.write()
    return {"provider": main, "cases": results}, stats
