"""Every blob the manifest folders ever held in a ref's history, walked once and then kept up to date.

Checking that a published version never changes needs the history of the changed manifests' paths.
Walking a long history costs time in proportion to it (git must read each commit's trees), however
few manifests changed. The ledger walks ``environments/`` once with one ``git log --raw`` and keeps the
(commit, blob, path) lines in ``<git dir>/llmgitops/``; later runs walk only the commits added since,
so in steady state (a server's pre-receive hook, a developer's clone, a CI cache of ``.git``) the cost
follows the new commits. One ledger per ref; a ref that moved anywhere but forward is walked again.
When the git directory cannot be written the walk result is used once and not kept.
"""

from __future__ import annotations

import re
from pathlib import Path

from ..atomicfile import write_bytes
from .git import Git
from .history import HistoryEntry, parse_log

PREFIX = "environments/"
HEADER = "llmgitops-ledger v1 "
_SAFE = re.compile(r"[^A-Za-z0-9._-]+")


def _directory(git: Git) -> Path:
    common = git.text("rev-parse", "--git-common-dir")
    path = Path(common)
    return (path if path.is_absolute() else git.root / path) / "llmgitops"


def _walk(git: Git, revs: list[str]) -> list[HistoryEntry]:
    raw = git.run("log", "--format=%x01%H", "--raw", "--no-abbrev", "--no-renames", "-z",
                  "--diff-merges=first-parent", *revs, "--", PREFIX)
    return parse_log(raw)


def _lines(entries: list[HistoryEntry]) -> bytes:
    return b"".join(f"{e.commit} {e.blob} {e.path}\n".encode("utf-8", "surrogateescape")
                    for e in entries if "\n" not in e.path)


def _load(path: Path) -> tuple[str | None, bytes]:
    """(tip, body) of a ledger file; (None, b"") when there is none or it is not one."""
    try:
        data = path.read_bytes()
    except OSError:
        return None, b""
    header, _, body = data.partition(b"\n")
    text = header.decode("ascii", "replace")
    if not text.startswith(HEADER) or not re.fullmatch(r"[0-9a-f]{40,64}", text[len(HEADER):]):
        return None, b""
    return text[len(HEADER):], body


def _store(path: Path, tip: str, body: bytes) -> None:
    try:
        write_bytes(path, (HEADER + tip + "\n").encode("ascii") + body, mode=0o644)
    except OSError:
        return  # a read-only repository: the walk still answered this run


def manifest_history(git: Git, rev: str, key: str, wanted: set[tuple[str, str]]) -> list[HistoryEntry]:
    """(commit, path, blob) of every version ``environments/<env>/<folder>/<name>.yaml|.yml`` had in
    ``rev``'s history, for (folder, name) in ``wanted``; newest first.

    ``rev`` is a commit id; ``key`` names the ledger (the ref ``rev`` came from).
    """
    path = _directory(git) / ("history-" + _SAFE.sub("_", key).strip("_")[:100])
    tip, body = _load(path)
    if tip != rev:
        if tip is not None and git.succeeds("merge-base", "--is-ancestor", tip, rev):
            body = _lines(_walk(git, [rev, f"^{tip}"])) + body
        else:
            body = _lines(_walk(git, [rev]))
        _store(path, rev, body)
    return _find(body, wanted)


def _find(body: bytes, wanted: set[tuple[str, str]]) -> list[HistoryEntry]:
    if not wanted:
        return []
    names = b"|".join(re.escape(f"{folder}/{name}".encode()) for folder, name in sorted(wanted))
    pattern = re.compile(rb"^([0-9a-f]+) ([0-9a-f]+) (environments/[^/\n]+/(?:" + names + rb")\.ya?ml)$", re.M)
    return [HistoryEntry(m.group(1).decode(), m.group(3).decode("utf-8", "surrogateescape"), m.group(2).decode())
            for m in pattern.finditer(body)]
