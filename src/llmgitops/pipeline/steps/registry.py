"""Step kind -> implementation."""

from __future__ import annotations

from collections.abc import Callable

from ..model import (
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
    Step,
)
from .context import StepContext, StepOutcome

Impl = Callable[[StepContext, Step], StepOutcome]


def implementation(kind: str) -> Impl:
    from . import analyze, checks, deploy, evaluate, reindex, train

    table: dict[str, Impl] = {
        VALIDATE: checks.validate,
        TRAIN: train.train,
        EVALUATE: evaluate.evaluate,
        EVAL_MERGE: evaluate.merge,
        REINDEX: reindex.reindex,
        DEPLOY_CANARY: deploy.deploy_canary,
        ANALYZE: analyze.analyze,
        APPROVE: checks.approve,
        PROMOTE_FULL: deploy.promote_full,
        ROLLBACK: deploy.rollback,
    }
    return table[kind]


def run_step(ctx: StepContext, step: Step) -> StepOutcome:
    return implementation(step.kind)(ctx, step)
