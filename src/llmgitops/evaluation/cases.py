"""The data one evaluation moves around: a dataset record as a case, and what a target made of it."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from .providers import Generation

_MISSING = object()


@dataclass(frozen=True)
class Case:
    """One dataset record. ``index`` is its position in the dataset (what shards split on); ``line`` is
    where it starts in the file, for findings."""

    index: int
    id: str
    record: dict[str, Any]
    line: int


@dataclass
class Output:
    """What a target produced for one case and one sample.

    ``error`` set means the target could not produce an output (render failure, provider error after
    retries, missing recording): every metric of the case is then unmeasured, never scored as zero.
    """

    text: str | None
    error: str | None = None
    latency_ms: float | None = None
    input_tokens: int | None = None
    output_tokens: int | None = None
    cached: bool = False
    context: list[dict[str, Any]] | None = None  # retrieved or provided passages: {"id", "text", ...}
    prompt: Any = None  # the rendered request, shown in reports
    extra: dict[str, Any] = field(default_factory=dict)

    @classmethod
    def answered(cls, result: Generation, *, added_ms: float = 0.0, context: list[dict[str, Any]] | None = None,
                 prompt: Any = None) -> Output:
        """A provider's answer as a target's output; ``added_ms`` is time the target spent before asking
        (retrieval), counted in the latency."""
        latency = None if result.latency_ms is None else result.latency_ms + added_ms
        return cls(result.text, result.error, latency, result.input_tokens, result.output_tokens, result.cached,
                   context, prompt)


def lookup(record: Any, dotted: str) -> Any:
    """The value at a dot path (``expected.category``) in a record, or ``MISSING``."""
    node = record
    for part in dotted.split("."):
        if isinstance(node, dict) and part in node:
            node = node[part]
        else:
            return MISSING
    return node


MISSING: Any = _MISSING
