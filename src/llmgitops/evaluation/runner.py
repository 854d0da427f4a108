"""One evaluation run: resolve the suite, load its dataset, run the records through the target on the
provider, score them, apply the gates, write the reports.

``run_suite`` is the API the pipeline's evaluate step and ``llmgitops eval`` call.
"""

from __future__ import annotations

import asyncio
import dataclasses
import datetime
import math
import time
from collections.abc import Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from .. import __version__
from ..errors import LLMGitOpsError, UsageError
from ..findings import Finding, Severity, sort_findings
from ..manifests.kinds import ENVIRONMENTS_DIR
from ..manifests.ranges import RangeError, satisfies
from ..manifests.repository import EnvironmentState, Manifest, Repository
from ..manifests.source import WorkingTree
from ..rules import Rule, register
from .baseline import Baseline, load_baseline
from .cases import Case, Output
from .datasets import DatasetData, load_dataset
from .gates import BOOTSTRAP_SEED, summarize
from .metrics import Metric, MetricConfigError, MetricSpec, Sample, Score, Services, metric_class
from .metrics.operational import request_cost
from .progress import Progress
from .providers import ModelInfo, Provider, ProviderConfig, ProviderError, as_dict, build_provider
from .report.json import SCHEMA_ID
from .targets import Target, TargetContext, TargetError, target_factory

register(
    (
        Rule("eval/suite", Severity.ERROR, "The EvalSuite cannot be found or resolved."),
        Rule("eval/target", Severity.ERROR, "An EvalSuite target cannot be resolved or run."),
        Rule("eval/metric", Severity.ERROR, "A metric declaration cannot work (unknown type, bad params)."),
        Rule("eval/provider", Severity.ERROR, "No usable provider for the suite."),
    )
)

DEFAULT_CONCURRENCY = 8


class EvalConfigError(LLMGitOpsError):
    """The suite cannot run as declared; ``findings`` say where."""

    def __init__(self, findings: Sequence[Finding]) -> None:
        self.findings = sort_findings(findings)
        super().__init__("; ".join(f"{f.path}:{f.line}: {f.message}" for f in self.findings[:5]))


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


@dataclass
class Plan:
    root: Path
    env: EnvironmentState
    suite: Manifest
    spec: dict[str, Any]
    dataset: Manifest
    target: Target
    targets: list[dict[str, Any]]
    metrics: list[Metric]
    provider_config: ProviderConfig | None
    providers: dict[str, ProviderConfig]
    settings: dict[str, Any]
    repeat: int
    concurrency: int
    use_cache: bool


# -- finding the suite ------------------------------------------------------------------------------


def environment_order(repo: Repository) -> list[str]:
    """Environments in promotion order (the one nothing promotes into first), then the rest by name."""
    names = repo.environment_names()
    source: dict[str, str | None] = {}
    for name in names:
        env = repo.environment(name).environment
        promotion = env.spec.get("promotion") if env is not None else None
        origin = promotion.get("from") if isinstance(promotion, dict) else None
        source[name] = origin if isinstance(origin, str) else None
    ordered: list[str] = [n for n in names if source[n] is None or source[n] not in names]
    while True:
        nxt = [n for n in names if n not in ordered and source[n] in ordered]
        if not nxt:
            break
        ordered += nxt
    return ordered + [n for n in names if n not in ordered]


def locate_suite(repo: Repository, root: Path, suite: str, env: str | None) -> tuple[EnvironmentState, Manifest]:
    """SUITE is an EvalSuite name (looked up in ``env``, else the first environment that has it) or a path
    to its manifest."""
    candidate = Path(suite)
    if suite.endswith((".yaml", ".yml")) or "/" in suite:
        path = (candidate if candidate.is_absolute() else Path.cwd() / candidate).resolve()
        try:
            relpath = path.relative_to(root).as_posix()
        except ValueError:
            raise UsageError(f"{suite} is outside the repository {root}") from None
        parts = relpath.split("/")
        if len(parts) != 4 or parts[0] != ENVIRONMENTS_DIR or parts[2] != "evals":
            raise UsageError(f"{suite}: an EvalSuite manifest lives at environments/<env>/evals/<name>.yaml")
        state = repo.environment(parts[1])
        found = next((m for m in state.manifests if m.relpath == relpath), None)
        if found is None or found.kind != "EvalSuite":
            problems = [f for f in state.findings if f.path == relpath]
            if problems:
                raise EvalConfigError(problems)
            raise UsageError(f"{suite} is not an EvalSuite manifest")
        if env is not None and env != parts[1]:
            raise UsageError(f"{suite} belongs to environment {parts[1]}, not {env}")
        return state, found
    names = [env] if env else environment_order(repo)
    if env and env not in repo.environment_names():
        raise UsageError(f"no environment {env!r} (environments: {', '.join(repo.environment_names()) or 'none'})")
    for name in names:
        state = repo.environment(name)
        found = state.find("EvalSuite", suite)
        if found is not None:
            return state, found
    where = f"environment {env}" if env else "any environment"
    raise UsageError(f"no EvalSuite {suite!r} in {where}")


# -- planning -------------------------------------------------------------------------------------


def _resolve(
    env: EnvironmentState, suite: Manifest, kind: str, ref: Any, path: tuple[str | int, ...], findings: list[Finding]
) -> Manifest | None:
    name = ref.get("name") if isinstance(ref, dict) else None
    wanted = ref.get("version") if isinstance(ref, dict) else None
    found = env.find(kind, name) if isinstance(name, str) else None
    if found is None:
        findings.append(suite.finding(path, "eval/suite", f"{kind} {name!r} is not in environment {env.name}"))
        return None
    try:
        ok = isinstance(wanted, str) and found.version is not None and satisfies(found.version, wanted)
    except RangeError:
        ok = False
    if not ok:
        findings.append(suite.finding(path, "eval/suite", f"{kind} {name} {found.version} does not satisfy {wanted!r}"))
        return None
    return found


def _num(value: Any) -> float | None:
    return float(value) if isinstance(value, int | float) and not isinstance(value, bool) else None


def gate_settings(suite_gates: Any, env_gates: Any, has_thresholds: bool) -> dict[str, Any]:
    """The gates that apply: the suite's and the environment's, the stricter value winning."""
    suite_gates = suite_gates if isinstance(suite_gates, dict) else {}
    env_gates = env_gates if isinstance(env_gates, dict) else {}
    settings: dict[str, Any] = {"seed": BOOTSTRAP_SEED}
    sources: dict[str, str] = {}
    for key, pick in (("minPassRate", max), ("maxRegression", min)):
        values = {src: _num(g.get(key)) for src, g in (("suite", suite_gates), ("environment", env_gates))}
        present = {src: v for src, v in values.items() if v is not None}
        if present:
            best = pick(present.values())
            settings[key] = best
            sources[key] = next(src for src, v in present.items() if v == best)
    if "minPassRate" not in settings and has_thresholds:
        settings["minPassRate"], sources["minPassRate"] = 1.0, "default"
    for key in ("maxLatencyP95Ms", "maxCostPer1kRequests"):
        if _num(env_gates.get(key)) is not None:
            settings[key], sources[key] = _num(env_gates.get(key)), "environment"
    if _num(suite_gates.get("requireHumanPassRate")) is not None:
        settings["requireHumanPassRate"] = _num(suite_gates.get("requireHumanPassRate"))
    policy = suite_gates.get("unmeasured")
    settings["unmeasured"] = policy if policy in ("fail", "warn", "ignore") else "fail"
    settings["sources"] = sources
    return settings


def declared_providers(env: EnvironmentState) -> dict[str, ProviderConfig]:
    environment = env.environment
    raw = environment.spec.get("providers") if environment is not None else None
    out: dict[str, ProviderConfig] = {}
    for name, spec in (raw or {}).items() if isinstance(raw, dict) else ():
        if isinstance(spec, dict):
            out[str(name)] = ProviderConfig.from_spec(str(name), spec)
    return out


def choose_provider(providers: dict[str, ProviderConfig], option: str | None, suite_choice: Any) -> ProviderConfig:
    if option:
        return ProviderConfig.from_option(option, providers)
    if isinstance(suite_choice, str):
        if suite_choice not in providers:
            raise ProviderError(f"the suite names provider {suite_choice!r}, which the environment does not declare")
        return providers[suite_choice]
    defaults = [p for p in providers.values() if p.default]
    if len(defaults) == 1:
        return defaults[0]
    if not providers:
        return ProviderConfig(name="embedded", type="transformers")
    if len(providers) == 1:
        return next(iter(providers.values()))
    raise ProviderError(
        "the environment declares several providers and none is `default: true`",
        hint="mark one default, or pass --provider NAME",
    )


def _build_metrics(suite: Manifest, spec: dict[str, Any], target: Target, findings: list[Finding]) -> list[Metric]:
    metrics: list[Metric] = []
    seen: set[str] = set()
    declared = spec.get("metrics")
    for i, item in enumerate(declared if isinstance(declared, list) else []):
        where = ("spec", "metrics", i)
        if not isinstance(item, dict) or not isinstance(item.get("name"), str) or not isinstance(item.get("type"), str):
            findings.append(suite.finding(where, "eval/metric", "a metric needs a name and a type"))
            continue
        name, mtype = item["name"], item["type"]
        if name in seen:
            findings.append(suite.finding(where + ("name",), "eval/metric", f"metric name {name!r} is used twice"))
            continue
        seen.add(name)
        cls = metric_class(mtype)
        if cls is None:
            from .plugins import problems

            hint = (
                "retrieval metrics come from the llmgitops.rag plug-in"
                if mtype in ("recall-at-k", "precision-at-k", "mrr", "ndcg-at-k", "hit-rate")
                else None
            )
            if problems:
                hint = (hint + "; " if hint else "") + "plug-in problems: " + "; ".join(problems)
            findings.append(
                suite.finding(
                    where + ("type",), "eval/metric", f"metric {name!r}: type {mtype!r} is not available", hint
                )
            )
            continue
        params = as_dict(item.get("params"))
        metric_spec = MetricSpec(
            name,
            mtype,
            i,
            _num(item.get("threshold")),
            params,
            item.get("field") if isinstance(item.get("field"), str) else None,
        )
        try:
            metrics.append(cls(metric_spec, target))
        except MetricConfigError as exc:
            findings.append(suite.finding(where + exc.path, "eval/metric", exc.message))
    by_name = {m.spec.name: m for m in metrics}
    for metric in metrics:
        try:
            metric.bind(by_name)
        except MetricConfigError as exc:
            findings.append(
                suite.finding(("spec", "metrics", metric.spec.index) + exc.path, "eval/metric", exc.message)
            )
    if not metrics and not findings:
        findings.append(suite.finding(("spec", "metrics"), "eval/metric", "the suite declares no metric"))
    return metrics


def _build_target(
    ctx: TargetContext, suite: Manifest, spec: dict[str, Any], findings: list[Finding]
) -> tuple[Target | None, list[dict[str, Any]]]:
    resolved: dict[str, list[Manifest]] = {"Prompt": [], "RagConfig": [], "Model": []}
    described = []
    declared = spec.get("targets")
    for i, item in enumerate(declared if isinstance(declared, list) else []):
        kind = item.get("kind") if isinstance(item, dict) else None
        if kind not in resolved:
            findings.append(
                suite.finding(
                    ("spec", "targets", i), "eval/target", f"target kind {kind!r} is not Prompt, RagConfig or Model"
                )
            )
            continue
        found = _resolve(ctx.env, suite, kind, item, ("spec", "targets", i), findings)
        if found is not None:
            resolved[kind].append(found)
            described.append({"kind": kind, "name": found.name, "version": found.version})
    if findings:
        return None, described
    if len(resolved["Prompt"]) > 1 or len(resolved["RagConfig"]) > 1:
        findings.append(
            suite.finding(
                ("spec", "targets"),
                "eval/target",
                "a suite runs one Prompt (optionally fed by "
                "one RagConfig); put each further Prompt in a suite of its own",
            )
        )
        return None, described
    chosen = (
        next(resolved[k][0] for k in ("Prompt", "RagConfig", "Model") if resolved[k])
        if any(resolved.values())
        else None
    )
    if chosen is None:
        findings.append(suite.finding(("spec", "targets"), "eval/target", "the suite has no target"))
        return None, described
    try:
        target = _make_target(chosen, ctx)
        if chosen.kind == "Prompt" and resolved["RagConfig"]:
            retriever = _make_target(resolved["RagConfig"][0], ctx)
            if not hasattr(retriever, "retrieve"):
                raise TargetError(
                    [
                        suite.finding(
                            ("spec", "targets"),
                            "eval/target",
                            f"RagConfig target {retriever.name} cannot feed a Prompt (it has no retrieve())",
                        )
                    ]
                )
            target.retriever = retriever
    except TargetError as exc:
        findings.extend(exc.findings)
        return None, described
    return target, described


def _make_target(manifest: Manifest, ctx: TargetContext) -> Target:
    factory = target_factory(manifest.kind or "")
    if factory is None:
        from .plugins import problems

        raise TargetError(
            [
                ctx.suite.finding(
                    ("spec", "targets"),
                    "eval/target",
                    f"{manifest.kind} targets need a plug-in that is not available"
                    + (f" ({'; '.join(problems)})" if problems else ""),
                )
            ]
        )
    return factory(manifest, ctx)


def plan_suite(
    root: Path,
    env: EnvironmentState,
    suite: Manifest,
    provider_option: str | None = None,
    use_cache: bool | None = None,
) -> Plan:
    findings: list[Finding] = [f for f in env.findings if f.path == suite.relpath and f.severity is Severity.ERROR]
    if findings:
        raise EvalConfigError(findings)
    ctx = TargetContext(root, env, suite)
    spec = ctx.spec_of(suite)
    dataset = _resolve(env, suite, "Dataset", spec.get("dataset"), ("spec", "dataset"), findings)
    target, described = _build_target(ctx, suite, spec, findings)
    metrics = _build_metrics(suite, spec, target, findings) if target is not None else []
    if findings or target is None or dataset is None:
        raise EvalConfigError(findings)
    providers = declared_providers(env)
    config: ProviderConfig | None = None
    if target.model is not None:
        config = choose_provider(providers, provider_option, spec.get("provider"))
    runner = as_dict(spec.get("runner"))
    if config is not None and _num(runner.get("timeoutSeconds")):
        config = dataclasses.replace(config, timeout_seconds=float(runner["timeoutSeconds"]))
    wanted = runner.get("concurrency") if isinstance(runner.get("concurrency"), int) else None
    capacity = config.concurrency if config is not None else None
    concurrency = min(c for c in (wanted, capacity) if c) if (wanted or capacity) else None
    environment = env.environment
    settings = gate_settings(
        spec.get("gates"),
        environment.spec.get("gates") if environment else None,
        any(m.spec.threshold is not None for m in metrics),
    )
    repeat: int = spec["repeat"] if isinstance(spec.get("repeat"), int) and spec["repeat"] >= 1 else 1
    settings = {"repeat": repeat, **settings}
    cache = use_cache if use_cache is not None else runner.get("cache", True) is not False
    return Plan(
        root,
        env,
        suite,
        spec,
        dataset,
        target,
        described,
        metrics,
        config,
        providers,
        settings,
        repeat,
        concurrency or 0,
        cache,
    )


# -- services metrics may use ---------------------------------------------------------------------


class RunServices(Services):
    def __init__(self, plan: Plan, main: Provider | None, wrap: Any) -> None:
        self.plan = plan
        self.main = main
        self.wrap = wrap  # Provider -> Provider: adds the cache and the recorder
        self._providers: dict[tuple[str, str], Provider] = {}

    def _provider(self, config: ProviderConfig, model: ModelInfo) -> Provider:
        key = (config.name, model.ref)
        if self.main is not None and self.main.config == config and self.main.model == model:
            return self.main
        if key not in self._providers:
            self._providers[key] = self.wrap(build_provider(config, model, self.plan.root, self.plan.suite.name or ""))
        return self._providers[key]

    def _model(self, name: str | None, capability: str | None) -> ModelInfo:
        env = self.plan.env
        if name is not None:
            found = env.find("Model", name)
            if found is None:
                raise LookupError(f"Model {name!r} is not in environment {env.name}")
        else:
            candidates = [
                m
                for m in env.of_kind("Model")
                if capability in (((m.spec.get("interface") or {}).get("capabilities")) or [])
            ]
            if len(candidates) != 1:
                raise LookupError(
                    f"name the {capability} Model in params.model (the environment has "
                    f"{len(candidates)} with that capability)"
                )
            found = candidates[0]
        return TargetContext(self.plan.root, env, self.plan.suite).model_info(found)

    def _config(self, name: str | None) -> ProviderConfig:
        if name is not None:
            if name not in self.plan.providers:
                raise LookupError(f"provider {name!r} is not declared in the environment")
            return self.plan.providers[name]
        main = self.plan.provider_config
        if main is not None and main.type == "replay":
            return main
        return ProviderConfig(name="embedded", type="transformers")

    def has_embeddings(self, model: str | None = None, provider: str | None = None) -> bool:
        try:
            self._model(model, "embedding")
            self._config(provider)
        except LookupError:
            return False
        return True

    async def embed(
        self, texts: Sequence[str], model: str | None = None, provider: str | None = None
    ) -> list[list[float]]:
        try:
            chosen = self._provider(self._config(provider), self._model(model, "embedding"))
        except ProviderError as exc:
            raise LookupError(exc.message) from None
        return await chosen.embed(texts)

    async def complete(
        self, messages: Sequence[dict[str, str]], params: dict[str, Any], model: str, provider: str | None = None
    ) -> Output:
        from .providers import GenerationRequest

        config = self.plan.providers.get(provider) if provider else self.plan.provider_config
        if config is None:
            raise LookupError(f"provider {provider!r} is not declared in the environment")
        try:
            chosen = self._provider(config, self._model(model, None))
        except ProviderError as exc:
            raise LookupError(exc.message) from None
        result = await chosen.generate(GenerationRequest.chat(messages, params))
        return Output(result.text, result.error, result.latency_ms, result.input_tokens, result.output_tokens)

    def pricing(self) -> dict[str, Any] | None:
        model = self.plan.target.model
        return model.pricing if model is not None else None

    async def aclose(self) -> None:
        for provider in self._providers.values():
            await provider.aclose()


# -- running --------------------------------------------------------------------------------------


def _mean(values: Sequence[float | int | None]) -> float | None:
    if not values or any(v is None for v in values):
        return None
    return math.fsum(float(v) for v in values if v is not None) / len(values)


def _combine(metric: Metric, scores: list[Score]) -> dict[str, Any]:
    """One record's entry for one metric from its samples."""
    if len(scores) == 1 and scores[0].value is not None:  # the common case, kept cheap
        value = round(scores[0].value, 6)
        entry: dict[str, Any] = {"value": value, "passed": metric.passes(value)}
        if scores[0].detail:
            entry["detail"] = scores[0].detail
        return entry
    if any(not s.applicable for s in scores):
        return {"value": None, "applicable": False, "reason": next(s.reason for s in scores if not s.applicable)}
    missing = next((s for s in scores if s.value is None), None)
    if missing is not None:
        entry = {"value": None, "passed": None, "reason": missing.reason or "unmeasured"}
        if missing.detail:
            entry["detail"] = missing.detail
        return entry
    value = round(math.fsum(s.value for s in scores if s.value is not None) / len(scores), 6)
    entry = {"value": value, "passed": metric.passes(value)}
    detail = dict(scores[0].detail)
    if len(scores) > 1:
        detail["samples"] = [round(s.value, 6) for s in scores if s.value is not None]
    if detail:
        entry["detail"] = detail
    return entry


def _context_excerpt(context: list[dict[str, Any]] | None) -> list[dict[str, Any]] | None:
    if context is None:
        return None
    out = []
    for item in context:
        shown: dict[str, Any] = {k: item[k] for k in ("id", "title", "score") if k in item}
        if isinstance(item.get("text"), str):
            shown["text"] = item["text"][:1000]
        out.append(shown)
    return out


@dataclass
class Budget:
    """What one run may spend on fresh requests (cached and replayed answers cost nothing). Requests
    already in flight when the limit is reached still complete, so a run may pass it by that much; the
    records after it are unmeasured, with the reason."""

    cost: float | None = None
    tokens: int | None = None
    spent_cost: float = 0.0
    spent_tokens: int = 0

    def exhausted(self) -> str | None:
        if self.cost is not None and self.spent_cost >= self.cost:
            return f"the run's budget of {self.cost:g} is spent ({self.spent_cost:.4g})"
        if self.tokens is not None and self.spent_tokens >= self.tokens:
            return f"the run's budget of {self.tokens} tokens is spent ({self.spent_tokens})"
        return None

    def charge(self, output: Output, pricing: dict[str, Any] | None) -> None:
        if output.cached or output.error is not None:
            return
        used_in, used_out = output.input_tokens or 0, output.output_tokens or 0
        self.spent_tokens += used_in + used_out
        if pricing is not None:
            self.spent_cost += request_cost(pricing, used_in, used_out)


class Execution:
    def __init__(
        self,
        plan: Plan,
        provider: Provider | None,
        services: RunServices,
        progress: Progress,
        budget: Budget | None = None,
    ) -> None:
        self.plan = plan
        self.provider = provider
        self.services = services
        self.progress = progress
        self.pricing = services.pricing()
        self.budget = budget or Budget()
        self.semaphore: asyncio.Semaphore | None = None

    async def _job(self, record: dict[str, Any], sample: int) -> Output:
        assert self.semaphore is not None
        async with self.semaphore:
            spent = self.budget.exhausted()
            if spent is not None:
                return Output(None, error=spent)
            try:
                output = await self.plan.target.execute(record, sample, self.provider)
            except Exception as exc:  # one record's failure must not end the run: it becomes unmeasured
                return Output(None, error=f"{type(exc).__name__}: {exc}")
            self.budget.charge(output, self.pricing)
            return output

    async def case(self, case: Case) -> dict[str, Any]:
        repeat = self.plan.repeat
        variants: dict[str, dict[str, Any]] = {}
        for metric in self.plan.metrics:
            variants.update(metric.variants(case))
        jobs: list[tuple[str | None, dict[str, Any], int]] = [(None, case.record, s) for s in range(repeat)]
        jobs += [(label, record, s) for label, record in variants.items() for s in range(repeat)]
        if len(jobs) == 1:
            outputs = [await self._job(case.record, 0)]
        else:
            outputs = list(await asyncio.gather(*(self._job(record, s) for _, record, s in jobs)))
        main = outputs[:repeat]
        by_sample: list[dict[str, Output]] = [{} for _ in range(repeat)]
        for (label, _, s), output in zip(jobs[repeat:], outputs[repeat:], strict=True):
            by_sample[s][label or ""] = output
        doc = self.case_document(case, main)
        metrics: dict[str, Any] = {}
        for metric in self.plan.metrics:
            scores = []
            for s, output in enumerate(main):
                if output.error is not None and metric.reads_output:
                    scores.append(Score.unmeasured(f"no output: {output.error}"))
                    continue
                try:
                    scores.append(
                        await metric.score(Sample(case, output, self.plan.target, self.services, by_sample[s]))
                    )
                except Exception as exc:  # a metric bug leaves this record unmeasured, visibly
                    scores.append(Score.unmeasured(f"{metric.spec.name} failed: {type(exc).__name__}: {exc}"))
            metrics[metric.spec.name] = _combine(metric, scores)
        doc["metrics"] = metrics
        self.progress.advance(error=doc.get("error") is not None)
        return doc

    def case_document(self, case: Case, samples: list[Output]) -> dict[str, Any]:
        first = samples[0]
        error = next((o.error for o in samples if o.error is not None), None)
        doc: dict[str, Any] = {
            "index": case.index,
            "id": case.id,
            "input": case.record,
            "output": first.text,
            "error": error,
        }
        tokens_in: float | None
        tokens_out: float | None
        if len(samples) == 1:
            doc["latencyMs"] = _r3(first.latency_ms)
            tokens_in, tokens_out = first.input_tokens, first.output_tokens
            doc["inputTokens"], doc["outputTokens"] = tokens_in, tokens_out
        else:
            doc["samples"] = [{"output": o.text, "error": o.error, "latencyMs": _r3(o.latency_ms)} for o in samples]
            doc["latencyMs"] = _r3(_mean([o.latency_ms for o in samples]))
            tokens_in = _mean([o.input_tokens for o in samples])
            tokens_out = _mean([o.output_tokens for o in samples])
            doc["inputTokens"], doc["outputTokens"] = tokens_in, tokens_out
        if self.pricing is not None and tokens_in is not None and tokens_out is not None and error is None:
            doc["cost"] = round(request_cost(self.pricing, round(tokens_in), round(tokens_out)), 9)
        context = _context_excerpt(first.context)
        if context is not None:
            doc["context"] = context
        if first.extra:
            doc["extra"] = first.extra
        return doc

    async def run(self, cases: Sequence[Case]) -> list[dict[str, Any]]:
        concurrency = self.plan.concurrency or (self.provider.concurrency if self.provider else DEFAULT_CONCURRENCY)
        concurrency = max(1, concurrency)
        self.semaphore = asyncio.Semaphore(concurrency)
        results: list[dict[str, Any] | None] = [None] * len(cases)
        queue = iter(enumerate(cases))

        async def worker() -> None:
            for pos, case in queue:
                results[pos] = await self.case(case)

        await asyncio.gather(*(worker() for _ in range(min(concurrency, len(cases)) or 1)))
        return [r for r in results if r is not None]


def _r3(value: float | None) -> float | None:
    return None if value is None else round(value, 3)


# -- the document ---------------------------------------------------------------------------------


def _metric_definitions(metrics: list[Metric]) -> list[dict[str, Any]]:
    out = []
    for metric in metrics:
        definition = metric.describe()
        definition["bounded"] = metric.bounded
        if metric.percentile is not None:
            definition["percentile"] = metric.percentile
        allowance = _num(metric.params.get("maxRegression"))
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
    document, cache_stats = asyncio.run(_execute(plan, cases, opts))
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


async def _execute(plan: Plan, cases: Sequence[Case], opts: RunOptions) -> tuple[dict[str, Any], dict[str, int] | None]:
    from .providers.cache import CachedProvider, ResponseCache
    from .providers.replay import Recorder, RecordingProvider

    cache = ResponseCache(plan.root / ".llmgitops" / "cache" / "responses.sqlite") if plan.use_cache else None
    recorder = Recorder(opts.record) if opts.record else None

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
    try:
        with Progress(label, len(cases), enabled=opts.progress) as progress:
            budget = Budget(opts.budget, opts.token_budget)
            results = await Execution(plan, main, services, progress, budget).run(cases)
    finally:
        if main is not None:
            await main.aclose()
        await services.aclose()
        await plan.target.close()
        retriever = plan.target.retriever
        if retriever is not None and retriever is not plan.target and isinstance(retriever, Target):
            await retriever.close()
        if cache is not None:
            cache.close()
    if recorder is not None:
        recorder.write()
    stats = {"hits": cache.hits, "misses": cache.misses} if cache is not None else None
    return {"provider": main, "cases": results}, stats
