"""Helpers the kind differs share: wording comparison and a JSON Schema diff."""

from __future__ import annotations

import re
import unicodedata
from collections.abc import Iterator
from dataclasses import dataclass
from typing import Any

from ...manifests.ranges import RangeError, parse_range
from ..diff import MISSING, DiffContext, describe_value, same
from ..model import JsonPath

_JINJA = re.compile(r"(\{\{.*?\}\}|\{%.*?%\}|\{#.*?#\})", re.DOTALL)


def wording_key(text: str) -> str:
    """Text with whitespace, letter case and punctuation removed; template syntax kept exact.

    Two texts with the same key differ only editorially. Inside ``{{ }}``, ``{% %}`` and ``{# #}`` only
    whitespace is dropped: ``{{ a + b }}`` and ``{{ a - b }}`` render differently.
    """
    out = []
    for i, part in enumerate(_JINJA.split(text)):
        if i % 2:
            out.append("".join(part.split()))
        else:
            out.append(
                "".join(
                    ch
                    for ch in unicodedata.normalize("NFKC", part).casefold()
                    if not ch.isspace() and not unicodedata.category(ch).startswith("P")
                )
            )
    return "\x00".join(out)


def ranges_equivalent(a: Any, b: Any) -> bool:
    """Two version ranges written differently but meaning the same (``^1.2`` and ``^1.2.0``)."""
    if same(a, b):
        return True
    if not isinstance(a, str) or not isinstance(b, str):
        return False
    try:
        return parse_range(a).alternatives == parse_range(b).alternatives
    except RangeError:
        return False


def diff_reference(ctx: DiffContext, field: str, noun: str, swapped_rule: str, range_rule: str) -> None:
    """A ``{name, version}`` reference at ``spec.<field>``: another artifact, or the same one under a
    different range (ranges that mean the same are no change). Claims the field."""
    name, version = ("spec", field, "name"), ("spec", field, "version")
    if ctx.changed(*name):
        ctx.hit(swapped_rule, name,
                f"{noun} {describe_value(ctx.before(*name))} -> {describe_value(ctx.after(*name))}")
    elif not ranges_equivalent(ctx.before(*version), ctx.after(*version)):
        ctx.hit(range_rule, version,
                f"{noun} range {describe_value(ctx.before(*version))} -> {describe_value(ctx.after(*version))}")
    ctx.claim("spec", field)


# -- JSON Schema diff ---------------------------------------------------------------------------------

DOC_KEYWORDS = frozenset({"title", "description", "examples", "$comment", "default", "deprecated"})


@dataclass(frozen=True)
class SchemaEvent:
    """One difference between two schemas, from the point of view of data that conforms to them.

    ``what``: removed (a property), added-optional, added-required, made-required, made-optional,
    retyped, constraint (another keyword changed), documented (titles, descriptions, examples).
    """

    what: str
    path: JsonPath
    note: str


def _types(schema: Any) -> frozenset[str]:
    if not isinstance(schema, dict):
        return frozenset()
    t = schema.get("type")
    if isinstance(t, str):
        return frozenset({t})
    if isinstance(t, list):
        return frozenset(x for x in t if isinstance(x, str))
    return frozenset()


def _properties(schema: dict[str, Any]) -> dict[str, Any]:
    props = schema.get("properties")
    return props if isinstance(props, dict) else {}


def _required(schema: dict[str, Any]) -> set[str]:
    r = schema.get("required")
    return {x for x in r if isinstance(x, str)} if isinstance(r, list) else set()


def schema_events(old: Any, new: Any, path: JsonPath) -> Iterator[SchemaEvent]:
    """What changed between two JSON Schemas, property by property."""
    if same(old, new):
        return
    if not isinstance(old, dict) or not isinstance(new, dict):
        yield SchemaEvent("retyped", path, "the schema changed shape")
        return
    if _types(old) != _types(new):
        before = "/".join(sorted(_types(old))) or "any"
        after = "/".join(sorted(_types(new))) or "any"
        yield SchemaEvent("retyped", (*path, "type"), f"type {before} -> {after}")
        return
    old_props = _properties(old)
    new_props = _properties(new)
    old_req, new_req = _required(old), _required(new)
    for name in old_props:
        where = (*path, "properties", name)
        if name not in new_props:
            yield SchemaEvent("removed", where, f"field {name!r} removed")
            continue
        yield from schema_events(old_props[name], new_props[name], where)
        if name in old_req and name not in new_req:
            yield SchemaEvent("made-optional", (*path, "required"), f"field {name!r} no longer required")
        elif name in new_req and name not in old_req:
            yield SchemaEvent("made-required", (*path, "required"), f"field {name!r} now required")
    for name in new_props:
        if name not in old_props:
            what = "added-required" if name in new_req else "added-optional"
            yield SchemaEvent(
                what,
                (*path, "properties", name),
                f"field {name!r} added" + (" (required)" if name in new_req else ""),
            )
    for name in sorted((new_req - old_req) - set(new_props) - set(old_props)):
        yield SchemaEvent("made-required", (*path, "required"), f"field {name!r} now required")
    for name in sorted((old_req - new_req) - set(new_props) - set(old_props)):
        yield SchemaEvent("made-optional", (*path, "required"), f"field {name!r} no longer required")
    if "items" in old or "items" in new:
        yield from schema_events(old.get("items", {}), new.get("items", {}), (*path, "items"))
    for key in sorted(set(old) | set(new)):
        if key in ("type", "properties", "required", "items"):
            continue
        before, after = old.get(key, MISSING), new.get(key, MISSING)
        if same(before, after):
            continue
        what = "documented" if key in DOC_KEYWORDS else "constraint"
        yield SchemaEvent(what, (*path, key), f"{key} changed")
