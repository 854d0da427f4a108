"""Files manifests name exist inside the repository; DVC pointers parse and carry a hash."""

from __future__ import annotations

import posixpath
from typing import Any

from ..findings import Finding
from ..manifests.loader import load_bytes
from ..manifests.references import file_paths
from ..manifests.repository import EnvironmentState, Manifest, Repository
from ..manifests.source import SourceError, unsafe_reference

HASH_FIELDS = ("md5", "etag", "checksum", "sha256")


def check(repo: Repository, state: EnvironmentState) -> list[Finding]:
    findings: list[Finding] = []
    for m in state.promotable:
        for where, relpath, is_pointer in file_paths(m):
            findings.extend(_check_path(repo, m, where, relpath, is_pointer))
    return findings


def _check_path(repo: Repository, m: Manifest, where: tuple[str | int, ...], relpath: str,
                is_pointer: bool) -> list[Finding]:
    unsafe = unsafe_reference(relpath)
    if unsafe:
        return [m.finding(where, "path/escape", f"{relpath!r}: {unsafe}")]
    if is_pointer and not relpath.endswith(".dvc"):
        return [m.finding(where, "dvc/not-a-pointer", f"{relpath!r} is not a DVC pointer file (*.dvc)",
                          "point at the .dvc file that `dvc add` wrote, not the data itself")]
    try:
        raw = repo.source.read(relpath)
    except SourceError as exc:
        rule = "dvc/missing-pointer" if is_pointer and exc.rule == "path/missing" else exc.rule
        hint = "run `dvc add <data>` and commit the .dvc file" if is_pointer else None
        return [m.finding(where, rule, exc.message, hint)]
    if not is_pointer:
        return []
    return _check_pointer(m, where, relpath, raw)


def _check_pointer(m: Manifest, where: tuple[str | int, ...], relpath: str, raw: bytes) -> list[Finding]:
    loaded = load_bytes(raw, relpath)
    if loaded.document is None:
        problem = loaded.findings[0].message if loaded.findings else "unreadable"
        return [m.finding(where, "dvc/invalid-pointer", f"{relpath} does not parse: {problem}")]
    outs: Any = loaded.document.data.get("outs")
    if not isinstance(outs, list) or not outs:
        return [m.finding(where, "dvc/invalid-pointer", f"{relpath} has no 'outs' list")]
    findings = []
    for i, out in enumerate(outs):
        if not isinstance(out, dict) or not isinstance(out.get("path"), str):
            findings.append(m.finding(where, "dvc/invalid-pointer", f"{relpath}: outs[{i}] has no path"))
            continue
        if not any(isinstance(out.get(h), str) and out.get(h) for h in HASH_FIELDS):
            findings.append(m.finding(where, "dvc/missing-hash",
                                      f"{relpath}: outs[{i}] ({out['path']}) carries no hash",
                                      "re-run `dvc add` (or `dvc commit`) so the pointer records md5 and size"))
        target = posixpath.join(posixpath.dirname(relpath), out["path"])
        if unsafe_reference(posixpath.normpath(target)) or unsafe_reference(out["path"]):
            findings.append(m.finding(where, "path/escape",
                                      f"{relpath}: outs[{i}] path {out['path']!r} leaves the repository"))
    return findings
