"""Groundedness: is every sentence of the answer supported by the context it was given?

The context is what the target retrieved (a RagConfig target, or a Prompt input with ``source:
retrieved``), else the record's ``field`` (default ``context``): a string, a list of strings, or a list of
objects with ``text``. A sentence is supported when at least ``params.minOverlap`` (default 0.6) of its
content words occur in the context, or, when embeddings are enabled (``params.embeddings: true``, or
``params.model``/``params.provider``), when its embedding is within ``params.minSimilarity`` (default
0.75 cosine) of a context sentence. The value is the fraction of supported sentences; the report lists
the unsupported ones. Sentences with fewer than two content words (a citation, "Thanks!") are skipped.
"""

from __future__ import annotations

import re
from typing import Any

from ..providers import CallFailed
from . import MISSING, Metric, MetricConfigError, Sample, Score, register_metric
from .embedding import cosine
from .overlap import tokenize

STOPWORDS = frozenset(
    (
        "a",
        "an",
        "the",
        "and",
        "or",
        "but",
        "if",
        "then",
        "else",
        "of",
        "to",
        "in",
        "on",
        "at",
        "by",
        "for",
        "with",
        "from",
        "as",
        "is",
        "are",
        "was",
        "were",
        "be",
        "been",
        "being",
        "it",
        "its",
        "this",
        "that",
        "these",
        "those",
        "there",
        "here",
        "i",
        "you",
        "he",
        "she",
        "we",
        "they",
        "me",
        "him",
        "her",
        "us",
        "them",
        "my",
        "your",
        "his",
        "our",
        "their",
        "not",
        "no",
        "do",
        "does",
        "did",
        "can",
        "could",
        "should",
        "would",
        "will",
        "shall",
        "may",
        "might",
        "must",
        "have",
        "has",
        "had",
        "so",
        "than",
        "too",
        "very",
        "just",
        "also",
        "into",
        "out",
        "up",
        "down",
        "over",
        "about",
        "which",
        "who",
        "whom",
        "what",
        "when",
        "where",
        "why",
        "how",
        "all",
        "any",
        "each",
        "both",
        "more",
        "most",
        "other",
        "some",
        "such",
        "only",
        "own",
        "same",
        "s",
        "t",
    )
)
_SENTENCE = re.compile(r"(?<=[.!?])\s+|\n+")


def sentences(text: str) -> list[str]:
    return [s.strip() for s in _SENTENCE.split(text) if s and s.strip()]


def content_words(text: str) -> list[str]:
    return [t for t in tokenize(text) if t not in STOPWORDS]


def context_texts(value: Any) -> list[str] | None:
    if isinstance(value, str):
        return [value]
    if isinstance(value, list):
        out = []
        for item in value:
            if isinstance(item, str):
                out.append(item)
            elif isinstance(item, dict) and isinstance(item.get("text"), str):
                out.append(item["text"])
            else:
                return None
        return out
    return None


@register_metric("groundedness")
class Groundedness(Metric):
    def configure(self) -> None:
        self.min_overlap = float(self.param("minOverlap", (int, float), 0.6))
        self.min_similarity = float(self.param("minSimilarity", (int, float), 0.75))
        if not 0 < self.min_overlap <= 1 or not -1 <= self.min_similarity <= 1:
            raise MetricConfigError(f"metric {self.spec.name!r}: minOverlap lies in (0, 1], minSimilarity in [-1, 1]")
        self.model = self.param("model", str)
        self.provider = self.param("provider", str)
        self.embeddings = bool(self.param("embeddings", bool, False) or self.model or self.provider)

    def context(self, sample: Sample) -> list[str] | str:
        if sample.output.context is not None:
            found: Any = sample.output.context
        else:
            found = self.reference(sample, "context")
            if found is MISSING:
                return f"no context: the target retrieved none and the record has no {self.spec.field or 'context'!r}"
        texts = context_texts(found)
        if texts is None:
            return "the context must be a string or a list of strings or of objects with `text`"
        return texts

    async def score(self, sample: Sample) -> Score:
        context = self.context(sample)
        if isinstance(context, str):
            return Score.unmeasured(context)
        checked = [s for s in sentences(sample.output.text or "") if len(content_words(s)) >= 2]
        if not checked:
            return Score.not_applicable("the answer has no sentence to check")
        vocabulary = set(content_words("\n".join(context)))
        supported = []
        for sentence in checked:
            words = content_words(sentence)
            overlap = sum(1 for w in words if w in vocabulary) / len(words)
            supported.append(overlap >= self.min_overlap)
        method = "lexical"
        if self.embeddings and not all(supported):
            pending = [i for i, ok in enumerate(supported) if not ok]
            chunks = [s for text in context for s in sentences(text)] or context
            try:
                vectors = await sample.services.embed([checked[i] for i in pending] + chunks, self.model, self.provider)
            except (LookupError, CallFailed) as exc:
                return Score.unmeasured(f"embedding support could not be computed: {exc}")
            context_vectors = vectors[len(pending) :]
            for j, i in enumerate(pending):
                if max(cosine(vectors[j], c) for c in context_vectors) >= self.min_similarity:
                    supported[i] = True
            method = "lexical+embedding"
        unsupported = [s[:300] for s, ok in zip(checked, supported, strict=True) if not ok]
        value = sum(supported) / len(supported)
        detail: dict[str, Any] = {"sentences": len(checked), "method": method}
        if unsupported:
            detail["unsupported"] = unsupported
        return Score(value, detail)
