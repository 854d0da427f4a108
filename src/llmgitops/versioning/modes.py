"""Where check-versions takes its two states from: the staged index, two refs, or a hook's ref updates."""

from __future__ import annotations

from ..errors import EXIT_USAGE, LLMGitOpsError
from ..findings import sort_findings
from ..gitrepo import (
    INDEX,
    Git,
    GitTree,
    RefUpdate,
    base_for,
    changed_paths,
    empty_tree,
    merge_base,
    require,
    resolve,
)
from .policy import CheckResult, VersionCheck


def _ref_name(git: Git, rev: str) -> str:
    """The full ref name ``rev`` stands for (``main`` -> ``refs/heads/main``), or ``rev`` itself."""
    name = git.text("rev-parse", "--symbolic-full-name", rev, ok=(0, 128)) if not rev.startswith("-") else ""
    return name.splitlines()[0] if name else rev


def check_staged(git: Git) -> CheckResult:
    """The index against HEAD: what ``git commit`` is about to record (the pre-commit hook)."""
    if git.bare:
        raise LLMGitOpsError("a bare repository has no index to check", EXIT_USAGE,
                             "use --base/--head, or --stdin-refs in a pre-receive hook")
    base = resolve(git, "HEAD")
    changed = changed_paths(git, base or empty_tree(git), INDEX)
    return VersionCheck(git, base, GitTree.index(git), history_rev=base,
                        history_key=_ref_name(git, "HEAD")).run(changed)


def check_range(git: Git, base_ref: str, head_ref: str = "HEAD") -> CheckResult:
    """``head_ref`` against its merge base with ``base_ref``, as ``pre-commit run --from-ref --to-ref``
    does; immutability is checked against the whole history of ``base_ref``."""
    base_sha = require(git, base_ref, "base")
    head_sha = require(git, head_ref, "head")
    start = merge_base(git, base_sha, head_sha)
    changed = changed_paths(git, start or empty_tree(git), head_sha)
    return VersionCheck(git, start, GitTree(git, head_sha), history_rev=base_sha,
                        history_key=_ref_name(git, base_ref)).run(changed)


def check_ref_updates(git: Git, updates: list[RefUpdate], known: list[str]) -> CheckResult:
    """Each pushed ref against what the receiving side already had (pre-push, pre-receive)."""
    total = CheckResult()
    seen: set[tuple[str | None, str]] = set()
    for update in updates:
        if update.new is None:
            continue  # a deletion carries no content
        head = resolve(git, update.new)
        if head is None:
            continue  # a tag on a tree or blob: nothing to version
        start = base_for(git, update, known)
        if start == head or (start, head) in seen:
            continue
        seen.add((start, head))
        changed = changed_paths(git, start or empty_tree(git), head)
        check = VersionCheck(git, start, GitTree(git, head), history_rev=start, history_key=update.ref)
        result = check.run(changed)
        total.changes.extend(result.changes)
        total.findings.extend(result.findings)
    total.findings = sort_findings(total.findings)
    return total
