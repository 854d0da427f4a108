"""Text checks: exact match, contains any/all, regular expressions. Each record scores 1 or 0 (contains-all:
the fraction of required strings present), so a threshold of 1.0 asks for a full match.

Common params: ``caseSensitive`` (default true), ``outputField`` (score one field of a JSON output),
``negate`` (contains-any, regex: the record passes when nothing matches).
"""

from __future__ import annotations

import re
from typing import Any

from . import MISSING, Metric, MetricConfigError, Sample, Score, as_text, register_metric

MAX_SCANNED_CHARS = 200_000  # bounds the cost of a pathological pattern on a runaway output


def _fold(text: str, case_sensitive: bool) -> str:
    return text if case_sensitive else text.casefold()


class _TextMetric(Metric):
    def configure(self) -> None:
        self.case_sensitive = self.param("caseSensitive", bool, True)
        self.negate = self.param("negate", bool, False)
        self.param("outputField", str)


@register_metric("exact-match")
class ExactMatch(_TextMetric):
    """1 when the output (trimmed; with ``normalizeWhitespace`` runs of whitespace count as one space)
    equals the reference, or one of them when the reference is a list."""

    def configure(self) -> None:
        super().configure()
        self.normalize = self.param("normalizeWhitespace", bool, False)

    def _norm(self, text: str) -> str:
        text = text.strip()
        if self.normalize:
            text = " ".join(text.split())
        return _fold(text, self.case_sensitive)

    async def score(self, sample: Sample) -> Score:
        reference = self.reference(sample)
        if reference is MISSING:
            return Score.unmeasured(f"the record has no {self.spec.field or 'expected'!r}")
        options = reference if isinstance(reference, list) else [reference]
        texts = [t for t in (as_text(o) for o in options) if t is not None]
        if not texts:
            return Score.unmeasured("the reference is not text")
        candidate, why = self.candidate(sample)
        if candidate is None:
            return Score.boolean(False, expected=texts[0], problem=why)
        ok = self._norm(candidate) in {self._norm(t) for t in texts}
        return Score.boolean(ok) if ok else Score.boolean(False, expected=texts[0] if len(texts) == 1 else texts)


class _Contains(_TextMetric):
    def configure(self) -> None:
        super().configure()
        values = self.params.get("values")
        if values is not None and not (isinstance(values, list) and values and all(isinstance(v, str) for v in values)):
            raise MetricConfigError(
                f"metric {self.spec.name!r}: params.values must be a non-empty list of strings", ("params", "values")
            )
        self.values: list[str] | None = values
        if values is None and not self.spec.field:
            raise MetricConfigError(
                f"metric {self.spec.name!r} needs params.values or a field naming the dataset column with the strings",
                ("params",),
            )

    def needles(self, sample: Sample) -> list[str] | str:
        """The strings to look for, or why there are none."""
        if self.values is not None:
            return self.values
        found = self.reference(sample, None)
        if found is MISSING:
            return f"the record has no {self.spec.field!r}"
        items = found if isinstance(found, list) else [found]
        texts = [as_text(i) for i in items]
        if not texts or any(t is None for t in texts):
            return f"{self.spec.field!r} must hold a string or a list of strings"
        return [t for t in texts if t is not None]


@register_metric("contains-any")
class ContainsAny(_Contains):
    async def score(self, sample: Sample) -> Score:
        needles = self.needles(sample)
        if isinstance(needles, str):
            return Score.unmeasured(needles)
        candidate, why = self.candidate(sample)
        if candidate is None:
            return Score.boolean(self.negate, problem=why)
        hay = _fold(candidate, self.case_sensitive)
        found = [n for n in needles if _fold(n, self.case_sensitive) in hay]
        ok = not found if self.negate else bool(found)
        detail: dict[str, Any] = {"found": found} if found else {"expected_any": needles}
        return Score.boolean(ok, **detail)


@register_metric("contains-all")
class ContainsAll(_Contains):
    """The fraction of the strings that occur in the output."""

    bounded = True

    async def score(self, sample: Sample) -> Score:
        needles = self.needles(sample)
        if isinstance(needles, str):
            return Score.unmeasured(needles)
        candidate, why = self.candidate(sample)
        if candidate is None:
            return Score(0.0, {"missing": needles, "problem": why})
        hay = _fold(candidate, self.case_sensitive)
        missing = [n for n in needles if _fold(n, self.case_sensitive) not in hay]
        fraction = 1.0 - len(missing) / len(needles)
        if self.negate:
            fraction = len(missing) / len(needles)
        return Score(fraction, {"missing": missing} if missing and not self.negate else {})


@register_metric("regex")
class Regex(_TextMetric):
    """1 when ``params.pattern`` (or the pattern in ``field``) matches somewhere in the output (Python
    ``re`` syntax; ``ignoreCase``, ``multiline``, ``dotall`` flags)."""

    def configure(self) -> None:
        super().configure()
        flags = 0
        if self.param("ignoreCase", bool, False) or not self.case_sensitive:
            flags |= re.IGNORECASE
        if self.param("multiline", bool, False):
            flags |= re.MULTILINE
        if self.param("dotall", bool, False):
            flags |= re.DOTALL
        self.flags = flags
        pattern = self.param("pattern", str)
        self.pattern: re.Pattern[str] | None = None
        if pattern is not None:
            try:
                self.pattern = re.compile(pattern, flags)
            except re.error as exc:
                raise MetricConfigError(
                    f"metric {self.spec.name!r}: params.pattern does not compile: {exc}", ("params", "pattern")
                ) from None
        elif not self.spec.field:
            raise MetricConfigError(f"metric {self.spec.name!r} needs params.pattern or a field holding patterns")

    async def score(self, sample: Sample) -> Score:
        pattern = self.pattern
        if pattern is None:
            raw = self.reference(sample, None)
            if not isinstance(raw, str):
                return Score.unmeasured(f"the record's {self.spec.field!r} is not a pattern string")
            try:
                pattern = re.compile(raw, self.flags)
            except re.error as exc:
                return Score.unmeasured(f"the record's pattern does not compile: {exc}")
        candidate, why = self.candidate(sample)
        if candidate is None:
            return Score.boolean(self.negate, problem=why)
        match = pattern.search(candidate[:MAX_SCANNED_CHARS])
        ok = (match is None) if self.negate else (match is not None)
        return Score.boolean(ok, match=match.group(0)[:200]) if match else Score.boolean(ok)
