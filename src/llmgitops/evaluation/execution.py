"""Running the records: each through the target on the provider (with repeats and counterfactual
variants), scored by every metric, under the concurrency limit and the run's budget."""

from __future__ import annotations

import asyncio
import math
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

from .cases import Case, Output
from .metrics import Metric, Sample, Score, Services
from .metrics.operational import request_cost
from .progress import Progress
from .providers import ModelInfo, Provider, ProviderConfig, ProviderError, build_provider
from .suite import Plan
from .targets import TargetContext

DEFAULT_CONCURRENCY = 8

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
        return Output.answered(result)

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
        self.varying = [m for m in plan.metrics if type(m).variants is not Metric.variants]

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
        for metric in self.varying:
            variants.update(metric.variants(case))
        by_sample: list[dict[str, Output]] = [{} for _ in range(repeat)]
        if repeat == 1 and not variants:
            main = [await self._job(case.record, 0)]
        else:
            jobs: list[tuple[str | None, dict[str, Any], int]] = [(None, case.record, s) for s in range(repeat)]
            jobs += [(label, record, s) for label, record in variants.items() for s in range(repeat)]
            outputs = list(await asyncio.gather(*(self._job(record, s) for _, record, s in jobs)))
            main = outputs[:repeat]
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
