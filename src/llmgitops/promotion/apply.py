"""Apply a promotion atomically: a commit on a new branch, built in a temporary `git worktree`.

The user's working tree, index and current branch are never touched. The branch ref is created last,
with `git update-ref` refusing to overwrite, so the promotion either exists completely (branch, commit,
description) or not at all: any failure removes the worktree, the branch and the description file.

Testing hook: ``LLMGITOPS_PROMOTE_FAIL_AT=<stage>`` makes apply fail right after that stage did its work
(stages: worktree, write, render, verify, commit, branch, describe), to prove that nothing remains.
"""

from __future__ import annotations

import os
from dataclasses import dataclass
from pathlib import Path

from ..backends.argo.render import write as write_rendered
from ..errors import LLMGitOpsError
from ..findings import Finding, has_errors
from ..gitrepo import Git, GitError
from ..manifests.repository import Repository
from ..manifests.source import WorkingTree
from ..pipeline.workspace import LOCAL_DIR, local_dir
from .plan import REMOVE, Plan
from .preview import Preview

FAIL_AT_ENV = "LLMGITOPS_PROMOTE_FAIL_AT"
STAGES = ("worktree", "write", "render", "verify", "commit", "branch", "describe")
TRAILER_FROM = "Promoted-From"
TRAILER_PLAN = "Plan-Hash"


class InjectedFailure(LLMGitOpsError):
    pass


class PromotionFailed(LLMGitOpsError):
    def __init__(self, message: str, findings: list[Finding] | None = None) -> None:
        super().__init__(message)
        self.findings = findings or []


def _stage(name: str) -> None:
    if os.environ.get(FAIL_AT_ENV) == name:
        raise InjectedFailure(f"promotion failed at stage {name!r} ({FAIL_AT_ENV} is set)")


@dataclass
class Applied:
    branch: str
    commit: str
    created: bool  # False when an earlier run already made this very promotion
    description_path: Path


def commit_message(plan: Plan) -> str:
    count = len(plan.items)
    lines = [f"promote({plan.target}): {count} artifact{'s' * (count != 1)} from {plan.source}", ""]
    for item in plan.items:
        versions = f"{item.old_version or '-'} -> {item.new_version or '-'}"
        lines.append(f"{item.action} {item.ref} {versions} ({item.required.label})")
    lines += ["", f"{TRAILER_FROM}: {plan.source}@{plan.base}", f"{TRAILER_PLAN}: {plan.hash}", ""]
    return "\n".join(lines)


def trailers(git: Git, commit: str) -> dict[str, str]:
    text = git.text("log", "-1", "--format=%(trailers:only,unfold)", commit)
    out = {}
    for line in text.splitlines():
        key, sep, value = line.partition(":")
        if sep:
            out[key.strip()] = value.strip()
    return out


def branch_tip(git: Git, branch: str) -> str | None:
    out = git.run("rev-parse", "--verify", "--quiet", f"refs/heads/{branch}^{{commit}}", ok=(0, 1)).strip()
    return out.decode() if out else None


def _write(tree: Path, files: dict[str, bytes | None]) -> None:
    for relpath, content in sorted(files.items()):
        target = tree / relpath
        if content is None:
            target.unlink(missing_ok=True)
            continue
        target.parent.mkdir(parents=True, exist_ok=True)
        target.write_bytes(content)


def _verify(plan: Plan, tree: Path, wt: Git) -> list[Finding]:
    """What TO received is byte-identical to FROM (as Git stores it), and TO validates clean."""
    from ..validate import validate_environment

    for item in plan.items:
        if item.action == REMOVE:
            continue
        stored = wt.text("hash-object", "--", item.target_path)
        if stored != item.blob:
            raise PromotionFailed(f"{item.target_path} would not be byte-identical to {item.source_path} "
                                  "(a .gitattributes filter changes it)")
    findings = validate_environment(Repository(WorkingTree(tree)), plan.target)
    return findings


def _write_description(git: Git, target: Path, description: str) -> None:
    if target.parent == git.root / LOCAL_DIR / "promotions":
        local_dir(git.root, "promotions")
    target.parent.mkdir(parents=True, exist_ok=True)
    target.write_text(description, encoding="utf-8")


def apply(plan: Plan, preview: Preview, git: Git, description: str, description_path: Path | None = None
          ) -> Applied:
    if plan.empty:
        raise LLMGitOpsError("nothing to promote")
    target = description_path or git.root / LOCAL_DIR / "promotions" / f"{plan.target}-{plan.hash[:12]}.md"
    existing = branch_tip(git, plan.branch)
    if existing is not None:
        if trailers(git, existing).get(TRAILER_PLAN) != plan.hash:
            raise LLMGitOpsError(f"branch {plan.branch} exists and holds another promotion",
                                 hint=f"delete it (git branch -D {plan.branch}) and promote again")
        _write_description(git, target, description)
        return Applied(plan.branch, existing, False, target)

    branch_made: str | None = None
    description_written = False
    try:
        with git.temporary_worktree(plan.base, prefix="llmgitops-promote-") as tree:
            _stage("worktree")
            wt = Git(tree)
            _write(tree, preview.changes)
            _stage("write")
            if preview.rendered is not None:
                write_rendered(tree, preview.rendered)
            _stage("render")
            findings = _verify(plan, tree, wt)
            if has_errors(findings):
                raise PromotionFailed(f"{plan.target} would not validate after the promotion", findings)
            _stage("verify")
            paths = [f"environments/{plan.target}"]
            if preview.rendered is not None:
                paths.append("workflows")
            wt.run("add", "-A", "--", *paths)
            wt.run("-c", "commit.gpgsign=false", "commit", "--no-verify", "--quiet", "-F", "-",
                   input=commit_message(plan).encode())
            commit = wt.text("rev-parse", "HEAD")
            _stage("commit")
            git.run("update-ref", f"refs/heads/{plan.branch}", commit, "")
            branch_made = commit
            _stage("branch")
        description_written = True
        _write_description(git, target, description)
        _stage("describe")
        return Applied(plan.branch, commit, True, target)
    except BaseException:
        if branch_made is not None:
            git.run("update-ref", "-d", f"refs/heads/{plan.branch}", branch_made, ok=(0, 1, 128))
        if description_written:
            target.unlink(missing_ok=True)
        raise


__all__ = ["STAGES", "Applied", "GitError", "InjectedFailure", "PromotionFailed", "apply", "commit_message"]
