"""Evaluation: run an EvalSuite's dataset through its targets on a provider, score it, apply its gates.

    datasets   Dataset records (JSONL/CSV, in Git or DVC-tracked), validated against the declared schema
    providers  model endpoints: OpenAI-compatible HTTP, in-process transformers, replay; cache, rate limits
    targets    what a record is run through: a Prompt on its Model, a Model directly, plug-in targets (RAG)
    metrics    the metric registry and one module per metric family
    gates      pass rate, regression against a baseline (bootstrap), latency, cost, human review
    runner     the run itself; ``run_suite`` is the API the pipeline calls
    report     JSON (versioned schema), Markdown (PR comment), HTML (self-contained, inline SVG)
    shard      deterministic slices of a dataset and the merge of shard reports
    review     human review sheets and importing their verdicts

Nothing heavy is imported here: ``llmgitops validate`` may import this package's registry.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from .runner import SuiteReport, run_suite

__all__ = ["SuiteReport", "run_suite"]


def __getattr__(name: str) -> Any:
    if name in __all__:
        from . import runner

        return getattr(runner, name)
    raise AttributeError(name)
