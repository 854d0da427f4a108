"""The semantic diff engine: two versions of a manifest in, classified differences out.

Each kind has a differ (``versioning/kinds/``) that explains the differences it understands, claiming
the paths it explained, and a table of path patterns for the plain ones. Whatever remains unexplained
falls to ``manifest/unclassified-change`` (MAJOR), so a change can never pass unseen: the required
level is only ever lowered by a rule that knows better.

Values are compared as data: whitespace, comments, key order, quoting and number spelling
(``1`` vs ``1.0``) are not changes.
"""

from __future__ import annotations

import math
from collections.abc import Callable, Iterator, Sequence
from dataclasses import dataclass, field
from typing import Any

from ..manifests.repository import Manifest
from ..manifests.source import Source
from .catalog import CATALOG, EDITORIAL_ANNOTATION, EDITORIAL_VALUE
from .files import content_identity, referenced_files
from .model import JsonPath, Level, ManifestChange, RuleHit, Status, json_path


class _Missing:
    def __repr__(self) -> str:
        return "<missing>"


MISSING: Any = _Missing()
VERSION_PATH: JsonPath = ("spec", "version")

Pattern = tuple[str, ...]  # "*" matches one path element


def same(a: Any, b: Any) -> bool:
    """Equal as data: numbers by value (but never a bool as a number), NaN equal to NaN."""
    if isinstance(a, bool) or isinstance(b, bool):
        return isinstance(a, bool) and isinstance(b, bool) and a == b
    if isinstance(a, (int, float)) and isinstance(b, (int, float)):
        if isinstance(a, float) and isinstance(b, float) and math.isnan(a) and math.isnan(b):
            return True
        return a == b
    if isinstance(a, dict) and isinstance(b, dict):
        return a.keys() == b.keys() and all(same(a[k], b[k]) for k in a)
    if isinstance(a, list) and isinstance(b, list):
        return len(a) == len(b) and all(same(x, y) for x, y in zip(a, b, strict=True))
    if type(a) is not type(b):
        return False
    return bool(a == b)


def get(data: Any, path: Sequence[str | int]) -> Any:
    node = data
    for part in path:
        if isinstance(node, list):
            if not isinstance(part, int) or not 0 <= part < len(node):
                return MISSING
            node = node[part]
        elif isinstance(node, dict) and isinstance(part, str) and part in node:
            node = node[part]
        else:
            return MISSING
    return node


def leaf_differences(old: Any, new: Any, path: JsonPath = ()) -> Iterator[JsonPath]:
    """Paths where ``old`` and ``new`` differ, descending through mappings (also one-sided ones, so an
    added block is seen field by field); lists and scalars are compared whole."""
    if same(old, new):
        return
    old_map, new_map = isinstance(old, dict), isinstance(new, dict)
    if (old_map or old is MISSING) and (new_map or new is MISSING) and (old_map or new_map):
        keys = list(old) if old_map else []
        keys += [k for k in (new if new_map else {}) if k not in keys]
        for key in keys:
            yield from leaf_differences(
                old.get(key, MISSING) if old_map else MISSING,
                new.get(key, MISSING) if new_map else MISSING,
                (*path, key),
            )
        return
    yield path


def matches(pattern: Pattern, path: JsonPath) -> bool:
    if len(path) < len(pattern):
        return False
    return all(p == "*" or p == part for p, part in zip(pattern, path, strict=False))


def describe_value(value: Any) -> str:
    if value is MISSING:
        return "absent"
    text = repr(value)
    return text if len(text) <= 60 else text[:57] + "..."


@dataclass
class DiffContext:
    """What a kind differ works with; it records hits and claims the paths it explained."""

    old: Manifest
    new: Manifest
    old_files: Source | None
    new_files: Source | None
    hits: list[RuleHit] = field(default_factory=list)
    claimed: list[JsonPath] = field(default_factory=list)

    @property
    def editorial_claim(self) -> bool:
        return self.new.annotations.get(EDITORIAL_ANNOTATION, "").strip() == EDITORIAL_VALUE

    def before(self, *path: str | int) -> Any:
        return get(self.old.data, path)

    def after(self, *path: str | int) -> Any:
        return get(self.new.data, path)

    def changed(self, *path: str | int) -> bool:
        return not same(self.before(*path), self.after(*path))

    def claim(self, *path: str | int) -> None:
        self.claimed.append(tuple(path))

    def is_claimed(self, path: JsonPath) -> bool:
        return any(path[: len(c)] == c for c in self.claimed)

    def hit(
        self,
        rule_id: str,
        path: Sequence[str | int],
        message: str,
        *,
        flags: Sequence[str] = (),
        detail: dict[str, Any] | None = None,
        claim: bool = True,
    ) -> None:
        rule = CATALOG[rule_id]
        level = rule.level
        if rule.editorial_level is not None and self.editorial_claim:
            level = rule.editorial_level
            message += f" (claimed editorial by {EDITORIAL_ANNOTATION}: {EDITORIAL_VALUE}, so {level.label})"
        all_flags = tuple(dict.fromkeys((*rule.flags, *flags)))
        self.hits.append(RuleHit(rule_id, level, tuple(path), message, all_flags, dict(detail or {})))
        if claim:
            self.claim(*path)

    def value_change(self, rule_id: str, *path: str | int, what: str | None = None) -> bool:
        """Fire ``rule_id`` when the value at ``path`` differs; True when it did."""
        if not self.changed(*path):
            self.claim(*path)
            return False
        before, after = self.before(*path), self.after(*path)
        label = what or json_path(tuple(path))
        self.hit(rule_id, path, f"{label}: {describe_value(before)} -> {describe_value(after)}")
        return True

    def file_identity(self, side: str, relpath: str, is_pointer: bool) -> str | None:
        source = self.old_files if side == "old" else self.new_files
        return content_identity(source, relpath, is_pointer)

    def referenced_file_changes(self) -> list[tuple[JsonPath, str, str | None]]:
        """Referenced files whose content differs: (where in the new manifest, path, old path or None).

        Pairs the old and new reference at the same place, so a renamed pointer with the same hashes is
        no content change; only sources that were given are compared.
        """
        if self.old_files is None or self.new_files is None:
            return []
        old_refs = {where: (path, dvc) for where, path, dvc in referenced_files(self.old)}
        out: list[tuple[JsonPath, str, str | None]] = []
        for where, path, dvc in referenced_files(self.new):
            previous = old_refs.get(where)
            if previous is None or previous[1] != dvc:
                continue
            if self.file_identity("old", previous[0], dvc) != self.file_identity("new", path, dvc):
                out.append((where, path, previous[0]))
        return out


KindDiffer = Callable[[DiffContext], None]

# Plain differences shared by every kind, tried after the kind's own patterns.
COMMON_PATTERNS: tuple[tuple[Pattern, str], ...] = (
    (("metadata", "labels"), "manifest/labels-changed"),
    (("metadata", "annotations"), "manifest/annotations-changed"),
    (("spec", "description"), "manifest/description-changed"),
    (("apiVersion",), "manifest/api-version-changed"),
)


def _registry() -> dict[str, tuple[KindDiffer, tuple[tuple[Pattern, str], ...]]]:
    from .kinds import DIFFERS

    return DIFFERS


def _leaf(path: JsonPath) -> str:
    """The last field name of a path (with the list positions after it): what a reader recognises."""
    names = [i for i, part in enumerate(path) if isinstance(part, str)]
    return json_path(path[names[-1]:])[2:] if names else json_path(path)


def _classify_rest(ctx: DiffContext, patterns: tuple[tuple[Pattern, str], ...]) -> None:
    explained: dict[tuple[str, JsonPath], list[JsonPath]] = {}
    for path in leaf_differences(ctx.old.data, ctx.new.data):
        if path[: len(VERSION_PATH)] == VERSION_PATH or ctx.is_claimed(path):
            continue
        rule_id, anchor = "manifest/unclassified-change", path
        for pattern, candidate in (*patterns, *COMMON_PATTERNS):
            if matches(pattern, path):
                rule_id, anchor = candidate, path[: len(pattern)]
                break
        explained.setdefault((rule_id, anchor), []).append(path)
    for (rule_id, anchor), paths in explained.items():
        if len(paths) == 1:
            p = paths[0]
            before, after = get(ctx.old.data, p), get(ctx.new.data, p)
            message = f"{_leaf(p)}: {describe_value(before)} -> {describe_value(after)}"
        else:
            message = f"{json_path(anchor)} changed at " + ", ".join(json_path(p) for p in paths)
        ctx.hit(rule_id, anchor if len(paths) > 1 else paths[0], message)


def semantic_hits(
    old: Manifest, new: Manifest, old_files: Source | None = None, new_files: Source | None = None
) -> tuple[list[RuleHit], bool]:
    """The classified differences between two manifests of one kind, and whether an editorial claim
    was applied."""
    ctx = DiffContext(old, new, old_files, new_files)
    kind = new.kind or ""
    differ, patterns = _registry().get(kind, (None, ()))
    if differ is not None:
        differ(ctx)
    _classify_rest(ctx, patterns)
    claim_used = ctx.editorial_claim and any(CATALOG[h.rule].editorial_level is not None for h in ctx.hits)
    hits = sorted(ctx.hits, key=lambda h: (-h.level, h.rule, h.json_path))
    return hits, claim_used


def diff_manifests(
    old: Manifest | None,
    new: Manifest | None,
    *,
    old_files: Source | None = None,
    new_files: Source | None = None,
) -> ManifestChange:
    """Compare two versions of one artifact and say what bump the change demands.

    ``old`` and ``new`` are the same artifact (same kind and name) in two states; either may be None
    (added, removed). ``old_files``/``new_files`` are the sources the manifests were read from: when
    given, files the manifests reference (DVC pointers, dataset files, reports) are compared too, and a
    changed pointer hash is a change of the manifest. Never raises for odd content: anything no rule
    understands is reported as ``manifest/unclassified-change`` (MAJOR).
    """
    if old is None and new is None:
        raise ValueError("diff_manifests needs at least one manifest")
    ref = new if new is not None else old
    assert ref is not None
    kind, name = ref.kind or "", ref.name or ref.stem
    if old is None or new is None:
        return ManifestChange(
            kind,
            name,
            Status.ADDED if old is None else Status.REMOVED,
            old.version if old else None,
            new.version if new else None,
            old.relpath if old else None,
            new.relpath if new else None,
            ref.environment,
        )
    hits, claim_used = semantic_hits(old, new, old_files, new_files)
    status = (
        Status.CHANGED
        if hits or not same(get(old.data, VERSION_PATH), get(new.data, VERSION_PATH))
        else Status.UNCHANGED
    )
    return ManifestChange(
        kind,
        name,
        status,
        old.version,
        new.version,
        old.relpath,
        new.relpath,
        new.environment,
        hits,
        claim_used,
    )


def compare_environments(
    old: Sequence[Manifest],
    new: Sequence[Manifest],
    *,
    old_files: Source | None = None,
    new_files: Source | None = None,
) -> list[ManifestChange]:
    """Every artifact's change from one set of manifests to another, paired by (kind, name).

    For promotion ``old`` is the target environment's promotable manifests and ``new`` what it would
    receive (e.g. ``compare_environments(staging.promotable, dev.promotable, old_files=repo.source,
    new_files=repo.source)``). Sorted by kind and name; unchanged artifacts are included with status
    ``unchanged`` so callers see the whole picture.
    """

    def index(ms: Sequence[Manifest]) -> dict[tuple[str, str], Manifest]:
        return {(m.kind or "", m.name or m.stem): m for m in ms}

    before, after = index(old), index(new)
    keys = sorted(set(before) | set(after))
    return [
        diff_manifests(before.get(k), after.get(k), old_files=old_files, new_files=new_files) for k in keys
    ]


__all__ = ["MISSING", "DiffContext", "Level", "compare_environments", "diff_manifests", "semantic_hits"]
