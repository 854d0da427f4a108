"""`llmgitops validate`: schemas plus semantic checks, for whole environments or the ones paths fall in.

An environment is validated as a unit even when one file is named, because references cross files:
bumping a Model can break the Prompt that points at it, and that finding belongs to this commit.
"""

from __future__ import annotations

import os
from dataclasses import dataclass, field
from pathlib import Path

from .checks import check_environment, check_repository
from .config import configure
from .findings import Finding, Severity, sort_findings
from .manifests.kinds import API_VERSION, ENVIRONMENTS_DIR, YAML_SUFFIXES
from .manifests.repository import Repository
from .manifests.source import Source, WorkingTree
from .schemas import kind_of, validate_document


def find_root(start: Path) -> Path:
    """The nearest directory at or above ``start`` holding environments/ or .git."""
    here = start.resolve()
    if here.is_file():
        here = here.parent
    for candidate in (here, *here.parents):
        if (candidate / ENVIRONMENTS_DIR).is_dir() or (candidate / ".git").exists():
            return candidate
    return start.resolve() if start.is_dir() else start.resolve().parent


@dataclass
class Scope:
    environments: set[str] = field(default_factory=set)
    files: list[str] = field(default_factory=list)  # YAML files outside environments/
    findings: list[Finding] = field(default_factory=list)


def scope_of(repo: Repository, root: Path, paths: list[Path]) -> Scope:
    scope = Scope()
    all_envs = repo.environment_names()
    root = root.resolve()
    for path in paths:
        absolute = path if path.is_absolute() else Path.cwd() / path
        real = Path(os.path.normpath(absolute))
        if real != root and root not in real.parents:
            scope.findings.append(Finding(str(path), 0, 0, "path/outside-repository", Severity.ERROR,
                                          f"{path} is outside the repository at {root}"))
            continue
        rel = real.relative_to(root).as_posix()
        parts = [] if rel == "." else rel.split("/")
        if not parts or (parts == [ENVIRONMENTS_DIR]):
            scope.environments.update(all_envs)
        elif parts[0] == ENVIRONMENTS_DIR:
            scope.environments.add(parts[1])
        elif rel.endswith(".dvc"):
            scope.environments.update(all_envs)  # a pointer's manifests may live in any environment
        elif real.is_dir():
            scope.files.extend(f for f in repo.source.files(rel) if f.endswith(YAML_SUFFIXES))
            if (real / ENVIRONMENTS_DIR).is_dir():
                scope.environments.update(all_envs)
        elif rel.endswith(YAML_SUFFIXES):
            scope.files.append(rel)
    return scope


def validate_environment(repo: Repository, name: str) -> list[Finding]:
    state = repo.environment(name)
    findings = list(state.findings)
    for manifest in state.manifests:
        kind, problem = kind_of(manifest.document)
        if problem is not None:
            findings.append(problem)
        elif kind is not None:
            findings.extend(validate_document(manifest.document, kind))
    findings.extend(check_environment(repo, state))
    return findings


def validate_standalone(repo: Repository, relpath: str) -> list[Finding]:
    """A YAML file outside environments/: validated against its kind's schema when it is one of ours."""
    manifest, findings = repo.load_file(relpath)
    if manifest is None:
        return findings
    if manifest.data.get("apiVersion") != API_VERSION:
        return findings
    kind, problem = kind_of(manifest.document)
    if problem is not None:
        return [*findings, problem]
    assert kind is not None
    return [*findings, *validate_document(manifest.document, kind)]


def validate(root: Path, paths: list[Path] | None = None, source: Source | None = None) -> list[Finding]:
    repo = Repository(source or WorkingTree(root))
    scope = scope_of(repo, root, paths) if paths else Scope(environments=set(repo.environment_names()))
    findings = list(scope.findings)
    for name in sorted(scope.environments):
        findings.extend(validate_environment(repo, name))
    for relpath in sorted(set(scope.files)):
        findings.extend(validate_standalone(repo, relpath))
    findings.extend(check_repository(repo, sorted(scope.environments)))
    return sort_findings(configure(findings, repo))
