"""The promotion chain: each Environment's promotion.from names an environment, and the chain has no cycle."""

from __future__ import annotations

from ..findings import Finding
from ..manifests.repository import Manifest, Repository


def _source_of(manifest: Manifest) -> str | None:
    promotion = manifest.spec.get("promotion")
    value = promotion.get("from") if isinstance(promotion, dict) else None
    return value if isinstance(value, str) else None


def check(repo: Repository, environments: list[str]) -> list[Finding]:
    findings: list[Finding] = []
    all_names = repo.environment_names()
    env_files: dict[str, Manifest] = {}
    for name in all_names:
        manifest = repo.environment_manifest(name)
        if manifest is not None:
            env_files[name] = manifest
    parent = {name: _source_of(m) for name, m in env_files.items()}
    for name in environments:
        m = env_files.get(name)
        source = parent.get(name)
        if m is None or source is None:
            continue
        where = ("spec", "promotion", "from")
        if source == name:
            findings.append(m.finding(where, "environment/promotion-cycle",
                                      f"environment {name!r} promotes from itself"))
            continue
        if source not in all_names:
            findings.append(m.finding(where, "environment/unknown-source",
                                      f"promotion.from names {source!r}, which is not an environment",
                                      f"environments: {', '.join(all_names)}"))
            continue
        chain: list[str] = [name]
        current: str | None = source
        while current is not None and current not in chain:
            chain.append(current)
            current = parent.get(current)
        if current == name:
            findings.append(m.finding(where, "environment/promotion-cycle",
                                      "promotion chain loops: " + " <- ".join(chain + [name])))
    return findings
