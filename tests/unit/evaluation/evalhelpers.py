"""Helpers for the evaluation tests: build a metric and score one output."""

from __future__ import annotations

import asyncio
from collections.abc import Sequence
from pathlib import Path
from typing import Any

from llmgitops.evaluation.cases import Case, Output
from llmgitops.evaluation.metrics import Metric, MetricSpec, Sample, Score, Services, metric_class


class MetricHost:
    """What a metric may read from its target: the repository root, the environment, the output schema.
    A plain holder of those three values (metrics only read them)."""

    def __init__(self, root: Path | None = None, output_schema: dict[str, Any] | None = None, env: Any = None) -> None:
        self.root = root or Path.cwd()
        self.output_schema = output_schema
        self.env = env


def make_metric(mtype: str, *, params: dict[str, Any] | None = None, field: str | None = None,
                threshold: float | None = None, host: MetricHost | None = None, name: str = "m") -> Metric:
    cls = metric_class(mtype)
    assert cls is not None, mtype
    return cls(MetricSpec(name, mtype, 0, threshold, params or {}, field), host or MetricHost())  # type: ignore[arg-type]


def score(metric: Metric, output: str | Output, record: dict[str, Any] | None = None,
          services: Services | None = None, variants: dict[str, Output] | None = None) -> Score:
    out = output if isinstance(output, Output) else Output(output)
    sample = Sample(Case(0, "c1", record or {}, 1), out, metric.target, services or Services(), variants or {})
    return asyncio.run(metric.score(sample))


class FixedVectors(Services):
    """Embeddings from a lookup table: tests the metrics' arithmetic on vectors chosen by hand. (The real
    embedding path is covered by the loopback server and by the slow test with the packaged model.)"""

    def __init__(self, table: dict[str, list[float]]) -> None:
        self.table = table

    async def embed(self, texts: Sequence[str], model: str | None = None, provider: str | None = None) -> list[list[float]]:
        return [self.table[t] for t in texts]



VOID = {"meta", "br", "hr", "img", "input", "link", "col", "area", "base", "source", "wbr"}
SVG_LEAVES = {"rect", "line", "circle", "path"}


def check_html(text: str) -> list[str]:
    """Parse an HTML page and return its tags in order; raise AssertionError when an element is left open,
    closed out of order, or closed without being opened."""
    from html.parser import HTMLParser

    class Balanced(HTMLParser):
        def __init__(self) -> None:
            super().__init__(convert_charrefs=True)
            self.stack: list[str] = []
            self.seen: list[str] = []

        def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
            self.seen.append(tag)
            if tag not in VOID:
                self.stack.append(tag)

        def handle_startendtag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
            self.seen.append(tag)

        def handle_endtag(self, tag: str) -> None:
            assert self.stack and self.stack[-1] == tag, f"</{tag}> closes {self.stack[-1:] or 'nothing'}"
            self.stack.pop()

    parser = Balanced()
    parser.feed(text)
    parser.close()
    assert not parser.stack, f"unclosed: {parser.stack}"
    return parser.seen

