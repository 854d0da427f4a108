"""Semantic similarity to a reference: the cosine of the two texts' embeddings.

The embeddings come from an embedding provider: ``params.model`` names a Model manifest with the
``embedding`` capability (default: the environment's only such Model), ``params.provider`` the provider
that runs it (default: in-process transformers). Without one, the metric is unmeasured, not zero.
"""

from __future__ import annotations

import math
from collections.abc import Sequence

from ..providers import CallFailed
from . import MISSING, Metric, Sample, Score, as_text, register_metric


def cosine(a: Sequence[float], b: Sequence[float]) -> float:
    if len(a) != len(b):
        raise ValueError(f"vectors of different sizes ({len(a)} and {len(b)})")
    dot = math.fsum(x * y for x, y in zip(a, b, strict=True))
    na = math.sqrt(math.fsum(x * x for x in a))
    nb = math.sqrt(math.fsum(y * y for y in b))
    return dot / (na * nb) if na and nb else 0.0


@register_metric("embedding-similarity")
class EmbeddingSimilarity(Metric):
    def configure(self) -> None:
        self.model = self.param("model", str)
        self.provider = self.param("provider", str)
        self.param("outputField", str)

    async def score(self, sample: Sample) -> Score:
        found = self.reference(sample)
        if found is MISSING:
            return Score.unmeasured(f"the record has no {self.spec.field or 'expected'!r}")
        refs = [as_text(v) for v in (found if isinstance(found, list) else [found])]
        if not refs or any(r is None for r in refs):
            return Score.unmeasured("the reference must be a string or a list of strings")
        text, why = self.candidate(sample)
        if text is None or not text.strip():
            return Score(0.0, {"problem": why or "empty output"})
        try:
            vectors = await sample.services.embed(
                [text, *(r for r in refs if r is not None)], self.model, self.provider
            )
        except (LookupError, CallFailed) as exc:
            return Score.unmeasured(f"embedding failed: {exc}")
        return Score(max(cosine(vectors[0], v) for v in vectors[1:]))
