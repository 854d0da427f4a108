"""N-gram overlap with a reference: ROUGE-1, ROUGE-2, ROUGE-L and BLEU, computed here (no heavy deps).

Tokens are runs of Unicode word characters, case-folded (``"Don't stop!"`` → ``don``, ``t``, ``stop``).
ROUGE values are F1 by default (``params.measure: precision|recall|f``), as rouge-score reports them.
BLEU is sentence BLEU up to ``params.maxN`` (default 4) with uniform weights and the brevity penalty
against the closest reference length; ``params.smoothing`` is ``add-one`` (Lin & Och 2004: one is added
to the matches and the total of every order above 1, so a short answer is not zeroed by one missing
4-gram) or ``none``. The reference may be a list: ROUGE takes the best reference, BLEU clips counts
against all of them.
"""

from __future__ import annotations

import math
import re
from collections import Counter
from collections.abc import Sequence

from . import MISSING, Metric, MetricConfigError, Sample, Score, as_text, register_metric

_WORD = re.compile(r"\w+")


def tokenize(text: str) -> list[str]:
    return _WORD.findall(text.casefold())


def ngrams(tokens: Sequence[str], n: int) -> Counter[tuple[str, ...]]:
    return Counter(tuple(tokens[i : i + n]) for i in range(len(tokens) - n + 1))


def prf(overlap: float, candidate_total: int, reference_total: int) -> tuple[float, float, float]:
    precision = overlap / candidate_total if candidate_total else 0.0
    recall = overlap / reference_total if reference_total else 0.0
    f = 2 * precision * recall / (precision + recall) if precision + recall else 0.0
    return precision, recall, f


def rouge_n(candidate: Sequence[str], reference: Sequence[str], n: int) -> tuple[float, float, float]:
    cand, ref = ngrams(candidate, n), ngrams(reference, n)
    overlap = sum((cand & ref).values())
    return prf(overlap, sum(cand.values()), sum(ref.values()))


def lcs_length(a: Sequence[str], b: Sequence[str]) -> int:
    """Length of the longest common subsequence, bit-parallel (Hyyrö 2004): one big-integer step per
    token of ``b`` instead of a len(a) x len(b) table, so long answers cost microseconds."""
    if not a or not b:
        return 0
    masks: dict[str, int] = {}
    for i, token in enumerate(a):
        masks[token] = masks.get(token, 0) | (1 << i)
    full = (1 << len(a)) - 1
    v = full
    for token in b:
        u = v & masks.get(token, 0)
        v = ((v + u) | (v - u)) & full
    return len(a) - v.bit_count()


def rouge_l(candidate: Sequence[str], reference: Sequence[str]) -> tuple[float, float, float]:
    return prf(lcs_length(candidate, reference), len(candidate), len(reference))


def bleu(
    candidate: Sequence[str], references: Sequence[Sequence[str]], max_n: int = 4, smoothing: str = "add-one"
) -> tuple[float, dict[str, object]]:
    """Sentence BLEU and its parts (precisions, brevity penalty, lengths)."""
    c = len(candidate)
    if c == 0:
        return 0.0, {"precisions": [0.0] * max_n, "brevity_penalty": 0.0, "length": 0}
    # closest reference length; ties go to the shorter reference (as in sacrebleu and NLTK)
    r = min((len(ref) for ref in references), key=lambda length: (abs(length - c), length))
    precisions: list[float] = []
    for n in range(1, max_n + 1):
        cand = ngrams(candidate, n)
        best: Counter[tuple[str, ...]] = Counter()
        for ref in references:
            best |= ngrams(ref, n)
        matches = sum((cand & best).values())
        total = sum(cand.values())
        if smoothing == "add-one" and n > 1:
            matches, total = matches + 1, total + 1
        precisions.append(matches / total if total else 0.0)
    brevity = 1.0 if c > r else math.exp(1 - r / c)
    geometric = math.exp(math.fsum(math.log(p) for p in precisions) / max_n) if min(precisions) > 0 else 0.0
    score = brevity * geometric
    return score, {
        "precisions": [round(p, 6) for p in precisions],
        "brevity_penalty": round(brevity, 6),
        "length": c,
        "reference_length": r,
    }


class _Overlap(Metric):
    def configure(self) -> None:
        self.param("outputField", str)

    def references(self, sample: Sample) -> list[list[str]] | str:
        found = self.reference(sample)
        if found is MISSING:
            return f"the record has no {self.spec.field or 'expected'!r}"
        items = found if isinstance(found, list) else [found]
        texts = [as_text(i) for i in items]
        if not texts or any(t is None for t in texts):
            return "the reference must be a string or a list of strings"
        tokenized = [tokenize(t) for t in texts if t is not None]
        if not any(tokenized):
            return "the reference has no words"
        return tokenized

    async def score(self, sample: Sample) -> Score:
        refs = self.references(sample)
        if isinstance(refs, str):
            return Score.unmeasured(refs)
        text, why = self.candidate(sample)
        if text is None:
            return Score(0.0, {"problem": why})
        return self.overlap(tokenize(text), refs)

    def overlap(self, candidate: list[str], references: list[list[str]]) -> Score:
        raise NotImplementedError


class _Rouge(_Overlap):
    n = 1

    def configure(self) -> None:
        super().configure()
        measure = self.param("measure", str, "f")
        if measure not in ("f", "precision", "recall"):
            raise MetricConfigError(
                f"metric {self.spec.name!r}: params.measure is f, precision or recall", ("params", "measure")
            )
        self.pick = ("precision", "recall", "f").index(measure)

    def compute(self, candidate: list[str], reference: list[str]) -> tuple[float, float, float]:
        return rouge_n(candidate, reference, self.n)

    def overlap(self, candidate: list[str], references: list[list[str]]) -> Score:
        best = max((self.compute(candidate, ref) for ref in references), key=lambda prf_: prf_[self.pick])
        return Score(best[self.pick], {"precision": round(best[0], 6), "recall": round(best[1], 6)})


@register_metric("rouge-1")
class Rouge1(_Rouge):
    n = 1


@register_metric("rouge-2")
class Rouge2(_Rouge):
    n = 2


@register_metric("rouge-l")
class RougeL(_Rouge):
    def compute(self, candidate: list[str], reference: list[str]) -> tuple[float, float, float]:
        return rouge_l(candidate, reference)


@register_metric("bleu")
class Bleu(_Overlap):
    def configure(self) -> None:
        super().configure()
        self.max_n = self.param("maxN", int, 4)
        if not 1 <= self.max_n <= 8:
            raise MetricConfigError(f"metric {self.spec.name!r}: params.maxN is between 1 and 8", ("params", "maxN"))
        self.smoothing = self.param("smoothing", str, "add-one")
        if self.smoothing not in ("add-one", "none"):
            raise MetricConfigError(
                f"metric {self.spec.name!r}: params.smoothing is add-one or none", ("params", "smoothing")
            )

    def overlap(self, candidate: list[str], references: list[list[str]]) -> Score:
        value, parts = bleu(candidate, references, self.max_n, self.smoothing)
        return Score(value, parts)
