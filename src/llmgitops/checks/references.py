"""References resolve inside the same environment and their version ranges are satisfied."""

from __future__ import annotations

from ..findings import Finding
from ..manifests.ranges import RangeError, parse_range
from ..manifests.references import references
from ..manifests.repository import EnvironmentState, Repository


def check(repo: Repository, state: EnvironmentState) -> list[Finding]:
    findings: list[Finding] = []
    for m in state.promotable:
        for ref in references(m):
            try:
                rng = parse_range(ref.range)
            except RangeError as exc:
                findings.append(m.finding(ref.path + ("version",), "ref/invalid-range",
                                          f"version range {ref.range!r} is invalid: {exc}",
                                          "use an exact version (1.2.3), ^1.2.0, ~1.4, or >=1.0.0 <2.0.0"))
                continue
            target = state.find(ref.kind, ref.name)
            if target is None:
                others = sorted(x.name for x in state.of_kind(ref.kind) if x.name)
                findings.append(m.finding(ref.path + ("name",), "ref/unresolved",
                                          f"{ref.kind} {ref.name!r} does not exist in environment {state.name!r}",
                                          f"{ref.kind} names here: {', '.join(others)}" if others
                                          else f"add {ref.kind} {ref.name!r} to this environment"))
                continue
            if target.version is None:
                continue  # the target's own schema finding says why it has no valid version
            if not rng.satisfied_by(target.version):
                findings.append(m.finding(ref.path + ("version",), "ref/version-unsatisfied",
                                          f"{ref.kind} {ref.name!r} is at {target.version} in {state.name!r}, "
                                          f"which does not satisfy {ref.range!r}",
                                          "update the range, or promote the version it needs first"))
    return findings
