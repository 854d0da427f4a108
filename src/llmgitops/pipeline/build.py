"""Build the pipeline for a release: which steps its changes call for, and in what order.

    validate -> train (per Model whose weights must change and that declares training)
             -> evaluate (per EvalSuite touching a changed artifact; sharded, then merged)
             -> reindex (per RagConfig that must re-embed or rebuild its index)
             -> deploy-canary / analyze at each traffic weight -> approve -> promote-full
    rollback runs when anything fails (Argo onExit, the local runner's failure path).

"Touching" follows references: a Prompt is affected when the Model it points at changed, an EvalSuite
when a target, a target's dependency or its dataset changed.
"""

from __future__ import annotations

import math
from typing import Any

from ..manifests.references import references
from ..manifests.repository import Manifest
from ..versioning import REQUIRES_INDEX_REBUILD, REQUIRES_REEMBED, REQUIRES_RETRAIN
from .model import (
    ANALYZE,
    APPROVE,
    DEPLOY_CANARY,
    EVAL_MERGE,
    EVALUATE,
    PROMOTE_FULL,
    REINDEX,
    ROLLBACK,
    TRAIN,
    VALIDATE,
    Artifact,
    Pipeline,
    Step,
)
from .release import ADDED, REMOVED, Change, Release
from .settings import Settings

RECORDS_PER_SHARD = 1000
MAX_AUTO_SHARDS = 16
DEPLOYABLE = ("Model", "Prompt", "RagConfig")

Key = tuple[str, str]


def _map(value: Any) -> dict[str, Any]:
    return value if isinstance(value, dict) else {}


def _affected(release: Release, changed: set[Key]) -> set[Key]:
    """Changed artifacts plus everything that reaches one through references (a fixed point)."""
    edges: dict[Key, set[Key]] = {}
    for key, manifest in release.manifests.items():
        edges[key] = {(r.kind, r.name) for r in references(manifest)}
    affected = set(changed)
    grew = True
    while grew:
        grew = False
        for key, deps in edges.items():
            if key not in affected and deps & affected:
                affected.add(key)
                grew = True
    return affected


def _dependencies(release: Release, key: Key) -> set[Key]:
    """Everything ``key`` reaches through references, itself included."""
    seen, todo = {key}, [key]
    while todo:
        manifest = release.manifests.get(todo.pop())
        if manifest is None:
            continue
        for ref in references(manifest):
            dep = (ref.kind, ref.name)
            if dep not in seen:
                seen.add(dep)
                todo.append(dep)
    return seen


def shard_count(suite: Manifest, release: Release) -> int:
    """The suite's own ``runner.shards``, or one shard per RECORDS_PER_SHARD records of its dataset."""
    declared = _map(suite.spec.get("runner")).get("shards")
    if isinstance(declared, int) and not isinstance(declared, bool) and declared >= 1:
        return min(declared, 256)
    dataset_ref = _map(suite.spec.get("dataset"))
    dataset = release.manifests.get(("Dataset", str(dataset_ref.get("name"))))
    records = dataset.spec.get("records") if dataset is not None else None
    if isinstance(records, int) and not isinstance(records, bool) and records > RECORDS_PER_SHARD:
        return min(math.ceil(records / RECORDS_PER_SHARD), MAX_AUTO_SHARDS)
    return 1


def _artifact(release: Release, key: Key) -> Artifact:
    entry = release.entry(*key)
    assert entry is not None
    return Artifact(entry.kind, entry.name, entry.version)


def _train_gpus(model: Manifest) -> int:
    resources = _map(_map(model.spec.get("training")).get("resources"))
    gpu = resources.get("gpu")
    return gpu if isinstance(gpu, int) and not isinstance(gpu, bool) and gpu >= 0 else 1


def build_pipeline(release: Release, settings: Settings) -> Pipeline:
    changes: dict[Key, Change] = {c.key: c for c in release.changes}
    live = {k for k, c in changes.items() if c.status != REMOVED and k in release.manifests}
    affected = _affected(release, set(changes))
    steps: list[Step] = [Step(VALIDATE, VALIDATE, reasons=("every pipeline starts from a clean validation",))]

    trains: dict[Key, Step] = {}
    for key in sorted(live):
        manifest = release.manifests[key]
        change = changes[key]
        if key[0] != "Model" or not isinstance(manifest.spec.get("training"), dict):
            continue
        if change.status == ADDED or REQUIRES_RETRAIN in change.flags:
            why = "new Model" if change.status == ADDED else "the change requires retraining"
            trains[key] = Step(f"train-{key[1]}", TRAIN, (VALIDATE,), _artifact(release, key),
                               gpus=_train_gpus(manifest), reasons=(why,))
    steps += trains.values()

    evaluation_tails: list[str] = []
    for key in sorted(k for k in release.manifests if k[0] == "EvalSuite"):
        if key not in affected:
            continue
        suite = release.manifests[key]
        needs = [VALIDATE] + [s.id for k, s in trains.items() if k in _dependencies(release, key)]
        touched = sorted(f"{k[0]}/{k[1]}" for k in _dependencies(release, key) & set(changes))
        shards = shard_count(suite, release)
        step = Step(f"evaluate-{key[1]}", EVALUATE, tuple(needs), _artifact(release, key), shards=shards,
                    reasons=tuple(f"touches changed {t}" for t in touched))
        steps.append(step)
        if shards > 1:
            merge = Step(f"merge-{key[1]}", EVAL_MERGE, (step.id,), _artifact(release, key),
                         reasons=(f"merges {shards} shard reports",))
            steps.append(merge)
            evaluation_tails.append(merge.id)
        else:
            evaluation_tails.append(step.id)

    before_reindex = evaluation_tails or [s.id for s in trains.values()] or [VALIDATE]
    reindexes: list[Step] = []
    for key in sorted(k for k in release.manifests if k[0] == "RagConfig"):
        rag_change = changes.get(key)
        sources = {(r.kind, r.name) for r in references(release.manifests[key]) if r.kind == "Dataset"}
        mode, why = None, ""
        if rag_change is not None and rag_change.status == ADDED:
            mode, why = "reembed", "new RagConfig: its collection does not exist yet"
        elif rag_change is not None and REQUIRES_REEMBED in rag_change.flags:
            mode, why = "reembed", "the change requires re-embedding"
        elif sources & live:
            mode, why = "reembed", "a source Dataset changed"
        elif rag_change is not None and REQUIRES_INDEX_REBUILD in rag_change.flags:
            mode, why = "rebuild", "the change requires an index rebuild"
        if mode is not None:
            reindexes.append(Step(f"reindex-{key[1]}", REINDEX, tuple(before_reindex), _artifact(release, key),
                                  mode=mode, reasons=(why,)))
    steps += reindexes

    tail = [s.id for s in reindexes] or before_reindex
    deployable = sorted(f"{k[0]}/{k[1]}" for k, c in changes.items() if k[0] in DEPLOYABLE)
    if deployable:
        for weight in settings.steps:
            deploy = Step(f"canary-{weight}", DEPLOY_CANARY, tuple(tail), weight=weight,
                          reasons=(f"{weight}% of traffic to {', '.join(deployable)}",))
            analyze = Step(f"analyze-{weight}", ANALYZE, (deploy.id,), weight=weight,
                           reasons=("compares the candidate's metrics with the stable version's",))
            steps += [deploy, analyze]
            tail = [analyze.id]
    if settings.approval_required:
        who = ", ".join(settings.approvers) or "an approver"
        approve = Step(APPROVE, APPROVE, tuple(tail), reasons=(f"{who} must approve",))
        steps.append(approve)
        tail = [approve.id]
    steps.append(Step(PROMOTE_FULL, PROMOTE_FULL, tuple(tail),
                      reasons=("makes the candidate the stable release",)))
    rollback = Step(ROLLBACK, ROLLBACK, reasons=("restores the last good release when a step fails",))
    return Pipeline(release.environment, release.state, tuple(steps), rollback,
                    approval=settings.approval_required, automatic_rollback=settings.automatic_rollback)
