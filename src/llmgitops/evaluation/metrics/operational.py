"""Operational metrics: latency (ms), tokens and cost of each request.

Lower is better for all three, so a threshold is a maximum per record. Latency's value over the run is
the mean, or the percentile in ``params.percentile`` (e.g. 95); p50, p95 and p99 are always reported.
Cached answers keep the latency measured when they were fetched, so a cached re-run reports the
model's latency, not the cache's. Cost uses the Model's ``spec.pricing`` and the token counts the
provider reports; without either, cost is unmeasured.
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from typing import Any

from ..stats import percentile
from . import Metric, MetricConfigError, Sample, Score, register_metric


class _Operational(Metric):
    higher_is_better = False
    bounded = False


@register_metric("latency")
class Latency(_Operational):
    def configure(self) -> None:
        q = self.param("percentile", (int, float))
        if q is not None and not 0 < q <= 100:
            raise MetricConfigError(
                f"metric {self.spec.name!r}: params.percentile lies in (0, 100]", ("params", "percentile")
            )
        self.q: float | None = float(q) if q is not None else None

    @property
    def percentile(self) -> float | None:
        return self.q

    async def score(self, sample: Sample) -> Score:
        if sample.output.latency_ms is None:
            return Score.unmeasured("the provider reported no latency")
        return Score(sample.output.latency_ms)

    def aggregate(self, values: Sequence[float]) -> float:
        return percentile(values, self.q) if self.q is not None else super().aggregate(values)

    @classmethod
    def summary(
        cls, definition: dict[str, Any], values: Sequence[float], details: Sequence[dict[str, Any]]
    ) -> dict[str, Any]:
        return {f"p{q}": round(percentile(values, q), 3) for q in (50, 95, 99)}


@register_metric("tokens")
class Tokens(_Operational):
    def configure(self) -> None:
        self.which = self.param("which", str, "total")
        if self.which not in ("input", "output", "total"):
            raise MetricConfigError(
                f"metric {self.spec.name!r}: params.which is input, output or total", ("params", "which")
            )

    async def score(self, sample: Sample) -> Score:
        out = sample.output
        needed = {
            "input": (out.input_tokens,),
            "output": (out.output_tokens,),
            "total": (out.input_tokens, out.output_tokens),
        }[self.which]
        if any(n is None for n in needed):
            return Score.unmeasured("the provider reported no token usage")
        return Score(float(sum(n for n in needed if n is not None)))


def request_cost(pricing: dict[str, Any], input_tokens: int, output_tokens: int) -> float:
    per_in = pricing.get("inputPer1kTokens", 0.0) or 0.0
    per_out = pricing.get("outputPer1kTokens", 0.0) or 0.0
    return float(input_tokens) / 1000.0 * float(per_in) + float(output_tokens) / 1000.0 * float(per_out)


@register_metric("cost")
class Cost(_Operational):
    """Cost of one request in the pricing currency; the run's value is the mean, reported per 1,000
    requests as well."""

    async def score(self, sample: Sample) -> Score:
        pricing = sample.services.pricing()
        if pricing is None:
            return Score.unmeasured("the Model declares no spec.pricing")
        out = sample.output
        if out.input_tokens is None or out.output_tokens is None:
            return Score.unmeasured("the provider reported no token usage")
        return Score(request_cost(pricing, out.input_tokens, out.output_tokens))

    @classmethod
    def summary(
        cls, definition: dict[str, Any], values: Sequence[float], details: Sequence[dict[str, Any]]
    ) -> dict[str, Any]:
        return {"per1kRequests": round(math.fsum(values) / len(values) * 1000, 6), "total": round(math.fsum(values), 6)}
