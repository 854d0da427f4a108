"""Prompt: the inputs and the output are its interface; wording and config are behaviour; docs are patch."""

from __future__ import annotations

from typing import Any

from ..diff import MISSING, DiffContext, Pattern, describe_value, same
from .common import diff_reference, schema_events, wording_key

PATTERNS: tuple[tuple[Pattern, str], ...] = (
    (("spec", "config"), "prompt/config-changed"),
    (("spec", "examples"), "prompt/examples-changed"),
)

# Keys of an input declaration that describe its shape: any change there is a retype.
SHAPE_KEYS = ("type", "items", "properties")


def _inputs(value: Any) -> dict[str, dict[str, Any]]:
    if not isinstance(value, dict):
        return {}
    return {k: v for k, v in value.items() if isinstance(v, dict)}


def _shape(decl: dict[str, Any]) -> dict[str, Any]:
    return {k: decl[k] for k in SHAPE_KEYS if k in decl}


def _is_required(decl: dict[str, Any]) -> bool:
    return decl.get("required") is True


def _diff_inputs(ctx: DiffContext) -> None:
    old, new = _inputs(ctx.before("spec", "input")), _inputs(ctx.after("spec", "input"))
    removed = [n for n in old if n not in new]
    added = [n for n in new if n not in old]
    base = ("spec", "input")
    # a removed and an added input with the same declaration (descriptions aside) is a rename
    for name in list(removed):
        twin = next(
            (a for a in added if same({**old[name], "description": None}, {**new[a], "description": None})),
            None,
        )
        if twin is not None:
            ctx.hit("prompt/input-renamed", (*base, twin), f"input {name!r} renamed to {twin!r}")
            removed.remove(name)
            added.remove(twin)
    for name in removed:
        ctx.hit(
            "prompt/input-removed", base, f"input {name!r} was removed", claim=False, detail={"input": name}
        )
    for name in added:
        rule = "prompt/input-added-required" if _is_required(new[name]) else "prompt/input-added-optional"
        ctx.hit(
            rule, (*base, name), f"input {name!r} added" + (" as required" if _is_required(new[name]) else "")
        )
    for name in old:
        if name not in new:
            continue
        _diff_input(ctx, (*base, name), name, old[name], new[name])
    ctx.claim(*base)


def _diff_input(
    ctx: DiffContext, where: tuple[str, ...], name: str, old: dict[str, Any], new: dict[str, Any]
) -> None:
    if not same(_shape(old), _shape(new)):
        ctx.hit(
            "prompt/input-retyped",
            (*where, "type"),
            f"input {name!r} changed type or shape: {describe_value(_shape(old))} -> "
            f"{describe_value(_shape(new))}",
        )
    if _is_required(old) != _is_required(new):
        rule = "prompt/input-made-required" if _is_required(new) else "prompt/input-made-optional"
        ctx.hit(
            rule,
            (*where, "required"),
            f"input {name!r} is now {'required' if _is_required(new) else 'optional'}",
        )
    for limit in ("maxLength", "maxItems"):
        before, after = old.get(limit, MISSING), new.get(limit, MISSING)
        if same(before, after):
            continue
        narrowed = after is not MISSING and (
            before is MISSING or (isinstance(before, int) and isinstance(after, int) and after < before)
        )
        ctx.hit(
            "prompt/input-narrowed" if narrowed else "prompt/input-widened",
            (*where, limit),
            f"input {name!r} {limit}: {describe_value(before)} -> {describe_value(after)}",
        )
    if not same(old.get("default", MISSING), new.get("default", MISSING)):
        ctx.hit(
            "prompt/input-default-changed",
            (*where, "default"),
            f"input {name!r} default: {describe_value(old.get('default', MISSING))} -> "
            f"{describe_value(new.get('default', MISSING))}",
        )
    if not same(old.get("source", MISSING), new.get("source", MISSING)):
        ctx.hit(
            "prompt/input-source-changed",
            (*where, "source"),
            f"input {name!r} source: {describe_value(old.get('source', MISSING))} -> "
            f"{describe_value(new.get('source', MISSING))}",
        )
    if not same(old.get("description", MISSING), new.get("description", MISSING)):
        ctx.hit("prompt/input-described", (*where, "description"), f"input {name!r} description changed")
    known = {*SHAPE_KEYS, "required", "maxLength", "maxItems", "default", "source", "description"}
    for key in sorted((set(old) | set(new)) - known):
        if not same(old.get(key, MISSING), new.get(key, MISSING)):
            ctx.hit("manifest/unclassified-change", (*where, key), f"input {name!r} field {key!r} changed")


def _wording(ctx: DiffContext, where: tuple[str | int, ...], label: str, old: Any, new: Any) -> None:
    if same(old, new):
        return
    if isinstance(old, str) and isinstance(new, str) and wording_key(old) == wording_key(new):
        ctx.hit("prompt/message-editorial", where, f"{label}: only whitespace, case or punctuation changed")
    else:
        ctx.hit("prompt/message-reworded", where, f"{label} reworded")


def _diff_messages(ctx: DiffContext) -> None:
    old, new = ctx.before("spec", "messages"), ctx.after("spec", "messages")
    ctx.claim("spec", "messages")
    if same(old, new):
        return
    if not isinstance(old, list) or not isinstance(new, list):
        ctx.hit("prompt/messages-restructured", ("spec", "messages"), "messages added or removed")
        return
    roles = [m.get("role") if isinstance(m, dict) else None for m in old]
    new_roles = [m.get("role") if isinstance(m, dict) else None for m in new]
    if roles != new_roles:
        ctx.hit(
            "prompt/messages-restructured",
            ("spec", "messages"),
            f"conversation {roles} -> {new_roles}"
            if len(roles) + len(new_roles) <= 8
            else f"{len(old)} messages -> {len(new)} messages with other roles",
        )
        # wording of the messages that kept their place still counts
    for i, (a, b) in enumerate(zip(old, new, strict=False)):
        if not isinstance(a, dict) or not isinstance(b, dict):
            continue
        _wording(
            ctx,
            ("spec", "messages", i, "content"),
            f"message {i} ({b.get('role')})",
            a.get("content", MISSING),
            b.get("content", MISSING),
        )
        for key in sorted((set(a) | set(b)) - {"role", "content"}):
            if not same(a.get(key, MISSING), b.get(key, MISSING)):
                ctx.hit(
                    "manifest/unclassified-change",
                    ("spec", "messages", i, key),
                    f"message {i} field {key!r} changed",
                )


def _diff_output(ctx: DiffContext) -> None:
    where = ("spec", "output")
    ctx.claim(*where)
    old_out, new_out = ctx.before(*where), ctx.after(*where)
    old_out = old_out if isinstance(old_out, dict) else {}
    new_out = new_out if isinstance(new_out, dict) else {}
    if same(old_out, new_out):
        return
    old_format, new_format = old_out.get("format", "text"), new_out.get("format", "text")
    if not same(old_format, new_format):
        ctx.hit(
            "prompt/output-format-changed",
            (*where, "format"),
            f"output format {describe_value(old_format)} -> {describe_value(new_format)}",
        )
        return
    old, new = old_out.get("schema", MISSING), new_out.get("schema", MISSING)
    if old is MISSING and new is not MISSING:
        ctx.hit("prompt/output-field-added", (*where, "schema"), "an output schema now guarantees the shape")
    elif new is MISSING and old is not MISSING:
        ctx.hit("prompt/output-contract-broken", (*where, "schema"), "the output schema was removed")
    elif old is not MISSING:
        for event in schema_events(old, new, (*where, "schema")):
            ctx.hit(OUTPUT_RULES[event.what], event.path, f"output {event.note}", claim=False)
    for key in sorted((set(old_out) | set(new_out)) - {"format", "schema"}):
        if not same(old_out.get(key, MISSING), new_out.get(key, MISSING)):
            ctx.hit("manifest/unclassified-change", (*where, key), f"output field {key!r} changed")


# What a schema event means for consumers of the prompt's output.
OUTPUT_RULES = {
    "removed": "prompt/output-contract-broken",
    "retyped": "prompt/output-contract-broken",
    "made-optional": "prompt/output-contract-broken",
    "constraint": "prompt/output-contract-broken",
    "added-optional": "prompt/output-field-added",
    "added-required": "prompt/output-field-added",
    "made-required": "prompt/output-field-added",
    "documented": "prompt/output-described",
}


def diff(ctx: DiffContext) -> None:
    if ctx.value_change("prompt/type-changed", "spec", "type", what="prompt type"):
        ctx.claim("spec", "messages")
        ctx.claim("spec", "template")
    else:
        _diff_messages(ctx)
        ctx.claim("spec", "template")
        _wording(
            ctx,
            ("spec", "template"),
            "template",
            ctx.before("spec", "template"),
            ctx.after("spec", "template"),
        )

    diff_reference(ctx, "modelRef", "model", "prompt/model-swapped", "prompt/model-range-changed")

    _diff_inputs(ctx)
    _diff_output(ctx)
