"""Promotion policy: each rule a promotion must satisfy, each violation a finding.

    promotion/wrong-source         TO's promotion.from is not FROM
    promotion/version-backwards    an artifact would move to a lower version
    promotion/content-mismatch     TO already has this version with other bytes: what TO receives must be
                                   byte-identical to what FROM published under that version
    promotion/unclosed-reference   after the promotion, a reference in TO resolves to nothing that satisfies it
    promotion/prerelease           a pre-release version into an environment with allowPrerelease: false
    promotion/source-invalid       FROM does not validate clean (its own findings follow)
"""

from __future__ import annotations

from ..findings import Finding, Severity, has_errors
from ..manifests.ranges import RangeError, parse_range, parse_version
from ..manifests.references import references
from ..manifests.repository import Manifest, Repository
from ..pipeline.settings import settings_of
from ..rules import Rule, register
from .plan import REMOVE, Plan

register((
    Rule("promotion/wrong-source", Severity.ERROR, "The target environment does not promote from the source."),
    Rule("promotion/version-backwards", Severity.ERROR, "A promotion would lower an artifact's version."),
    Rule("promotion/content-mismatch", Severity.ERROR,
         "The target has the same version with other content; a promoted file must be byte-identical."),
    Rule("promotion/unclosed-reference", Severity.ERROR,
         "After the promotion a reference in the target environment is unresolved or unsatisfied."),
    Rule("promotion/prerelease", Severity.ERROR, "A pre-release version into an environment that forbids them."),
    Rule("promotion/source-invalid", Severity.ERROR, "The source environment does not validate clean."),
))


def _version_pos(m: Manifest) -> tuple[str | int, ...]:
    return ("spec", "version")


def check(plan: Plan, repo: Repository) -> list[Finding]:
    findings: list[Finding] = []
    target_env = repo.environment(plan.target).environment
    source_state = repo.environment(plan.source)
    if target_env is not None:
        settings = settings_of(target_env)
        if settings.source != plan.source:
            findings.append(target_env.finding(
                ("spec", "promotion", "from"), "promotion/wrong-source",
                f"{plan.target} promotes from {settings.source or 'nowhere (promotion.from is null)'}, "
                f"not from {plan.source}",
                f"promote along the chain: llmgitops promote {settings.source} {plan.target}"
                if settings.source else None))
        allow_prerelease = settings.allow_prerelease
    else:
        allow_prerelease = True
    for item in plan.items:
        if item.action == REMOVE:
            continue
        new = source_state.find(item.kind, item.name)
        assert new is not None
        old_v = parse_version(item.old_version) if item.old_version else None
        new_v = parse_version(item.new_version) if item.new_version else None
        if old_v is not None and new_v is not None:
            if new_v.compare(old_v) < 0:
                findings.append(new.finding(_version_pos(new), "promotion/version-backwards",
                                            f"{item.ref} would go from {item.old_version} back to {item.new_version}"
                                            f" in {plan.target}",
                                            f"bump {item.ref} in {plan.source} above {item.old_version}"))
            elif new_v.compare(old_v) == 0:
                findings.append(new.finding(
                    _version_pos(new), "promotion/content-mismatch",
                    f"{plan.target} already has {item.ref} {item.new_version} with other content; a version "
                    "names one content everywhere",
                    f"bump {item.ref} in {plan.source} (llmgitops bump), or restore {plan.target}'s file"))
        if new_v is not None and new_v.prerelease and not allow_prerelease:
            findings.append(new.finding(_version_pos(new), "promotion/prerelease",
                                        f"{item.ref} {item.new_version} is a pre-release and {plan.target} "
                                        "sets promotion.allowPrerelease: false",
                                        "release a final version in the source environment first"))
    findings += _closure(plan, repo)
    return findings


def _closure(plan: Plan, repo: Repository) -> list[Finding]:
    """Every reference in TO-after-the-promotion that touches a moved artifact must be satisfied."""
    source, target = repo.environment(plan.source), repo.environment(plan.target)
    result: dict[tuple[str, str], Manifest] = {}
    for m in target.promotable:
        if m.kind and m.name:
            result[(m.kind, m.name)] = m
    moved = {(i.kind, i.name) for i in plan.items}
    for item in plan.items:
        if item.action == REMOVE:
            result.pop((item.kind, item.name), None)
        else:
            found = source.find(item.kind, item.name)
            assert found is not None
            result[(item.kind, item.name)] = found
    findings = []
    for key, manifest in sorted(result.items()):
        for ref in references(manifest):
            if key not in moved and (ref.kind, ref.name) not in moved:
                continue
            dep = result.get((ref.kind, ref.name))
            try:
                ok = dep is not None and dep.version is not None and parse_range(ref.range).satisfied_by(dep.version)
            except RangeError:
                continue  # validation reports an invalid range
            if ok:
                continue
            where = f"{plan.target} would have {dep.version}" if dep is not None else f"{plan.target} would not have it"
            hint = f"promote {ref.kind}/{ref.name} as well (--only {ref.kind}/{ref.name})" \
                if source.find(ref.kind, ref.name) is not None else None
            findings.append(manifest.finding(ref.path, "promotion/unclosed-reference",
                                             f"{manifest.kind}/{manifest.name} needs {ref.kind}/{ref.name} "
                                             f"{ref.range}; {where}", hint))
    return findings


def source_findings(repo: Repository, source: str) -> list[Finding]:
    """FROM's own validation findings, headed by one promotion/source-invalid when any is an error."""
    from ..validate import validate_environment

    own = validate_environment(repo, source)
    if not has_errors(own):
        return own
    env = repo.environment(source).environment
    path = env.relpath if env is not None else f"environments/{source}"
    errors = sum(1 for f in own if f.severity is Severity.ERROR)
    head = Finding(path, 0, 0, "promotion/source-invalid", Severity.ERROR,
                   f"{source} does not validate clean ({errors} error{'s' * (errors != 1)}); nothing is promoted "
                   "from an invalid environment", f"llmgitops validate environments/{source}")
    return [head, *own]
