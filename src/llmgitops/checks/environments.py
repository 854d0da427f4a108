"""Environment consistency: canary steps climb to 100, overrides and providers point at what exists."""

from __future__ import annotations

from itertools import pairwise
from typing import Any

from ..findings import Finding
from ..manifests.repository import EnvironmentState, Manifest, Repository


def _dict(value: Any) -> dict[str, Any]:
    return value if isinstance(value, dict) else {}


def check(repo: Repository, state: EnvironmentState) -> list[Finding]:
    env = state.environment
    if env is None or env.kind != "Environment":
        return []
    findings = _steps(env)
    findings += _overrides(env, state)
    findings += _providers(env, state)
    return findings


def _steps(env: Manifest) -> list[Finding]:
    steps = _dict(env.spec.get("deploy")).get("steps")
    if not isinstance(steps, list) or not all(isinstance(s, int) for s in steps) or not steps:
        return []  # the schema says what is wrong with its shape
    where = ("spec", "deploy", "steps")
    if any(b <= a for a, b in pairwise(steps)):
        return [env.finding(where, "environment/canary-steps", f"canary steps {steps} do not increase",
                            "list traffic percentages in the order they are reached, e.g. [5, 25, 50, 100]")]
    if steps[-1] != 100:
        return [env.finding(where, "environment/canary-steps", f"canary steps {steps} do not end at 100",
                            "the last step sends all traffic to the new version")]
    return []


def _overrides(env: Manifest, state: EnvironmentState) -> list[Finding]:
    findings = []
    overrides = env.spec.get("overrides")
    for i, override in enumerate(overrides if isinstance(overrides, list) else []):
        target = _dict(_dict(override).get("target"))
        kind, name = target.get("kind"), target.get("name")
        if isinstance(kind, str) and isinstance(name, str) and state.find(kind, name) is None:
            findings.append(env.finding(("spec", "overrides", i, "target", "name"), "ref/unresolved",
                                        f"override targets {kind} {name!r}, which is not in environment "
                                        f"{state.name!r}"))
    return findings


def _providers(env: Manifest, state: EnvironmentState) -> list[Finding]:
    providers = _dict(env.spec.get("providers"))
    findings = []
    defaults = [name for name, p in providers.items() if _dict(p).get("default") is True]
    if len(defaults) > 1:
        findings.append(env.finding(("spec", "providers", defaults[1], "default"), "environment/default-provider",
                                    f"more than one default provider: {', '.join(defaults)}"))
    for suite in state.of_kind("EvalSuite"):
        wanted = suite.spec.get("provider")
        if isinstance(wanted, str) and wanted not in providers:
            findings.append(suite.finding(("spec", "provider"), "ref/unknown-provider",
                                          f"provider {wanted!r} is not declared in environment {state.name!r}",
                                          f"declared: {', '.join(sorted(providers)) or 'none'}"))
    return findings
