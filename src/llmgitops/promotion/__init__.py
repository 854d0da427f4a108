"""Promotion: the plan (what moves), its policy, the preview of the target, and applying it atomically.

    result = prepare(root, "dev", "staging")        # read from HEAD; nothing written
    result.plan.findings                            # policy violations, FROM's validation findings
    result.description                              # the pull request description (Markdown)
    applied = commit(result)                        # branch promote/staging/<hash>, one commit
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

from ..backends.argo.render import Baseline
from ..findings import Finding, Severity, has_errors, sort_findings
from ..gitrepo import Git, GitTree, require
from ..manifests.references import file_paths
from ..manifests.repository import Repository
from .apply import Applied, apply
from .describe import describe
from .plan import Plan, build_plan
from .policy import check, source_findings
from .preview import Preview, preview


@dataclass
class Prepared:
    git: Git
    plan: Plan
    preview: Preview
    description: str

    @property
    def findings(self) -> list[Finding]:
        return self.plan.findings

    @property
    def blocked(self) -> bool:
        return has_errors(self.plan.findings)


def _uncommitted(git: Git, envs: tuple[str, ...]) -> list[Finding]:
    out = git.text("status", "--porcelain", "--untracked-files=all", "--", *(f"environments/{e}" for e in envs))
    findings = []
    for line in out.splitlines():
        path = line[3:].strip()
        findings.append(Finding(path, 0, 0, "promotion/uncommitted", Severity.WARNING,
                                "uncommitted change is not part of the promotion, which reads HEAD",
                                "commit it first to promote it"))
    return findings


def prepare(root: Path, source: str, target: str, only: tuple[str, ...] = ()) -> Prepared:
    git = Git.discover(root)
    base = require(git, "HEAD", "HEAD")
    tree = GitTree(git, base)
    repo = Repository(tree)
    plan = build_plan(repo, source, target, base, only)
    # validation reads every file FROM's manifests name: one listing and one cat-file for all of them
    tree.prefetch(p for m in repo.environment(source).promotable for _, p, _ in file_paths(m))
    findings = source_findings(repo, source) + check(plan, repo) + _uncommitted(git, (source, target))
    result = preview(plan, git.root, Baseline.at(git.root, base))
    plan.findings = sort_findings(findings + result.findings)
    return Prepared(git, plan, result, describe(plan, result))


def commit(prepared: Prepared, description_path: Path | None = None) -> Applied:
    return apply(prepared.plan, prepared.preview, prepared.git, prepared.description, description_path)


__all__ = ["Applied", "Plan", "Prepared", "Preview", "commit", "prepare"]
