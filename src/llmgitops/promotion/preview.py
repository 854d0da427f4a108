"""The target environment as the promotion leaves it: its files, its rendered workflows, its pipeline."""

from __future__ import annotations

from dataclasses import dataclass, field, replace
from pathlib import Path

from ..backends.argo.render import Baseline, Rendered, render
from ..findings import Finding
from ..manifests.repository import Repository
from ..pipeline.build import build_pipeline
from ..pipeline.model import Pipeline
from ..pipeline.release import Release, changes_between, release_of
from ..pipeline.settings import Settings, settings_of
from .overlay import Overlay
from .plan import REMOVE, Plan


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


def preview(plan: Plan, root: Path, baseline: Baseline) -> Preview:
    assert plan.repository is not None
    changes = file_changes(plan)
    overlay = Overlay(plan.repository.source, changes)
    after = Repository(overlay)
    state = after.environment(plan.target)
    env = state.environment
    if env is None:
        return Preview(changes, None, None, None, None, repository=after)
    settings = settings_of(env)
    before = release_of(plan.repository.environment(plan.target))
    baseline = replace(baseline, fallback={**baseline.fallback, plan.target: before})
    if settings.target == "kserve":
        rendered = render(root, [plan.target], source=overlay, baseline=baseline)
        result = rendered.environments.get(plan.target)
        return Preview(changes, rendered, result.pipeline if result else None, settings,
                       result.release if result else None, list(rendered.findings), after)
    # a local target has no rendered record: its pipeline is the move from TO's current release
    new = release_of(state)
    release = new.with_changes(changes_between(before, new, baseline.read_blobs))
    return Preview(changes, None, build_pipeline(release, settings), settings, release, [], after)
