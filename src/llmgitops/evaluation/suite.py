"""Which EvalSuite runs and how: find it (by name, in promotion order, or by path), resolve its dataset,
targets, metrics and provider, and work out the gates that apply. Everything a suite declares that cannot
work is a finding at its line; nothing runs until there are none.
"""

from __future__ import annotations

import dataclasses
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from ..errors import LLMGitOpsError, UsageError
from ..findings import Finding, Severity, sort_findings
from ..manifests.kinds import ENVIRONMENTS_DIR
from ..manifests.ranges import RangeError, satisfies
from ..manifests.repository import EnvironmentState, Manifest, Repository
from ..rules import Rule, register
from .gates import BOOTSTRAP_SEED
from .metrics import Metric, MetricConfigError, MetricSpec, metric_class
from .providers import ProviderConfig, ProviderError, as_dict
from .targets import Target, TargetContext, TargetError, target_factory

register(
    (
        Rule("eval/suite", Severity.ERROR, "The EvalSuite cannot be found or resolved."),
        Rule("eval/target", Severity.ERROR, "An EvalSuite target cannot be resolved or run."),
        Rule("eval/metric", Severity.ERROR, "A metric declaration cannot work (unknown type, bad params)."),
        Rule("eval/provider", Severity.ERROR, "No usable provider for the suite."),
    )
)


class EvalConfigError(LLMGitOpsError):
    """The suite cannot run as declared; ``findings`` say where."""

    def __init__(self, findings: Sequence[Finding]) -> None:
        self.findings = sort_findings(findings)
        super().__init__("; ".join(f"{f.path}:{f.line}: {f.message}" for f in self.findings[:5]))


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


def number(value: Any) -> float | None:
    """A YAML number as a float; None for anything else (booleans included)."""
    return float(value) if isinstance(value, int | float) and not isinstance(value, bool) else None


def gate_settings(suite_gates: Any, env_gates: Any, has_thresholds: bool) -> dict[str, Any]:
    """The gates that apply: the suite's and the environment's, the stricter value winning."""
    suite_gates = suite_gates if isinstance(suite_gates, dict) else {}
    env_gates = env_gates if isinstance(env_gates, dict) else {}
    settings: dict[str, Any] = {"seed": BOOTSTRAP_SEED}
    sources: dict[str, str] = {}
    for key, pick in (("minPassRate", max), ("maxRegression", min)):
        values = {src: number(g.get(key)) for src, g in (("suite", suite_gates), ("environment", env_gates))}
        present = {src: v for src, v in values.items() if v is not None}
        if present:
            best = pick(present.values())
            settings[key] = best
            sources[key] = next(src for src, v in present.items() if v == best)
    if "minPassRate" not in settings and has_thresholds:
        settings["minPassRate"], sources["minPassRate"] = 1.0, "default"
    for key in ("maxLatencyP95Ms", "maxCostPer1kRequests"):
        if number(env_gates.get(key)) is not None:
            settings[key], sources[key] = number(env_gates.get(key)), "environment"
    if number(suite_gates.get("requireHumanPassRate")) is not None:
        settings["requireHumanPassRate"] = number(suite_gates.get("requireHumanPassRate"))
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
            number(item.get("threshold")),
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
    if config is not None and number(runner.get("timeoutSeconds")):
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
