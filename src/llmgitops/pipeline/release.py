"""What an environment holds (its release), the state hash that names it, and what changed since the last one.

An environment's *release* is the identity of every promotable artifact in it (kind, name, version, file
and Git blob id) plus the blob id of its environment.yaml. Its hash names the pipeline run that deploys
it, so the same state always maps to the same Workflow name.

The rendered release record (``workflows/<env>/release.yaml``, a ConfigMap) keeps the release and the
changes that led to it. Rendering reads the record committed at HEAD: when the environment still matches
it, the recorded changes are reused, so rendering is a pure function of the repository's content (a
shallow clone renders the same bytes as a full one); when it does not, the changes are computed with the
versioning engine against the recorded blobs, which Git still holds.
"""

from __future__ import annotations

import hashlib
import json
from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass, field
from typing import Any

from ..manifests.kinds import ENVIRONMENTS_DIR, KINDS
from ..manifests.loader import load_bytes
from ..manifests.repository import EnvironmentState, Manifest, expected_kind
from .model import check_kind, check_name, check_version

ADDED, CHANGED, REMOVED = "added", "changed", "removed"
RECORD_VERSION = 1

BlobReader = Callable[[Sequence[str]], dict[str, bytes]]


def git_blob_id(raw: bytes) -> str:
    """The id Git gives these bytes as a blob, so a recorded file can be read back with `git cat-file`."""
    return hashlib.sha1(b"blob %d\x00" % len(raw) + raw, usedforsecurity=False).hexdigest()


@dataclass(frozen=True, order=True)
class Entry:
    kind: str
    name: str
    version: str
    path: str  # inside the environment folder, e.g. prompts/answer.yaml
    blob: str

    def to_dict(self) -> dict[str, str]:
        return {"kind": self.kind, "name": self.name, "version": self.version, "path": self.path,
                "blob": self.blob}

    @property
    def key(self) -> tuple[str, str]:
        return (self.kind, self.name)


@dataclass(frozen=True, order=True)
class Change:
    """One artifact's move between two releases, with the flags the versioning engine raised."""

    kind: str
    name: str
    status: str
    old_version: str | None
    new_version: str | None
    required: str = "none"
    flags: tuple[str, ...] = ()

    @property
    def key(self) -> tuple[str, str]:
        return (self.kind, self.name)

    def to_dict(self) -> dict[str, Any]:
        return {"kind": self.kind, "name": self.name, "status": self.status, "from": self.old_version,
                "to": self.new_version, "required": self.required, "flags": list(self.flags)}

    @classmethod
    def from_dict(cls, data: Any) -> Change:
        if not isinstance(data, dict):
            raise ValueError("a change is not a mapping")
        flags = data.get("flags") or []
        if not isinstance(flags, list) or not all(isinstance(f, str) for f in flags):
            raise ValueError("flags are not a list of strings")
        status = data.get("status")
        if status not in (ADDED, CHANGED, REMOVED):
            raise ValueError(f"unknown change status {status!r}")
        old, new = data.get("from"), data.get("to")
        return cls(check_kind(data.get("kind")), check_name(data.get("name")), status,
                   None if old is None else check_version(old), None if new is None else check_version(new),
                   str(data.get("required", "none")), tuple(flags))


@dataclass(frozen=True)
class Release:
    environment: str
    entries: tuple[Entry, ...]
    environment_blob: str
    changes: tuple[Change, ...] = ()
    manifests: dict[tuple[str, str], Manifest] = field(default_factory=dict, compare=False, hash=False)

    @property
    def state(self) -> str:
        """sha256 over the artifact identities and the environment file: the name of this state."""
        canonical = json.dumps({"environment": self.environment, "environmentFile": self.environment_blob,
                                "artifacts": [e.to_dict() for e in self.entries]},
                               sort_keys=True, separators=(",", ":"))
        return hashlib.sha256(canonical.encode()).hexdigest()

    def entry(self, kind: str, name: str) -> Entry | None:
        return next((e for e in self.entries if e.kind == kind and e.name == name), None)

    def versions(self) -> dict[str, str]:
        return {f"{e.kind}/{e.name}": e.version for e in self.entries}

    def to_dict(self) -> dict[str, Any]:
        return {"recordVersion": RECORD_VERSION, "environment": self.environment, "state": self.state,
                "environmentFile": self.environment_blob, "artifacts": [e.to_dict() for e in self.entries],
                "changes": [c.to_dict() for c in self.changes]}

    def with_changes(self, changes: Iterable[Change]) -> Release:
        return Release(self.environment, self.entries, self.environment_blob, tuple(sorted(changes)),
                       self.manifests)


def release_of(state: EnvironmentState) -> Release:
    """The release an environment folder holds. Manifests without a valid name or version are left out:
    validation reports them, and a pipeline is only built for an environment that validates."""
    entries: list[Entry] = []
    manifests: dict[tuple[str, str], Manifest] = {}
    prefix = f"{ENVIRONMENTS_DIR}/{state.name}/"
    for m in state.promotable:
        if m.kind is None or m.name is None or m.version is None or not m.relpath.startswith(prefix):
            continue
        entries.append(Entry(m.kind, m.name, m.version, m.relpath[len(prefix):], git_blob_id(m.raw)))
        manifests[(m.kind, m.name)] = m
    env = state.environment
    env_blob = git_blob_id(env.raw) if env is not None else ""
    return Release(state.name, tuple(sorted(entries)), env_blob, (), manifests)


def release_from_dict(data: Any) -> Release:
    """A release record read back; ValueError when it is not one this version wrote."""
    if not isinstance(data, dict) or data.get("recordVersion") != RECORD_VERSION:
        raise ValueError("not a release record of this version")
    entries = []
    for item in data.get("artifacts") or []:
        if not isinstance(item, dict):
            raise ValueError("an artifact entry is not a mapping")
        path, blob = item.get("path"), item.get("blob")
        if not isinstance(path, str) or not isinstance(blob, str):
            raise ValueError("an artifact entry lacks path or blob")
        entries.append(Entry(check_kind(item.get("kind")), check_name(item.get("name")),
                             check_version(item.get("version")), path, blob))
    env_blob = data.get("environmentFile")
    if not isinstance(env_blob, str):
        raise ValueError("the record lacks environmentFile")
    return Release(check_name(data.get("environment")), tuple(sorted(entries)), env_blob,
                   tuple(sorted(Change.from_dict(c) for c in data.get("changes") or [])))


def _manifest_from_blob(environment: str, entry: Entry, raw: bytes) -> Manifest | None:
    relpath = f"{ENVIRONMENTS_DIR}/{environment}/{entry.path}"
    result = load_bytes(raw, relpath)
    if result.document is None:
        return None
    _, kind, _ = expected_kind(relpath)
    return Manifest(relpath, environment, kind or KINDS.get(entry.kind), result.document, raw)


def changes_between(old: Release | None, new: Release, read_blobs: BlobReader | None = None) -> list[Change]:
    """What moved from ``old`` to ``new``, classified by the versioning engine.

    Old manifests come from ``old.manifests`` when it was loaded here, else from Git by their recorded
    blob ids (``read_blobs``); an old blob Git no longer has is treated as if the artifact were new, which
    asks the pipeline for every step it could need (train, re-index) rather than too few.
    """
    from ..versioning import diff_manifests

    old_entries = {e.key: e for e in (old.entries if old else ())}
    new_entries = {e.key: e for e in new.entries}
    in_memory = old.manifests if old is not None else {}
    wanted = [e.blob for k, e in old_entries.items()
              if k in new_entries and e.blob != new_entries[k].blob and k not in in_memory]
    blobs = read_blobs(wanted) if (read_blobs and wanted) else {}
    out: list[Change] = []
    for key in sorted(set(old_entries) | set(new_entries)):
        before, after = old_entries.get(key), new_entries.get(key)
        if after is None:
            assert before is not None
            out.append(Change(before.kind, before.name, REMOVED, before.version, None))
            continue
        if before is not None and before.blob == after.blob:
            continue
        new_manifest = new.manifests.get(key)
        old_manifest = old.manifests.get(key) if old is not None else None
        if old_manifest is None and before is not None and before.blob in blobs:
            old_manifest = _manifest_from_blob(new.environment, before, blobs[before.blob])
        if before is None or old_manifest is None or new_manifest is None:
            out.append(Change(after.kind, after.name, ADDED, before.version if before else None, after.version))
            continue
        # bytes differ, so the artifact changed even when the diff finds the data equal (comments, layout)
        diff = diff_manifests(old_manifest, new_manifest)
        out.append(Change(after.kind, after.name, CHANGED, before.version, after.version,
                          diff.required.label, diff.flags))
    return out
