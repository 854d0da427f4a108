"""What a semantic diff produces: levels, rule hits, and the change of one manifest between two states."""

from __future__ import annotations

from dataclasses import dataclass, field
from enum import IntEnum, StrEnum
from typing import Any

from ..manifests.ranges import parse_version

JsonPath = tuple[str | int, ...]

# Flags the pipeline acts on; a hit may carry several.
REQUIRES_REEMBED = "requires-reembed"
REQUIRES_INDEX_REBUILD = "requires-index-rebuild"
REQUIRES_RETRAIN = "requires-retrain"
REQUIRES_REBASELINE = "requires-rebaseline"
GATE_RELAXATION = "gate-relaxation"
FLAGS = (REQUIRES_REEMBED, REQUIRES_INDEX_REBUILD, REQUIRES_RETRAIN, REQUIRES_REBASELINE, GATE_RELAXATION)


class Level(IntEnum):
    """How far a version must move. Ordered, so the required level of a change is the max of its hits."""

    NONE = 0
    PATCH = 1
    MINOR = 2
    MAJOR = 3

    @property
    def label(self) -> str:
        return self.name.lower()

    @classmethod
    def parse(cls, text: str) -> Level:
        return cls[text.upper()]


class Status(StrEnum):
    ADDED = "added"
    REMOVED = "removed"
    CHANGED = "changed"
    UNCHANGED = "unchanged"


def json_path(path: JsonPath) -> str:
    """``("spec", "messages", 0, "content")`` as ``$.spec.messages[0].content`` (keys that are not
    identifiers are bracket-quoted, so the text maps back to exactly one path)."""
    out = "$"
    for part in path:
        if isinstance(part, int):
            out += f"[{part}]"
        elif part.isidentifier():
            out += f".{part}"
        else:
            out += "[" + repr(part) + "]"
    return out


@dataclass(frozen=True)
class RuleHit:
    """One classified difference: which rule fired, where, what it demands."""

    rule: str
    level: Level
    path: JsonPath
    message: str
    flags: tuple[str, ...] = ()
    detail: dict[str, Any] = field(default_factory=dict, compare=False, hash=False)

    @property
    def json_path(self) -> str:
        return json_path(self.path)

    def to_dict(self) -> dict[str, Any]:
        data: dict[str, Any] = {
            "rule": self.rule,
            "level": self.level.label,
            "path": self.json_path,
            "message": self.message,
            "flags": list(self.flags),
        }
        if self.detail:
            data["detail"] = self.detail
        return data


def achieved_level(old: str, new: str) -> Level | None:
    """The level a move from ``old`` to ``new`` reaches, or None when ``new`` is not greater.

    Consistent with caret ranges (``^0.3.1`` admits ``0.3.x`` only): below 1.0.0 the first non-zero
    component is the breaking one, as in Cargo. A pre-release promises nothing, so leaving one for any
    greater version satisfies every requirement.
    """
    o, n = parse_version(old), parse_version(new)
    if o is None or n is None or n.compare(o) <= 0:
        return None
    if o.prerelease:
        return Level.MAJOR
    if n.major != o.major:
        return Level.MAJOR
    if o.major == 0:
        if n.minor != o.minor or o.minor == 0:
            return Level.MAJOR
        return Level.MINOR
    if n.minor != o.minor:
        return Level.MINOR
    if n.patch != o.patch:
        return Level.PATCH
    # same core, new is a pre-release of it is impossible (it would be lower); build metadata only
    return None


def minimal_version(old: str, level: Level) -> str:
    """The smallest version after ``old`` that reaches ``level`` (see :func:`achieved_level`)."""
    o = parse_version(old)
    if o is None:
        raise ValueError(f"{old!r} is not a semantic version")
    if level is Level.NONE:
        return old
    if o.prerelease:
        return str(o.finalize_version())
    if o.major == 0:
        if o.minor == 0:
            return str(o.bump_patch())  # under ^0.0.z every move is breaking, so the smallest one will do
        return str(o.bump_minor()) if level is Level.MAJOR else str(o.bump_patch())
    if level is Level.MAJOR:
        return str(o.bump_major())
    if level is Level.MINOR:
        return str(o.bump_minor())
    return str(o.bump_patch())


def increment(old: str, level: Level) -> str:
    """``old`` with the named component incremented (``bump --level``): plain semver, no 0.x rule."""
    o = parse_version(old)
    if o is None:
        raise ValueError(f"{old!r} is not a semantic version")
    if level is Level.MAJOR:
        return str(o.bump_major())
    if level is Level.MINOR:
        return str(o.bump_minor())
    if level is Level.PATCH:
        return str(o.bump_patch()) if not o.prerelease else str(o.finalize_version())
    return old


@dataclass
class ManifestChange:
    """How one artifact (a kind and a name in one environment) differs between two states.

    ``required`` is the minimum bump the content change demands (the max over ``hits``); ``flags`` the
    union of the hits' flags. ``old``/``new`` paths are repository-relative; either is None when the
    artifact was added or removed.
    """

    kind: str
    name: str
    status: Status
    old_version: str | None
    new_version: str | None
    old_path: str | None = None
    new_path: str | None = None
    environment: str | None = None
    hits: list[RuleHit] = field(default_factory=list)
    editorial_claim: bool = False

    @property
    def required(self) -> Level:
        return max((h.level for h in self.hits), default=Level.NONE)

    @property
    def flags(self) -> tuple[str, ...]:
        present = {f for h in self.hits for f in h.flags}
        return tuple(f for f in FLAGS if f in present)

    @property
    def content_changed(self) -> bool:
        return bool(self.hits)

    @property
    def version_changed(self) -> bool:
        return self.old_version != self.new_version

    @property
    def achieved(self) -> Level | None:
        """The level the version move reaches; None when it did not move forward (or either is missing)."""
        if self.old_version is None or self.new_version is None:
            return None
        return achieved_level(self.old_version, self.new_version)

    @property
    def path(self) -> str | None:
        return self.new_path or self.old_path

    def rules_for(self, level: Level) -> list[RuleHit]:
        return [h for h in self.hits if h.level is level]

    def to_dict(self) -> dict[str, Any]:
        return {
            "kind": self.kind,
            "name": self.name,
            "environment": self.environment,
            "path": self.path,
            "status": self.status.value,
            "oldVersion": self.old_version,
            "newVersion": self.new_version,
            "required": self.required.label,
            "achieved": self.achieved.label if self.achieved is not None else None,
            "flags": list(self.flags),
            "editorialClaim": self.editorial_claim,
            "hits": [h.to_dict() for h in self.hits],
        }
