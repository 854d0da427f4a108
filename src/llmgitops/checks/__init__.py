"""Semantic checks: what a schema cannot say. Each check takes loaded state and returns findings."""

from __future__ import annotations

from collections.abc import Callable

from .. import prompts
from ..findings import Finding
from ..manifests.repository import EnvironmentState, Repository
from ..rag import checks as rag_checks
from . import environments, files, layout, models, promotion, references

EnvironmentCheck = Callable[[Repository, EnvironmentState], list[Finding]]

ENVIRONMENT_CHECKS: tuple[EnvironmentCheck, ...] = (
    layout.check,
    references.check,
    files.check,
    models.check,
    environments.check,
    prompts.lint,
    rag_checks.check,
)


def check_environment(repo: Repository, state: EnvironmentState) -> list[Finding]:
    findings: list[Finding] = []
    for check in ENVIRONMENT_CHECKS:
        findings.extend(check(repo, state))
    return findings


def check_repository(repo: Repository, environments: list[str]) -> list[Finding]:
    """Checks across environments: the promotion chain."""
    return promotion.check(repo, environments)
