"""Files a manifest references, and what counts as their content.

A DVC pointer's content is the hashes it records (``md5``, ``size``… per out), so reformatting a pointer
is no change while ``dvc add`` of new data is. Any other referenced file's content is the sha256 of its
bytes. Sources that can hash without holding the whole file (a Git tree, a working tree) do so.
"""

from __future__ import annotations

import hashlib
import json
from collections.abc import Iterable
from typing import Any, Protocol, runtime_checkable

from ..manifests.loader import load_bytes
from ..manifests.references import file_paths
from ..manifests.repository import Manifest
from ..manifests.source import Source, SourceError, WorkingTree, unsafe_reference
from .model import JsonPath

POINTER_FIELDS = ("md5", "etag", "checksum", "sha256", "size", "nfiles", "hash")


@runtime_checkable
class Digests(Protocol):
    def digest(self, relpath: str) -> str | None:
        """sha256 of the whole file, or None when it does not exist or cannot be read."""
        ...


def referenced_files(manifest: Manifest) -> list[tuple[JsonPath, str, bool]]:
    """(where, repository path, is a DVC pointer) for every file whose content is part of the manifest."""
    out = list(file_paths(manifest))
    if manifest.kind == "Dataset":
        splits = manifest.spec.get("splits")
        if isinstance(splits, dict):
            for name, split in sorted(splits.items()):
                if isinstance(split, dict) and isinstance(split.get("path"), str):
                    out.append((("spec", "splits", name, "path"), split["path"], False))
    return [(where, path, dvc) for where, path, dvc in out if unsafe_reference(path) is None]


def all_referenced_paths(manifests: Iterable[Manifest]) -> list[str]:
    return sorted({path for m in manifests for _, path, _ in referenced_files(m)})


def _working_tree_digest(tree: WorkingTree, relpath: str) -> str | None:
    if tree.escapes(relpath):
        return None
    path = tree.root / relpath
    if not path.is_file():
        return None
    h = hashlib.sha256()
    try:
        with open(path, "rb") as fh:
            for block in iter(lambda: fh.read(1 << 20), b""):
                h.update(block)
    except OSError:
        return None
    return h.hexdigest()


def file_digest(source: Source | None, relpath: str) -> str | None:
    """sha256 of a repository file as ``source`` holds it; None when absent or unreadable."""
    if source is None:
        return None
    if isinstance(source, Digests):
        return source.digest(relpath)
    if isinstance(source, WorkingTree):
        return _working_tree_digest(source, relpath)
    try:
        return hashlib.sha256(source.read(relpath)).hexdigest()
    except SourceError:
        return None


def pointer_identity(source: Source | None, relpath: str) -> str | None:
    """What a DVC pointer says about its data: the recorded hashes and sizes, formatting aside."""
    if source is None:
        return None
    try:
        raw = source.read(relpath)
    except SourceError:
        return None
    loaded = load_bytes(raw, relpath)
    outs: Any = loaded.document.data.get("outs") if loaded.document is not None else None
    if not isinstance(outs, list):
        return "raw:" + hashlib.sha256(raw).hexdigest()
    summary = []
    for out in outs:
        if isinstance(out, dict):
            summary.append({k: out.get(k) for k in ("path", *POINTER_FIELDS) if k in out})
        else:
            summary.append({"invalid": repr(out)})
    return json.dumps(summary, sort_keys=True, default=str)


def content_identity(source: Source | None, relpath: str, is_pointer: bool) -> str | None:
    return pointer_identity(source, relpath) if is_pointer else file_digest(source, relpath)
