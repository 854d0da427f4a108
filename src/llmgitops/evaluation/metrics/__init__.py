"""The metric registry and what every metric shares.

A metric scores one sample (one output of one case) and returns a ``Score``: a number, or no number and
the reason it could not be measured. ``None`` is never read as zero or as a pass. Repeats of a case are
averaged; a case whose samples could not all be measured is unmeasured.

A threshold is the pass mark of one record: a minimum when higher is better, a maximum for the metrics
that say ``higher_is_better = False`` (latency, tokens, cost, refusals, toxicity).

Registering a metric type (from this package or a plug-in)::

    @register_metric("my-metric")
    class MyMetric(Metric):
        async def score(self, sample: Sample) -> Score: ...
"""

from __future__ import annotations

import importlib
import json
import math
import re
import threading
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any, ClassVar, TypeVar

from ..cases import MISSING as MISSING
from ..cases import Case, Output, lookup

if TYPE_CHECKING:
    from ..targets import Target

BUILTIN_MODULES = (
    "text",
    "structured",
    "overlap",
    "embedding",
    "operational",
    "safety",
    "bias",
    "grounding",
    "judge",
    "human",
)

_METRICS: dict[str, type[Metric]] = {}
_builtins_loaded = False
# evaluate steps run on worker threads: the first to ask imports the built-in metrics while the others
# wait, instead of seeing "loaded" before the registrations are done
_builtins_lock = threading.RLock()

M = TypeVar("M", bound="type[Metric]")


class MetricConfigError(Exception):
    """A metric's declaration cannot work (missing or wrong params); ``path`` is relative to the metric."""

    def __init__(self, message: str, path: tuple[str | int, ...] = ("params",)) -> None:
        super().__init__(message)
        self.message = message
        self.path = path


@dataclass(frozen=True)
class MetricSpec:
    name: str
    type: str
    index: int  # position in spec.metrics, for findings
    threshold: float | None = None
    params: dict[str, Any] = field(default_factory=dict)
    field: str | None = None


@dataclass
class Score:
    value: float | None
    detail: dict[str, Any] = field(default_factory=dict)
    reason: str | None = None  # why there is no value
    applicable: bool = True  # False: the metric says nothing about this record (neither pass nor unmeasured)

    @classmethod
    def unmeasured(cls, reason: str, **detail: Any) -> Score:
        return cls(None, dict(detail), reason)

    @classmethod
    def not_applicable(cls, reason: str) -> Score:
        return cls(None, {}, reason, applicable=False)

    @classmethod
    def boolean(cls, ok: bool, **detail: Any) -> Score:
        return cls(1.0 if ok else 0.0, dict(detail))


class Services:
    """What a metric may ask of the run beyond the sample: embeddings and judge calls. The runner provides
    the real one; this base says every such service is unavailable."""

    async def embed(
        self, texts: Sequence[str], model: str | None = None, provider: str | None = None
    ) -> list[list[float]]:
        raise LookupError("no embedding provider is configured")

    async def complete(
        self, messages: Sequence[dict[str, str]], params: dict[str, Any], model: str, provider: str | None = None
    ) -> Output:
        raise LookupError("no judge provider is configured")

    def pricing(self) -> dict[str, Any] | None:
        return None


@dataclass
class Sample:
    case: Case
    output: Output
    target: Target
    services: Services
    variants: dict[str, Output] = field(default_factory=dict)  # counterfactual variants of this sample


class Metric:
    """Base of every metric type. Subclasses set ``type`` through ``register_metric`` and implement ``score``."""

    type: ClassVar[str] = ""
    higher_is_better: ClassVar[bool] = True
    bounded: ClassVar[bool] = True  # values lie in [0, 1]: the suite's maxRegression applies to it
    reads_output: ClassVar[bool] = True  # unmeasured when the target produced no output

    def __init__(self, spec: MetricSpec, target: Target) -> None:
        self.spec = spec
        self.params = spec.params
        self.target = target
        self.configure()

    # -- declaration ---------------------------------------------------------------------------------
    def configure(self) -> None:
        """Read and check ``self.params``; raise MetricConfigError for a declaration that cannot work."""

    def param(self, key: str, kind: Any, default: Any = None) -> Any:
        if key not in self.params:
            return default
        value = self.params[key]
        kinds = kind if isinstance(kind, tuple) else (kind,)
        if not isinstance(value, kinds) or (isinstance(value, bool) and bool not in kinds):
            names = " or ".join("number" if k is float else k.__name__ for k in kinds)
            raise MetricConfigError(f"metric {self.spec.name!r}: params.{key} must be a {names}", ("params", key))
        return value

    def candidate(self, sample: Sample) -> tuple[str | None, str | None]:
        """(the text this metric scores, why there is none). With ``params.outputField`` that is one field
        of a JSON output; an output that is not JSON or lacks the field is a wrong answer, not a failure
        to measure, so callers score it as a miss."""
        text = sample.output.text or ""
        name = self.params.get("outputField")
        if not isinstance(name, str):
            return text, None
        value, error = extract_json(text)
        if error is not None:
            return None, f"the output is not JSON ({error})"
        found = lookup(value, name)
        if found is MISSING:
            return None, f"the JSON output has no field {name!r}"
        rendered = as_text(found)
        return (rendered, None) if rendered is not None else (json.dumps(found, sort_keys=True), None)

    def outside_inputs(self) -> Any:
        """What the metric read beyond its declaration (a lexicon file's terms), for the run memo's key."""
        return None

    def variants(self, case: Case) -> dict[str, dict[str, Any]]:
        """Extra records to run alongside ``case`` (counterfactual metrics), by label."""
        return {}

    # -- scoring -------------------------------------------------------------------------------------
    async def score(self, sample: Sample) -> Score:
        raise NotImplementedError

    def reference(self, sample: Sample, default_field: str | None = "expected") -> Any:
        """The dataset value the metric compares with: ``field`` (a dot path), else ``default_field``."""
        name = self.spec.field or default_field
        return MISSING if name is None else lookup(sample.case.record, name)

    def aggregate(self, values: Sequence[float]) -> float:
        """The metric's value over cases: the mean, unless a subclass says otherwise."""
        return math.fsum(values) / len(values)

    @property
    def percentile(self) -> float | None:
        """When the aggregate is a percentile (latency), which one; the bootstrap needs to know."""
        return None

    @classmethod
    def summary(
        cls, definition: dict[str, Any], values: Sequence[float], details: Sequence[dict[str, Any]]
    ) -> dict[str, Any]:
        """Extra figures for the report (percentiles, per-group results) from the measured records and
        the metric's definition as the report stores it (reports are re-summarized without the suite)."""
        return {}

    def bind(self, metrics: dict[str, Metric]) -> None:
        """Called once every metric of the suite exists, for metrics that build on another one."""

    def passes(self, value: float) -> bool | None:
        """Whether one record meets the threshold; None when the metric has no threshold."""
        threshold = self.spec.threshold
        if threshold is None:
            return None
        return value >= threshold - 1e-12 if self.higher_is_better else value <= threshold + 1e-12

    def describe(self) -> dict[str, Any]:
        out: dict[str, Any] = {
            "name": self.spec.name,
            "type": self.spec.type,
            "direction": "higher" if self.higher_is_better else "lower",
        }
        if self.spec.threshold is not None:
            out["threshold"] = self.spec.threshold
        if self.spec.field:
            out["field"] = self.spec.field
        return out


def register_metric(type_name: str) -> Callable[[M], M]:
    def decorate(cls: M) -> M:
        cls.type = type_name
        _METRICS[type_name] = cls
        return cls

    return decorate


def metric_class(type_name: str) -> type[Metric] | None:
    global _builtins_loaded
    if not _builtins_loaded:
        with _builtins_lock:
            if not _builtins_loaded:
                for module in BUILTIN_MODULES:
                    importlib.import_module(f"{__name__}.{module}")
                _builtins_loaded = True
    if type_name not in _METRICS:
        from ..plugins import load_plugins

        load_plugins()
    return _METRICS.get(type_name)


def known_types() -> list[str]:
    metric_class("")
    return sorted(_METRICS)


def as_text(value: Any) -> str | None:
    """A reference value as text: strings as they are, numbers and booleans in JSON spelling."""
    if isinstance(value, str):
        return value
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, int | float):
        return str(value)
    return None


_FENCE = re.compile(r"^```[A-Za-z0-9_-]*\s*\n(.*?)\n?```\s*$", re.DOTALL)


def extract_json(text: str) -> tuple[Any, str | None]:
    """The JSON value in a model's output: the whole text, the inside of a Markdown code fence, or the
    outermost ``{...}``/``[...]`` span (models like to add a sentence around it)."""
    stripped = text.strip()
    fenced = _FENCE.match(stripped)
    if fenced:
        stripped = fenced.group(1).strip()
    try:
        return json.loads(stripped), None
    except ValueError as exc:
        first_error = str(exc)
    for open_, close in (("{", "}"), ("[", "]")):
        start, end = stripped.find(open_), stripped.rfind(close)
        if 0 <= start < end:
            try:
                return json.loads(stripped[start : end + 1]), None
            except ValueError:
                continue
    return None, first_error
