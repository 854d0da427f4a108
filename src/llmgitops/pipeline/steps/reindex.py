"""reindex: serve a RagConfig from a freshly built collection (blue/green, through ``rag.reindex.run``).

The collection the alias served before is kept, and remembered for the run's rollback, which points the
alias back at it. Locally the vector store lives in ``.llmgitops/state/<env>-vector-store/``; in the
cluster ``LLMGITOPS_VECTOR_STORE`` names it (a folder on a volume, or a Qdrant URL).
"""

from __future__ import annotations

import os

from ..model import Step
from ..workspace import local_dir
from .context import StepContext, StepFailed, StepOutcome, TransientError
from .deploy import RESTORE_KEY

STORE_ENV = "LLMGITOPS_VECTOR_STORE"


def store_location(ctx: StepContext) -> str:
    configured = os.environ.get(STORE_ENV)
    if configured:
        return configured
    return str(local_dir(ctx.state_root, "state", f"{ctx.environment}-vector-store"))


def reindex(ctx: StepContext, step: Step) -> StepOutcome:
    from ...rag.reindex import ReindexError, run
    from ...rag.spec import RagSpec, RagSpecError
    from ...rag.stores.base import StoreError, open_store

    assert step.artifact is not None
    manifest = ctx.release.manifests.get(("RagConfig", step.artifact.name))
    if manifest is None or manifest.version != step.artifact.version:
        raise StepFailed(f"{step.artifact.ref} is not in {ctx.environment} at {ctx.revision[:12]}")
    try:
        rag = RagSpec.from_manifest_data(manifest.data)
    except RagSpecError as exc:
        raise StepFailed(str(exc)) from None
    location = store_location(ctx)
    try:
        store = open_store(rag.index.store, location)
        try:
            before = store.alias(rag.index.alias)
        finally:
            store.close()
        result = run(ctx.repo_root, ctx.environment, step.artifact.name, location)
    except ReindexError as exc:
        raise StepFailed(str(exc)) from None
    except StoreError as exc:
        raise TransientError(f"vector store {location}: {exc}") from None
    if not result.ok:
        raise StepFailed(f"{step.artifact.ref}: {result.message}")
    if before is not None and result.alias_target != before:
        with ctx.lock:
            ctx.shared.setdefault(RESTORE_KEY, {})[rag.index.alias] = (rag.index.store, location, before)
    with ctx.lock:
        ctx.shared.setdefault("collections", {})[rag.index.alias] = result.alias_target or ""
    ctx.log(f"plan: {result.plan.action}; {result.message}; checks {result.checks}; cache {result.cache}")
    built = f", {result.count} chunks" if result.count is not None else ""
    return StepOutcome(f"{rag.index.alias} -> {result.alias_target} ({result.plan.action}{built})",
                       {"alias": rag.index.alias, "collection": result.alias_target, "previous": before})
