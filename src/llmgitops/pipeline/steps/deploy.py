"""deploy-canary, promote-full and rollback on this machine: the local deployment state says which release
serves which share of traffic. In Argo these are resource steps on the InferenceServices and the app's
Rollout; here they move the same shares in ``.llmgitops/state/<env>.json``."""

from __future__ import annotations

from ...backends.local.state import Deployed, LocalState, load, save
from ..model import Step
from .context import StepContext, StepFailed, StepOutcome

RESTORE_KEY = "restore-collections"


def _candidate(ctx: StepContext, state: LocalState) -> Deployed:
    if state.candidate is not None and state.candidate.state == ctx.release.state:
        return state.candidate
    candidate = Deployed.of(ctx.release, ctx.revision)
    candidate.reports = dict(ctx.shared.get("reports", {}))
    return candidate


def _describe(state: LocalState) -> str:
    return ", ".join(f"{state_id} {share}%" for state_id, share in sorted(state.traffic.items())) or "nothing"


def deploy_canary(ctx: StepContext, step: Step) -> StepOutcome:
    assert step.weight is not None
    with ctx.lock:
        state = load(ctx.state_root, ctx.environment)
        state.candidate = _candidate(ctx, state)
        # with no stable release yet there is nothing to split with: the candidate takes all traffic
        state.weight = step.weight if state.stable is not None else 100
        state.record("canary", state=ctx.release.state[:12], weight=state.weight, revision=ctx.revision)
        save(ctx.state_root, state)
    ctx.log(f"traffic: {_describe(state)}")
    note = "" if state.stable is not None else " (no stable release yet: it serves everything)"
    return StepOutcome(f"{ctx.release.state[:12]} serves {state.weight}% of traffic{note}",
                       {"traffic": state.traffic})


def promote_full(ctx: StepContext, step: Step) -> StepOutcome:
    with ctx.lock:
        state = load(ctx.state_root, ctx.environment)
        promoted = _candidate(ctx, state)
        promoted.reports = {**promoted.reports, **dict(ctx.shared.get("reports", {}))}
        promoted.collections = dict(ctx.shared.get("collections", {}))
        previous = state.stable.state[:12] if state.stable else None
        state.stable, state.candidate, state.weight = promoted, None, 0
        state.record("promote", state=promoted.state[:12], replaces=previous, revision=ctx.revision)
        save(ctx.state_root, state)
    ctx.log(f"traffic: {_describe(state)}")
    return StepOutcome(f"{promoted.state[:12]} is the stable release of {ctx.environment} "
                       f"(was {previous or 'none'})", {"stable": promoted.state})


def rollback(ctx: StepContext, step: Step) -> StepOutcome:
    """Back to the last good release: the candidate leaves, re-pointed RAG aliases point back."""
    from ...rag.reindex import ReindexError
    from ...rag.reindex import rollback as rag_rollback

    restored = []
    for alias, (store_kind, store_dir, collection) in sorted(ctx.shared.get(RESTORE_KEY, {}).items()):
        from ...rag.stores.base import open_store

        store = open_store(store_kind, store_dir)
        try:
            rag_rollback(store, alias, collection)
            restored.append(f"{alias} -> {collection}")
        except ReindexError as exc:
            raise StepFailed(f"cannot restore RAG alias {alias}: {exc}") from None
        finally:
            store.close()
    with ctx.lock:
        state = load(ctx.state_root, ctx.environment)
        withdrawn = state.candidate.state[:12] if state.candidate else None
        state.candidate, state.weight = None, 0
        state.record("rollback", withdrawn=withdrawn, stable=state.stable.state[:12] if state.stable else None,
                     revision=ctx.revision, aliases=restored)
        save(ctx.state_root, state)
    stable = state.stable.state[:12] if state.stable else "nothing (no release was ever promoted)"
    what = f"withdrew {withdrawn}" if withdrawn else "no candidate was serving"
    aliases = f"; aliases restored: {', '.join(restored)}" if restored else ""
    return StepOutcome(f"{what}; {ctx.environment} serves {stable}{aliases}", {"traffic": state.traffic})
