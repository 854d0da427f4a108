"""Okapi BM25, the classic lexical baseline a dense retriever should beat.

Lucene's variant: idf = ln(1 + (N - df + 0.5) / (df + 0.5)), which is never negative, and
score = sum over query terms of idf * tf * (k1 + 1) / (tf + k1 * (1 - b + b * len / avglen)).
Terms are Unicode word characters, case-folded; no stemming or stop words, so results are predictable.
"""

from __future__ import annotations

import heapq
import math
import re
from collections import Counter
from collections.abc import Sequence

_WORD = re.compile(r"\w+", re.UNICODE)


def tokenize(text: str) -> list[str]:
    return _WORD.findall(text.casefold())


class BM25:
    def __init__(self, documents: Sequence[str], k1: float = 1.5, b: float = 0.75) -> None:
        if k1 < 0 or not 0 <= b <= 1:
            raise ValueError("BM25 needs k1 >= 0 and 0 <= b <= 1")
        self.k1, self.b = k1, b
        self.size = len(documents)
        self.lengths: list[int] = []
        self.postings: dict[str, list[tuple[int, int]]] = {}
        for index, text in enumerate(documents):
            terms = Counter(tokenize(text))
            self.lengths.append(sum(terms.values()))
            for term, tf in terms.items():
                self.postings.setdefault(term, []).append((index, tf))
        self.avg_length = (sum(self.lengths) / self.size) if self.size else 0.0

    def idf(self, term: str) -> float:
        df = len(self.postings.get(term, ()))
        return math.log(1.0 + (self.size - df + 0.5) / (df + 0.5))

    def scores(self, query: str) -> dict[int, float]:
        """Score of every document sharing at least one term with the query."""
        out: dict[int, float] = {}
        avg = self.avg_length or 1.0
        for term, qtf in Counter(tokenize(query)).items():
            postings = self.postings.get(term)
            if not postings:
                continue
            idf = self.idf(term)
            for index, tf in postings:
                norm = tf + self.k1 * (1.0 - self.b + self.b * self.lengths[index] / avg)
                out[index] = out.get(index, 0.0) + qtf * idf * tf * (self.k1 + 1.0) / norm
        return out

    def search(self, query: str, k: int) -> list[tuple[int, float]]:
        """The ``k`` best (document index, score) pairs, best first; ties broken by index for stable output."""
        scored = self.scores(query)
        return heapq.nsmallest(k, ((i, s) for i, s in scored.items()), key=lambda item: (-item[1], item[0]))
