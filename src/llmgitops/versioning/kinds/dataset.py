"""Dataset: the record schema and the splits are its interface; the records themselves are minor or patch.

Which flags a data change raises follows the purpose: training data retrains, evaluation data
rebaselines, a RAG corpus re-embeds.
"""

from __future__ import annotations

from typing import Any

from ...manifests.source import SourceError
from ..diff import MISSING, DiffContext, Pattern, describe_value, same
from ..model import REQUIRES_REBASELINE, REQUIRES_REEMBED, REQUIRES_RETRAIN
from .common import schema_events

PATTERNS: tuple[tuple[Pattern, str], ...] = (
    (("spec", "format"), "dataset/format-changed"),
    (("spec", "purpose"), "dataset/purpose-changed"),
    (("spec", "license"), "dataset/license-changed"),
    (("spec", "pii"), "dataset/pii-details-changed"),
)

PURPOSE_FLAGS = {
    "training": (REQUIRES_RETRAIN,),
    "evaluation": (REQUIRES_REBASELINE,),
    "rag-corpus": (REQUIRES_REEMBED,),
}

SCHEMA_RULES = {
    "removed": "dataset/schema-broken",
    "retyped": "dataset/schema-broken",
    "made-optional": "dataset/schema-broken",
    "made-required": "dataset/schema-broken",
    "added-required": "dataset/schema-broken",
    "constraint": "dataset/schema-broken",
    "added-optional": "dataset/field-added",
    "documented": "dataset/schema-documented",
}


def _purpose_flags(ctx: DiffContext) -> tuple[str, ...]:
    purposes = {ctx.before("spec", "purpose"), ctx.after("spec", "purpose")}
    return tuple(
        f for p in sorted(x for x in purposes if isinstance(x, str)) for f in PURPOSE_FLAGS.get(p, ())
    )


def _location(ctx: DiffContext, side: str) -> tuple[tuple[str, ...], str, bool] | None:
    get = ctx.before if side == "old" else ctx.after
    pointer = get("spec", "storage", "dvc", "path")
    if isinstance(pointer, str):
        return ("spec", "storage", "dvc", "path"), pointer, True
    path = get("spec", "path")
    if isinstance(path, str):
        return ("spec", "path"), path, False
    return None


def _read(ctx: DiffContext, side: str, relpath: str) -> bytes | None:
    source = ctx.old_files if side == "old" else ctx.new_files
    if source is None:
        return None
    try:
        return source.read(relpath)
    except SourceError:
        return None


def _records(data: bytes) -> int:
    return len([line for line in data.splitlines() if line.strip()])


def _diff_data(ctx: DiffContext) -> None:
    """Where the data lives and what it holds."""
    old_loc, new_loc = _location(ctx, "old"), _location(ctx, "new")
    ctx.claim("spec", "path")
    ctx.claim("spec", "storage")
    ctx.claim("spec", "records")
    flags = _purpose_flags(ctx)
    old_count, new_count = ctx.before("spec", "records"), ctx.after("spec", "records")
    counts = isinstance(old_count, int) and isinstance(new_count, int)
    moved = old_loc is None or new_loc is None or old_loc[1:] != new_loc[1:]
    compare_files = ctx.old_files is not None and ctx.new_files is not None
    if old_loc is None or new_loc is None:
        if old_loc != new_loc:
            ctx.hit("dataset/data-changed", ("spec",), "the data location was added or removed", flags=flags)
        return
    where = new_loc[0]
    if compare_files:
        old_id = ctx.file_identity("old", old_loc[1], old_loc[2])
        new_id = ctx.file_identity("new", new_loc[1], new_loc[2])
        data_same = old_id is not None and old_id == new_id
    else:
        data_same = not moved  # without the files, only the reference itself can be compared
    if data_same:
        if moved:
            ctx.hit(
                "dataset/location-changed", where, f"data moved {old_loc[1]} -> {new_loc[1]}, same content"
            )
        if counts and old_count != new_count:
            ctx.hit(
                "dataset/records-corrected",
                ("spec", "records"),
                f"expected record count {old_count} -> {new_count} with the same data",
            )
        return
    label = f"data at {new_loc[1]}" + (f" (was {old_loc[1]})" if moved else "")
    if not old_loc[2] and not new_loc[2] and compare_files:
        old_bytes, new_bytes = _read(ctx, "old", old_loc[1]), _read(ctx, "new", new_loc[1])
        if old_bytes is not None and new_bytes is not None:
            if new_bytes.startswith(old_bytes):
                ctx.hit("dataset/records-appended", where, f"{label}: records appended", flags=flags)
            elif _records(new_bytes) < _records(old_bytes):
                ctx.hit(
                    "dataset/records-removed",
                    where,
                    f"{label}: {_records(old_bytes)} -> {_records(new_bytes)} records",
                    flags=flags,
                )
            else:
                ctx.hit("dataset/records-corrected", where, f"{label}: records changed in place", flags=flags)
            return
    if counts and new_count < old_count:
        ctx.hit("dataset/records-removed", where, f"{label}: {old_count} -> {new_count} records", flags=flags)
    elif counts and new_count > old_count:
        ctx.hit(
            "dataset/records-appended", where, f"{label}: {old_count} -> {new_count} records", flags=flags
        )
    else:
        ctx.hit("dataset/data-changed", where, f"{label}: the data changed", flags=flags)


def _diff_splits(ctx: DiffContext) -> None:
    where = ("spec", "splits")
    ctx.claim(*where)
    old, new = ctx.before(*where), ctx.after(*where)
    old = old if isinstance(old, dict) else {}
    new = new if isinstance(new, dict) else {}
    changed_files = {w[2] for w, _, _ in ctx.referenced_file_changes() if w[:2] == where}
    for name in sorted(set(old) | set(new)):
        if name not in new:
            ctx.hit(
                "dataset/split-changed", (*where, name), f"split {name!r} removed", flags=_purpose_flags(ctx)
            )
        elif name not in old:
            ctx.hit("dataset/split-added", (*where, name), f"split {name!r} added")
        elif not same(old[name], new[name]) or name in changed_files:
            ctx.hit(
                "dataset/split-changed",
                (*where, name),
                f"split {name!r} now selects other records",
                flags=_purpose_flags(ctx),
            )


def _diff_schema(ctx: DiffContext) -> None:
    where = ("spec", "schema")
    ctx.claim(*where)
    old, new = ctx.before(*where), ctx.after(*where)
    if same(old, new):
        return
    if old is MISSING:
        ctx.hit("dataset/field-added", where, "a record schema now describes the records")
        return
    if new is MISSING:
        ctx.hit("dataset/schema-broken", where, "the record schema was removed")
        return
    for event in schema_events(old, new, where):
        ctx.hit(SCHEMA_RULES[event.what], event.path, f"record {event.note}", claim=False)


def _contains_pii(value: Any) -> bool:
    return isinstance(value, dict) and value.get("contains") is True


def diff(ctx: DiffContext) -> None:
    _diff_data(ctx)
    _diff_splits(ctx)
    _diff_schema(ctx)
    if _contains_pii(ctx.after("spec", "pii")) and not _contains_pii(ctx.before("spec", "pii")):
        ctx.hit(
            "dataset/pii-introduced",
            ("spec", "pii", "contains"),
            f"pii.contains {describe_value(ctx.before('spec', 'pii', 'contains'))} -> true",
        )
