"""Locating and compiling the JSON Schemas, and turning their errors into findings at file:line:column."""

from __future__ import annotations

import difflib
import json
from collections.abc import Iterator
from functools import cache
from pathlib import Path
from typing import Any

from ..findings import Finding, Severity
from ..manifests.kinds import API_VERSION, KINDS
from ..manifests.loader import Document

SCHEMA_VERSION = "v1alpha1"
SCHEMA_BASE = f"https://llmgitops.dev/schemas/{SCHEMA_VERSION}/"


def schema_dir() -> Path:
    """The schemas shipped in the wheel, or the repository's own folder in a source checkout."""
    packaged = Path(__file__).parent / SCHEMA_VERSION
    if packaged.is_dir():
        return packaged
    return Path(__file__).resolve().parents[3] / "schemas" / SCHEMA_VERSION


@cache
def load_all() -> dict[str, dict[str, Any]]:
    """Every schema file by file name."""
    folder = schema_dir()
    return {p.name: json.loads(p.read_text(encoding="utf-8")) for p in sorted(folder.glob("*.json"))}


@cache
def _registry() -> Any:
    from referencing import Registry, Resource

    resources = [(s.get("$id", SCHEMA_BASE + name), Resource.from_contents(s)) for name, s in load_all().items()]
    return Registry().with_resources(resources)


@cache
def validator(kind: str) -> Any:
    from jsonschema import Draft202012Validator

    schema = load_all()[KINDS[kind].schema]
    return Draft202012Validator(schema, registry=_registry())


def kind_of(doc: Document) -> tuple[str | None, Finding | None]:
    """The manifest's kind, or a finding saying why it has none we know."""
    kind = doc.data.get("kind")
    api = doc.data.get("apiVersion")
    if api != API_VERSION:
        pos = doc.position(("apiVersion",))
        shown = "missing" if api is None else repr(api)
        return None, Finding(doc.path, pos[0], pos[1], "manifest/api-version", Severity.ERROR,
                             f"apiVersion is {shown}; expected {API_VERSION!r}")
    if not isinstance(kind, str) or kind not in KINDS:
        pos = doc.position(("kind",))
        close = difflib.get_close_matches(str(kind), list(KINDS), n=1)
        return None, Finding(doc.path, pos[0], pos[1], "manifest/unknown-kind", Severity.ERROR,
                             f"kind {kind!r} is not one of {', '.join(KINDS)}",
                             f"did you mean {close[0]!r}?" if close else None)
    return kind, None


def validate_document(doc: Document, kind: str) -> list[Finding]:
    """Schema findings for one document: the compiled validator answers for the valid majority,
    jsonschema explains the rest (its messages and paths are what findings are made of)."""
    from .fast import is_valid

    if is_valid(kind, doc.data):
        return []
    findings: list[Finding] = []
    for error in validator(kind).iter_errors(doc.data):
        findings.extend(_findings_for(doc, error))
    return findings


_RULES = {
    "additionalProperties": "schema/unknown-field",
    "unevaluatedProperties": "schema/unknown-field",
    "required": "schema/required",
    "type": "schema/type",
    "enum": "schema/enum",
    "const": "schema/enum",
    "pattern": "schema/format",
    "format": "schema/format",
    "minLength": "schema/length",
    "maxLength": "schema/length",
    "minItems": "schema/length",
    "maxItems": "schema/length",
    "minimum": "schema/range",
    "maximum": "schema/range",
    "exclusiveMinimum": "schema/range",
    "exclusiveMaximum": "schema/range",
    "uniqueItems": "schema/unique",
    "oneOf": "schema/one-of",
    "anyOf": "schema/any-of",
    "not": "schema/not",
}
_JSON_TYPES = {dict: "mapping", list: "sequence", str: "string", bool: "boolean", int: "integer",
               float: "number", type(None): "null"}


def _leaf_errors(error: Any) -> Iterator[Any]:
    """For oneOf/anyOf, the errors of the branch that came closest, so the message is about the field."""
    if error.validator in ("oneOf", "anyOf") and error.context:
        from jsonschema.exceptions import best_match, relevance

        # a branch that failed only on its discriminating keyword (e.g. a missing alternative) is noise
        best = best_match(error.context, key=relevance)
        if best is not None and best.validator not in ("required", "not"):
            yield from _leaf_errors(best)
            return
    yield error


def _findings_for(doc: Document, error: Any) -> Iterator[Finding]:
    for leaf in _leaf_errors(error):
        path = tuple(leaf.absolute_path)
        rule = _RULES.get(leaf.validator, f"schema/{leaf.validator}")
        message, hint, at_key_of = _describe(doc, leaf, path)
        where = doc.key_position(at_key_of) if at_key_of is not None else doc.position(path)
        if leaf.validator in ("additionalProperties", "unevaluatedProperties") and isinstance(leaf.instance, dict):
            allowed = sorted(leaf.schema.get("properties", {}))
            for extra in _extra_keys(leaf):
                close = difflib.get_close_matches(extra, allowed, n=1)
                pos = doc.key_position(path + (extra,))
                name = ".".join(str(p) for p in path + (extra,))
                yield Finding(doc.path, pos[0], pos[1], rule, Severity.ERROR, f"unknown field {name!r}",
                              f"did you mean {close[0]!r}?" if close
                              else (f"allowed here: {', '.join(allowed)}" if allowed else None))
            continue
        yield Finding(doc.path, where[0], where[1], rule, Severity.ERROR, message, hint)


def _extra_keys(error: Any) -> list[str]:
    import re

    props = error.schema.get("properties", {})
    patterns = [re.compile(p) for p in error.schema.get("patternProperties", {})]
    return [k for k in error.instance if k not in props and not any(p.search(k) for p in patterns)]


def _dotted(path: tuple[Any, ...]) -> str:
    out = ""
    for part in path:
        out += f"[{part}]" if isinstance(part, int) else (f".{part}" if out else str(part))
    return out or "document"


def _describe(doc: Document, error: Any, path: tuple[Any, ...]) -> tuple[str, str | None, tuple[Any, ...] | None]:
    """(message, hint, path whose key to point at — None for the value itself)."""
    field = _dotted(path)
    v = error.validator
    description = error.schema.get("description") if isinstance(error.schema, dict) else None
    if v == "required":
        missing = error.validator_value
        absent = [m for m in missing if isinstance(error.instance, dict) and m not in error.instance]
        name = absent[0] if absent else missing[0]
        where = "the document" if not path else repr(field)
        return f"missing required field {name!r} in {where}", None, path if path else None
    if v == "type":
        expected = error.validator_value
        expected_s = " or ".join(expected) if isinstance(expected, list) else expected
        actual = _JSON_TYPES.get(type(error.instance), type(error.instance).__name__)
        hint = None
        if path in doc.plain and "string" in (expected if isinstance(expected, list) else [expected]):
            raw = doc.plain[path]
            hint = f'quote it to keep the text as written: "{raw}" (unquoted, YAML reads {raw} as a {actual})'
        return f"{field}: expected {expected_s}, got {actual}", hint, None
    if v in ("enum", "const"):
        options = error.validator_value if v == "enum" else [error.validator_value]
        shown = ", ".join(json.dumps(o) for o in options)
        close = difflib.get_close_matches(str(error.instance), [str(o) for o in options], n=1)
        hint = f"did you mean {close[0]!r}?" if close else None
        return f"{field}: {json.dumps(error.instance)} is not one of {shown}", hint, None
    if v == "pattern":
        return f"{field}: {json.dumps(error.instance)} is not in the expected format", description, None
    if v == "oneOf" and not error.context:
        return f"{field}: matches more than one of the allowed shapes", description, None
    if v in ("oneOf", "anyOf"):
        return f"{field}: matches none of the allowed shapes", description, None
    if v == "not":
        return f"{field}: this combination of fields is not allowed", description, None
    return f"{field}: {error.message}", None, None
