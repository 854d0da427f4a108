"""Every content a set of paths ever had in a ref's history, with one ``git log`` walk.

The walk is limited to the given paths, so git only diffs those paths per commit; merges are diffed
against their first parent, so a blob a merge introduced (a conflict resolution) is seen too.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass

from .git import Git


@dataclass(frozen=True)
class HistoryEntry:
    commit: str
    path: str
    blob: str


def path_history(git: Git, rev: str, pathspecs: Iterable[str]) -> list[HistoryEntry]:
    """(commit, path, blob) for each commit of ``rev``'s history that wrote one of ``pathspecs``.

    Pathspecs may use git's ``:(glob)`` magic. Newest first; deletions are left out.
    """
    specs = sorted(set(pathspecs))
    if not specs:
        return []
    raw = git.run("log", "--format=%x01%H", "--raw", "--no-abbrev", "--no-renames", "-z",
                  "--diff-merges=first-parent", rev, "--", *specs)
    return parse_log(raw)


def parse_log(raw: bytes) -> list[HistoryEntry]:
    """Entries of ``git log --format=%x01%H --raw --no-abbrev -z`` output; deletions are left out."""
    out: list[HistoryEntry] = []
    for chunk in raw.split(b"\x01")[1:]:
        tokens = chunk.split(b"\0")
        commit = tokens[0].decode().strip()
        i = 1
        while i + 1 < len(tokens):
            meta = tokens[i].strip()
            if not meta.startswith(b":"):
                i += 1
                continue
            fields = meta[1:].split()
            path = tokens[i + 1].decode("utf-8", "surrogateescape")
            i += 2
            if len(fields) < 5 or fields[4].startswith(b"D"):
                continue
            mode, blob = fields[1].decode(), fields[3].decode()
            if mode.startswith("100") or mode == "120000":
                out.append(HistoryEntry(commit, path, blob))
    return out
