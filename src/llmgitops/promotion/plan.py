"""The promotion plan: what moves from one environment folder to the next, read from a Git commit.

Each promotable manifest of FROM that is new or different in TO is added or updated, each manifest of
TO that FROM no longer has is removed. Environment files are never part of a plan. With ``--only``
the selection is closed over references: a Prompt brings the Model version it needs along unless TO
already has one that satisfies the Prompt's range.
"""

from __future__ import annotations

import hashlib
import json
from dataclasses import dataclass, field
from typing import Any

from ..errors import UsageError
from ..findings import Finding
from ..manifests.kinds import ENVIRONMENTS_DIR, KINDS
from ..manifests.ranges import RangeError, parse_range
from ..manifests.references import references
from ..manifests.repository import EnvironmentState, Manifest, Repository
from ..pipeline.release import git_blob_id
from ..versioning import Level, ManifestChange, diff_manifests

ADD, UPDATE, REMOVE = "add", "update", "remove"
Key = tuple[str, str]


@dataclass(frozen=True)
class PlanItem:
    kind: str
    name: str
    action: str
    old_version: str | None
    new_version: str | None
    source_path: str | None  # the FROM file copied (None for a removal)
    target_path: str  # the TO file written or removed
    old_target_path: str | None  # TO's current file, when it has another name than the new one
    blob: str | None  # Git blob id of the FROM file: what TO receives, byte for byte
    old_blob: str | None
    change: ManifestChange = field(compare=False, hash=False)
    required_by: tuple[str, ...] = ()  # with --only: the selected artifacts that pulled this one in

    @property
    def ref(self) -> str:
        return f"{self.kind}/{self.name}"

    @property
    def required(self) -> Level:
        return self.change.required

    @property
    def flags(self) -> tuple[str, ...]:
        return self.change.flags

    def to_dict(self) -> dict[str, Any]:
        data: dict[str, Any] = {
            "kind": self.kind, "name": self.name, "action": self.action, "from": self.old_version,
            "to": self.new_version, "bump": self.required.label, "flags": list(self.flags),
            "rules": [h.to_dict() for h in self.change.hits], "source": self.source_path,
            "target": self.target_path, "blob": self.blob,
        }
        if self.required_by:
            data["requiredBy"] = list(self.required_by)
        return data


@dataclass
class Plan:
    source: str
    target: str
    base: str  # the commit both folders were read from
    items: list[PlanItem]
    findings: list[Finding] = field(default_factory=list)
    only: tuple[str, ...] = ()
    repository: Repository | None = field(default=None, repr=False)

    @property
    def hash(self) -> str:
        """Names the promotion: the same artifacts moving onto the same TO content hash the same."""
        canonical = json.dumps({"from": self.source, "to": self.target,
                                "items": [[i.kind, i.name, i.action, i.old_blob, i.blob] for i in self.items]},
                               sort_keys=True, separators=(",", ":"))
        return hashlib.sha256(canonical.encode()).hexdigest()

    @property
    def branch(self) -> str:
        return f"promote/{self.target}/{self.hash[:12]}"

    @property
    def empty(self) -> bool:
        return not self.items

    def to_dict(self) -> dict[str, Any]:
        return {"from": self.source, "to": self.target, "base": self.base, "planHash": self.hash,
                "branch": self.branch, "only": list(self.only), "items": [i.to_dict() for i in self.items]}


def _promotable(state: EnvironmentState) -> dict[Key, Manifest]:
    out: dict[Key, Manifest] = {}
    for m in state.promotable:
        if m.kind is not None and m.name is not None:
            out.setdefault((m.kind, m.name), m)
    return out


def _inside(relpath: str, env: str) -> str:
    """environments/<env>/<folder>/<file> -> <folder>/<file>"""
    return relpath.split("/", 2)[2]


def parse_only(values: tuple[str, ...]) -> set[Key]:
    selected: set[Key] = set()
    for value in values:
        kind, sep, name = value.partition("/")
        if not sep or kind not in KINDS or not KINDS[kind].promotable or not name:
            kinds = ", ".join(k for k in KINDS if KINDS[k].promotable)
            raise UsageError(f"--only {value!r} is not KIND/NAME", f"KIND is one of {kinds}")
        selected.add((kind, name))
    return selected


def _satisfied(manifests: dict[Key, Manifest], kind: str, name: str, range_text: str) -> bool:
    target = manifests.get((kind, name))
    if target is None or target.version is None:
        return False
    try:
        return parse_range(range_text).satisfied_by(target.version)
    except RangeError:
        return False


def build_plan(repo: Repository, source: str, target: str, base: str, only: tuple[str, ...] = ()) -> Plan:
    names = repo.environment_names()
    for env in (source, target):
        if env not in names:
            raise UsageError(f"there is no environment {env!r}", f"environments: {', '.join(names) or 'none'}")
    if source == target:
        raise UsageError("FROM and TO are the same environment")
    src, dst = _promotable(repo.environment(source)), _promotable(repo.environment(target))

    candidates: dict[Key, str] = {}
    for key, m in src.items():
        if key not in dst:
            candidates[key] = ADD
        elif dst[key].raw != m.raw:
            candidates[key] = UPDATE
    for key in dst:
        if key not in src:
            candidates[key] = REMOVE

    chosen: dict[Key, tuple[str, ...]] = {}
    if only:
        selected = parse_only(only)
        unknown = sorted(f"{k}/{n}" for k, n in selected if (k, n) not in candidates)
        if unknown:
            raise UsageError(f"--only names what does not differ between {source} and {target}: "
                             f"{', '.join(unknown)}", "run with --dry-run to see the full plan")
        chosen = {key: () for key in selected}
        _close(src, dst, candidates, chosen)
    else:
        chosen = {key: () for key in candidates}

    items = []
    source_files = repo.source
    for key in sorted(chosen):
        action = candidates[key]
        new, old = src.get(key), dst.get(key)
        change = diff_manifests(old, new, old_files=source_files, new_files=source_files)
        if action == REMOVE:
            assert old is not None
            items.append(PlanItem(key[0], key[1], REMOVE, old.version, None, None, old.relpath, None, None,
                                  git_blob_id(old.raw), change, chosen[key]))
            continue
        assert new is not None
        target_path = f"{ENVIRONMENTS_DIR}/{target}/{_inside(new.relpath, source)}"
        old_path = old.relpath if old is not None and old.relpath != target_path else None
        items.append(PlanItem(key[0], key[1], action, old.version if old else None, new.version, new.relpath,
                              target_path, old_path, git_blob_id(new.raw), git_blob_id(old.raw) if old else None,
                              change, chosen[key]))
    return Plan(source, target, base, items, [], tuple(sorted(only)), repo)


def _result(src: dict[Key, Manifest], dst: dict[Key, Manifest], actions: dict[Key, str]) -> dict[Key, Manifest]:
    """TO's manifests as they would be after the chosen actions."""
    out = dict(dst)
    for key, action in actions.items():
        if action == REMOVE:
            out.pop(key, None)
        else:
            out[key] = src[key]
    return out


def _close(src: dict[Key, Manifest], dst: dict[Key, Manifest], candidates: dict[Key, str],
           chosen: dict[Key, tuple[str, ...]]) -> None:
    """Add to ``chosen`` every candidate a chosen artifact needs and TO would otherwise not satisfy."""
    changed = True
    while changed:
        changed = False
        result = _result(src, dst, {k: candidates[k] for k in chosen})
        for key in sorted(chosen):
            if candidates[key] == REMOVE:
                continue
            for ref in references(src[key]):
                dep = (ref.kind, ref.name)
                if _satisfied(result, ref.kind, ref.name, ref.range):
                    continue
                if dep in candidates and dep not in chosen and candidates[dep] != REMOVE \
                        and _satisfied(src, ref.kind, ref.name, ref.range):
                    chosen[dep] = (f"{key[0]}/{key[1]}",)
                    changed = True
                elif dep in chosen and chosen[dep] and f"{key[0]}/{key[1]}" not in chosen[dep]:
                    chosen[dep] = (*chosen[dep], f"{key[0]}/{key[1]}")

