"""The target environment as the promotion leaves it: its files, its rendered workflows, its pipeline."""

from __future__ import annotations

import dataclasses
from dataclasses import dataclass, field, replace
from pathlib import Path

from ..backends.argo.render import Baseline, Rendered, render
from ..findings import Finding
from ..manifests.repository import EnvironmentState, Manifest, Repository
from ..pipeline.build import build_pipeline
from ..pipeline.model import Pipeline
from ..pipeline.release import ADDED, CHANGED, REMOVED, Change, Release, release_of
from ..pipeline.settings import Settings, settings_of
from .overlay import Overlay
from .plan import ADD, REMOVE, UPDATE, Plan


@dataclass
class Preview:
    changes: dict[str, bytes | None]  # manifest files written (bytes) or removed (None)
    rendered: Rendered | None  # Argo output, for a kserve target
    pipeline: Pipeline | None
    settings: Settings | None
    release: Release | None
    findings: list[Finding] = field(default_factory=list)
    repository: Repository | None = None

    @property
    def files(self) -> dict[str, bytes | None]:
        out: dict[str, bytes | None] = dict(self.changes)
        if self.rendered is not None:
            out.update(self.rendered.files)
        return out


def file_changes(plan: Plan) -> dict[str, bytes | None]:
    assert plan.repository is not None
    source = plan.repository.source
    changes: dict[str, bytes | None] = {}
    for item in plan.items:
        if item.action == REMOVE:
            changes[item.target_path] = None
            continue
        assert item.source_path is not None
        changes[item.target_path] = source.read(item.source_path)
        if item.old_target_path is not None:
            changes[item.old_target_path] = None
    return changes


def after_state(plan: Plan, after: Repository, changes: dict[str, bytes | None]) -> EnvironmentState:
    """TO as the promotion leaves it, built from TO's loaded manifests: only the files that change are
    parsed again."""
    assert plan.repository is not None
    base = plan.repository.environment(plan.target)
    source = plan.repository.environment(plan.source)
    copied = {i.target_path: source.find(i.kind, i.name) for i in plan.items if i.action != REMOVE}
    manifests = [m for m in base.manifests if m.relpath not in changes]
    findings = [f for f in base.findings if f.path not in changes]
    for relpath, content in sorted(changes.items()):
        if content is None or not relpath.startswith(f"environments/{plan.target}/"):
            continue
        original = copied.get(relpath)
        if original is not None and original.raw == content:
            # the very bytes FROM holds: its parsed document serves, under TO's path
            document = dataclasses.replace(original.document, path=relpath)
            manifests.append(Manifest(relpath, plan.target, original.expected, document, content))
            continue
        manifest, problems = after.load_file(relpath)
        findings += problems
        if manifest is not None:
            manifests.append(manifest)
    return EnvironmentState(plan.target, sorted(manifests, key=lambda m: m.relpath), findings)


def preview(plan: Plan, root: Path, baseline: Baseline) -> Preview:
    assert plan.repository is not None
    changes = file_changes(plan)
    overlay = Overlay(plan.repository.source, changes)
    after = Repository(overlay)
    state = after_state(plan, after, changes)
    after.use(state)
    env = state.environment
    if env is None:
        return Preview(changes, None, None, None, None, repository=after)
    settings = settings_of(env)
    changes_by_plan = plan_changes(plan)
    if settings.target == "kserve":
        baseline = replace(baseline, changes={**baseline.changes, plan.target: changes_by_plan})
        rendered = render(root, [plan.target], baseline=baseline, repository=after)
        result = rendered.environments.get(plan.target)
        return Preview(changes, rendered, result.pipeline if result else None, settings,
                       result.release if result else None, list(rendered.findings), after)
    # a local target has no rendered record: its pipeline is the plan's move
    release = release_of(state).with_changes(changes_by_plan)
    return Preview(changes, None, build_pipeline(release, settings), settings, release, [], after)


def plan_changes(plan: Plan) -> tuple[Change, ...]:
    """The plan's items as the pipeline's changes: the versioning engine already classified each one."""
    status = {ADD: ADDED, UPDATE: CHANGED, REMOVE: REMOVED}
    return tuple(sorted(Change(i.kind, i.name, status[i.action], i.old_version, i.new_version,
                               i.required.label, i.flags) for i in plan.items))
