"""Revisions, what changed between two of them, and the ref updates hooks receive on standard input."""

from __future__ import annotations

import re
from dataclasses import dataclass

from ..errors import EXIT_USAGE, LLMGitOpsError
from .git import Git
from .tree import INDEX, WORKTREE

_ZERO = re.compile(r"^0+$")
_OID = re.compile(r"^[0-9a-f]{40}(?:[0-9a-f]{24})?$")


def resolve(git: Git, rev: str) -> str | None:
    """The commit ``rev`` names, or None."""
    if rev.startswith("-"):
        return None
    out = git.run("rev-parse", "--verify", "--quiet", "--end-of-options", rev + "^{commit}", ok=(0, 1, 128))
    text = out.decode().strip()
    return text if _OID.match(text) else None


def require(git: Git, rev: str, what: str) -> str:
    sha = resolve(git, rev)
    if sha is None:
        raise LLMGitOpsError(f"{what} {rev!r} is not a commit in this repository", EXIT_USAGE,
                             "fetch it first (CI checkouts are often shallow: fetch-depth: 0)")
    return sha


def merge_base(git: Git, a: str, b: str) -> str | None:
    out = git.run("merge-base", a, b, ok=(0, 1))
    text = out.decode().strip()
    return text or None


def empty_tree(git: Git) -> str:
    """The id of the empty tree in this repository's hash (diffs against it list every file as added)."""
    return git.text("hash-object", "-t", "tree", "--stdin")


@dataclass(frozen=True)
class ChangedPath:
    status: str  # A, M, D, T (type change)
    path: str


def _parse_name_status(raw: bytes) -> list[ChangedPath]:
    items = raw.split(b"\0")
    out = []
    for i in range(0, len(items) - 1, 2):
        status = items[i].decode()
        if not status:
            break
        out.append(ChangedPath(status[0], items[i + 1].decode("utf-8", "surrogateescape")))
    return out


def changed_paths(git: Git, base: str, head: str) -> list[ChangedPath]:
    """Files that differ from ``base`` (a tree-ish) to ``head`` (a tree-ish, ``INDEX`` or ``WORKTREE``).

    Plumbing commands only, so no user diff configuration changes the answer; git walks only the
    subtrees that differ, so the cost follows the size of the change, not of the repository.
    """
    if head == INDEX:
        raw = git.run("diff-index", "--cached", "-z", "--no-renames", "--name-status", base)
    elif head == WORKTREE:
        git.run("update-index", "-q", "--refresh", ok=(0, 1))  # stat-only changes are no changes
        raw = git.run("diff-index", "-z", "--no-renames", "--name-status", base)
    else:
        raw = git.run("diff-tree", "-r", "-z", "--no-renames", "--name-status", base, head)
    return _parse_name_status(raw)


@dataclass(frozen=True)
class RefUpdate:
    ref: str
    old: str | None  # None: the ref is being created
    new: str | None  # None: the ref is being deleted


def _oid(text: str) -> str | None:
    return None if _ZERO.match(text) else text


def parse_ref_updates(text: str, mode: str) -> list[RefUpdate]:
    """The lines a ``pre-push`` or ``pre-receive`` hook reads from standard input.

    pre-push:    <local ref> SP <local oid> SP <remote ref> SP <remote oid>
    pre-receive: <old oid> SP <new oid> SP <ref name>
    """
    updates = []
    for number, line in enumerate(text.splitlines(), 1):
        if not line.strip():
            continue
        fields = line.split()
        if mode == "pre-push" and len(fields) == 4 and _OID.match(fields[1]) and _OID.match(fields[3]):
            updates.append(RefUpdate(fields[2], _oid(fields[3]), _oid(fields[1])))
        elif mode == "pre-receive" and len(fields) == 3 and _OID.match(fields[0]) and _OID.match(fields[1]):
            updates.append(RefUpdate(fields[2], _oid(fields[0]), _oid(fields[1])))
        else:
            raise LLMGitOpsError(f"standard input line {number} is not a {mode} ref update: {line[:120]!r}",
                                 EXIT_USAGE)
    return updates


def base_for(git: Git, update: RefUpdate, known: list[str]) -> str | None:
    """Where an update's changes start: the old tip when git has it, else the newest commit of the new
    history that ``known`` refs already reach (None: the history is entirely new).

    ``known`` is a rev-list exclusion such as ``["--all"]`` (pre-receive: refs are not updated yet) or
    ``["--remotes=origin"]`` (pre-push: what the remote is known to have).
    """
    assert update.new is not None
    if update.old is not None and resolve(git, update.old) is not None:
        return update.old
    out = git.text("rev-list", "--boundary", "--topo-order", update.new, "--not", *known)
    lines = out.splitlines()
    if not lines:
        return update.new  # every commit is known already: nothing new to check
    boundary = next((line[1:] for line in lines if line.startswith("-")), None)
    return boundary
