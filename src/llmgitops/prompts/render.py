"""Rendering a prompt in the sandbox: examples, the declared defaults, and the largest declared input.

Also the data checks around rendering: example inputs and defaults against the declared input types,
and example outputs against ``output.schema``.
"""

from __future__ import annotations

import json
import traceback
from collections.abc import Iterator, Mapping
from dataclasses import dataclass
from typing import Any

from .template import RenderTimeout, Template, compiled, environment, is_plain, plain_render

Shape = dict[str, Any]
JsonPath = tuple[str | int, ...]
MAX_OUTPUT_CHARS = 4_000_000

_TYPES = {
    "string": lambda v: isinstance(v, str),
    "number": lambda v: isinstance(v, (int, float)) and not isinstance(v, bool),
    "integer": lambda v: ((isinstance(v, int) and not isinstance(v, bool))
                          or (isinstance(v, float) and v.is_integer())),
    "boolean": lambda v: isinstance(v, bool),
    "array": lambda v: isinstance(v, list),
    "object": lambda v: isinstance(v, dict),
}
# Ordinary prose for filling a string input to its maxLength when sizing the prompt: a budget is about
# the text users send, and this tokenizes like it (a run of one letter would compress to a few tokens).
_FILLER_WORDS = (
    "the quick brown fox jumps over a lazy dog while seven wizards quietly judge boxing matches near "
    "42 old towers, asking whether every answer cited its sources and why the invoice from March was late. "
)


def type_name(value: Any) -> str:
    if value is None:
        return "null"
    if isinstance(value, bool):
        return "a boolean"
    if isinstance(value, int):
        return "an integer"
    if isinstance(value, float):
        return "a number"
    if isinstance(value, str):
        return "a string"
    if isinstance(value, list):
        return "an array"
    if isinstance(value, dict):
        return "an object"
    return type(value).__name__


def _dotted(name: str, rel: JsonPath) -> str:
    out = name
    for part in rel:
        out += f"[{part}]" if isinstance(part, int) else f".{part}"
    return out


def check_value(value: Any, shape: Shape, rel: JsonPath = ()) -> Iterator[tuple[JsonPath, str, str]]:
    """(relative path, what is wrong, expected) for each way ``value`` misses its declared shape."""
    declared = shape.get("type")
    test = _TYPES.get(declared) if isinstance(declared, str) else None
    if test is None:
        return
    if not test(value):
        yield rel, f"is {type_name(value)}", f"declared type {declared}"
        return
    if declared == "string":
        limit = shape.get("maxLength")
        if isinstance(limit, int) and len(value) > limit:
            yield rel, f"has {len(value)} characters", f"maxLength {limit}"
    elif declared == "array":
        limit = shape.get("maxItems")
        if isinstance(limit, int) and len(value) > limit:
            yield rel, f"has {len(value)} items", f"maxItems {limit}"
        items = shape.get("items")
        if isinstance(items, dict):
            for i, item in enumerate(value):
                yield from check_value(item, items, (*rel, i))
    elif declared == "object":
        properties = shape.get("properties")
        if isinstance(properties, dict):
            for key, sub in properties.items():
                if key in value and isinstance(sub, dict):
                    yield from check_value(value[key], sub, (*rel, key))


def describe_problem(name: str, rel: JsonPath, what: str, expected: str) -> str:
    return f"{_dotted(name, rel)} {what}; {expected}"


def filler(length: int) -> str:
    words = _FILLER_WORDS * (length // len(_FILLER_WORDS) + 1)
    return words[:length]


def placeholder(shape: Shape | None) -> Any:
    """A small value of the declared shape: what the template sees when no example says more."""
    declared = shape.get("type") if isinstance(shape, dict) else None
    if declared == "string":
        return "text"
    if declared in ("number", "integer"):
        return 1
    if declared == "boolean":
        return True
    if declared == "array":
        items = shape.get("items") if isinstance(shape, dict) else None
        return [placeholder(items if isinstance(items, dict) else {"type": "string"})]
    if declared == "object":
        properties = shape.get("properties") if isinstance(shape, dict) else None
        if isinstance(properties, dict):
            return {k: placeholder(v if isinstance(v, dict) else None) for k, v in properties.items()}
        return {}
    return "text"


def _size(value: Any) -> int:
    try:
        return len(json.dumps(value, default=str))
    except (TypeError, ValueError):
        return 0


def largest(shape: Shape | None, seen: list[Any]) -> Any:
    """The largest value the declaration allows (maxLength, maxItems), else the largest one seen."""
    shape = shape if isinstance(shape, dict) else {}
    declared = shape.get("type")
    test = _TYPES.get(declared) if isinstance(declared, str) else None
    typed = [v for v in seen if test(v)] if test is not None else seen
    if declared == "string" and isinstance(shape.get("maxLength"), int):
        return filler(shape["maxLength"])
    if declared == "array":
        items = shape.get("items") if isinstance(shape.get("items"), dict) else None
        every_item = [item for v in typed for item in v]
        if isinstance(shape.get("maxItems"), int):
            one = largest(items, every_item)
            return [one] * shape["maxItems"]
        if typed:
            longest = max(typed, key=len)
            return [largest(items, [item, *every_item]) if items else item for item in longest]
        return placeholder(shape)
    if declared == "object" and isinstance(shape.get("properties"), dict):
        base = dict(max(typed, key=_size)) if typed else {}
        for key, sub in shape["properties"].items():
            values = [v[key] for v in typed if key in v]
            if values or (isinstance(sub, dict) and (sub.get("maxLength") or sub.get("maxItems"))):
                base[key] = largest(sub, values)
            elif key not in base:
                base[key] = placeholder(sub if isinstance(sub, dict) else None)
        return base
    if typed:
        return max(typed, key=_size)
    if "default" in shape and shape["default"] is not None:
        return shape["default"]
    return placeholder(shape)


def with_defaults(declared: Mapping[str, Shape], given: Mapping[str, Any]) -> dict[str, Any]:
    context = {name: shape["default"] for name, shape in declared.items() if "default" in shape}
    context.update(given)
    return context


def declared_sample(declared: Mapping[str, Shape]) -> dict[str, Any]:
    """Defaults where declared, a placeholder of the declared shape everywhere else."""
    return {name: shape["default"] if "default" in shape else placeholder(shape)
            for name, shape in declared.items()}


def maximal_sample(declared: Mapping[str, Shape], examples: list[Mapping[str, Any]]) -> dict[str, Any]:
    return {name: largest(shape, [e[name] for e in examples if name in e])
            for name, shape in declared.items()}


@dataclass(frozen=True)
class RenderFailure:
    template: Template
    lineno: int | None
    message: str


def render(templates: list[Template], context: Mapping[str, Any]) -> list[str] | RenderFailure:
    """Each template rendered with ``context``, or where and why the first one failed."""
    out: list[str] = []
    current = templates[0] if templates else None
    try:
        with environment().bounded():
            for template in templates:
                current = template
                error = template.syntax_error
                if error is not None:
                    return RenderFailure(template, error.lineno, "the template does not parse")
                if is_plain(template.source):
                    out.append(plain_render(template.source))  # no compile needed to render plain text
                    continue
                try:
                    out.append(_generate(compiled(template.source), context))
                except Exception as exc:  # a template is user code: what it raises is a finding, not a crash
                    return RenderFailure(template, _template_line(exc), _explain(exc))
    except RenderTimeout as exc:  # the timer fired between two templates rather than inside one
        assert current is not None
        return RenderFailure(current, None, str(exc))
    return out


def _generate(tmpl: Any, context: Mapping[str, Any]) -> str:
    chunks: list[str] = []
    size = 0
    for chunk in tmpl.generate(dict(context)):
        size += len(chunk)
        if size > MAX_OUTPUT_CHARS:
            raise OverflowError(f"the rendered text passes {MAX_OUTPUT_CHARS} characters")
        chunks.append(chunk)
    return "".join(chunks)


def _template_line(exc: BaseException) -> int | None:
    # Jinja rewrites tracebacks so that template frames carry the template's own line numbers.
    lines = [f.lineno for f in traceback.extract_tb(exc.__traceback__) if f.filename == "<template>"]
    return lines[-1] if lines else getattr(exc, "lineno", None)


def _explain(exc: BaseException) -> str:
    text = str(exc) or type(exc).__name__
    name = type(exc).__name__
    return text if name in ("UndefinedError", "SecurityError", "RenderTimeout") else f"{name}: {text}"
