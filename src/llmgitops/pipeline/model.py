"""The pipeline as data: steps, what each needs before it, and the identities each carries.

A step carries identities only (artifact kinds, names, versions, a canary weight, a shard) — never
manifest text. Every value is checked against a strict pattern when the step is made, so a rendered
Argo Workflow or a local run record can hold nothing an Argo expression or a shell could act on.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from typing import Any

from ..manifests.ranges import SEMVER

# step kinds, in the order a pipeline runs them
VALIDATE = "validate"
TRAIN = "train"
EVALUATE = "evaluate"
EVAL_MERGE = "eval-merge"
REINDEX = "reindex"
DEPLOY_CANARY = "deploy-canary"
ANALYZE = "analyze"
APPROVE = "approve"
PROMOTE_FULL = "promote-full"
ROLLBACK = "rollback"
STEP_KINDS = (VALIDATE, TRAIN, EVALUATE, EVAL_MERGE, REINDEX, DEPLOY_CANARY, ANALYZE, APPROVE, PROMOTE_FULL,
              ROLLBACK)
# steps that talk to something that may fail for a moment (a registry, a vector store, an API server)
TRANSIENT = frozenset({TRAIN, EVALUATE, EVAL_MERGE, REINDEX, DEPLOY_CANARY, PROMOTE_FULL, ROLLBACK})

NAME = re.compile(r"^[a-z0-9]([-a-z0-9]*[a-z0-9])?$")
KIND = re.compile(r"^(Model|Prompt|RagConfig|Dataset|EvalSuite)$")
HASH = re.compile(r"^[0-9a-f]{12,64}$")
MAX_NAME = 63


class IdentityError(ValueError):
    """A value that is not a plain identity: it never reaches a step."""


def check_name(value: object, what: str = "name") -> str:
    if not isinstance(value, str) or not NAME.match(value) or len(value) > MAX_NAME:
        raise IdentityError(f"{what} {value!r} is not a lowercase DNS label")
    return value


def check_version(value: object) -> str:
    if not isinstance(value, str) or not SEMVER.match(value) or len(value) > 128:
        raise IdentityError(f"version {value!r} is not a semantic version")
    return value


def check_kind(value: object) -> str:
    if not isinstance(value, str) or not KIND.match(value):
        raise IdentityError(f"kind {value!r} is not a promotable manifest kind")
    return value


@dataclass(frozen=True, order=True)
class Artifact:
    """The identity of one artifact version: all a step needs to find it in Git."""

    kind: str
    name: str
    version: str

    def __post_init__(self) -> None:
        check_kind(self.kind)
        check_name(self.name)
        check_version(self.version)

    @property
    def ref(self) -> str:
        return f"{self.kind}/{self.name}@{self.version}"


@dataclass(frozen=True)
class Step:
    """One unit of work. ``id`` is unique in its pipeline and a valid Kubernetes/Argo name."""

    id: str
    kind: str
    needs: tuple[str, ...] = ()
    artifact: Artifact | None = None
    weight: int | None = None  # canary traffic percentage (deploy-canary, analyze)
    shards: int = 1  # evaluate: how many pods share the dataset
    gpus: int = 0  # train: GPUs requested
    mode: str | None = None  # reindex: "reembed" or "rebuild"
    reasons: tuple[str, ...] = field(default=(), compare=False)

    def __post_init__(self) -> None:
        check_name(self.id, "step id")
        if self.kind not in STEP_KINDS:
            raise IdentityError(f"unknown step kind {self.kind!r}")
        for need in self.needs:
            check_name(need, "step id")
        if self.weight is not None and not (isinstance(self.weight, int) and 1 <= self.weight <= 100):
            raise IdentityError(f"canary weight {self.weight!r} is not a percentage")
        if not (isinstance(self.shards, int) and 1 <= self.shards <= 256):
            raise IdentityError(f"shard count {self.shards!r} is out of range")
        if not (isinstance(self.gpus, int) and 0 <= self.gpus <= 64):
            raise IdentityError(f"GPU count {self.gpus!r} is out of range")
        if self.mode not in (None, "reembed", "rebuild"):
            raise IdentityError(f"reindex mode {self.mode!r} is unknown")

    @property
    def transient(self) -> bool:
        return self.kind in TRANSIENT

    def args(self) -> list[str]:
        """The `llmgitops step` arguments that identify this step's work (environment and revision aside)."""
        out: list[str] = []
        if self.artifact is not None:
            out += ["--kind", self.artifact.kind, "--name", self.artifact.name, "--version", self.artifact.version]
        if self.weight is not None:
            out += ["--weight", str(self.weight)]
        if self.mode is not None:
            out += ["--mode", self.mode]
        return out

    def to_dict(self) -> dict[str, Any]:
        data: dict[str, Any] = {"id": self.id, "kind": self.kind, "needs": list(self.needs)}
        if self.artifact is not None:
            data["artifact"] = {"kind": self.artifact.kind, "name": self.artifact.name,
                                "version": self.artifact.version}
        if self.weight is not None:
            data["weight"] = self.weight
        if self.shards != 1:
            data["shards"] = self.shards
        if self.gpus:
            data["gpus"] = self.gpus
        if self.mode is not None:
            data["mode"] = self.mode
        if self.reasons:
            data["reasons"] = list(self.reasons)
        return data


@dataclass(frozen=True)
class Pipeline:
    """Steps in a valid run order (every step after the steps it needs), plus the rollback handler."""

    environment: str
    state: str  # the environment state hash the pipeline deploys
    steps: tuple[Step, ...]
    rollback: Step
    approval: bool = False
    automatic_rollback: bool = True

    def __post_init__(self) -> None:
        check_name(self.environment, "environment")
        if not HASH.match(self.state):
            raise IdentityError(f"state hash {self.state!r} is not a hex digest")
        seen: set[str] = set()
        for step in self.steps:
            if step.id in seen:
                raise IdentityError(f"step id {step.id!r} appears twice")
            missing = [n for n in step.needs if n not in seen]
            if missing:
                raise IdentityError(f"step {step.id!r} needs {missing}, which do not run before it")
            seen.add(step.id)

    def step(self, step_id: str) -> Step:
        for s in self.steps:
            if s.id == step_id:
                return s
        raise KeyError(step_id)

    def of_kind(self, kind: str) -> list[Step]:
        return [s for s in self.steps if s.kind == kind]

    def to_dict(self) -> dict[str, Any]:
        return {"environment": self.environment, "state": self.state, "approval": self.approval,
                "automaticRollback": self.automatic_rollback,
                "steps": [s.to_dict() for s in self.steps], "onFailure": self.rollback.to_dict()}

    def describe(self) -> list[str]:
        """One line per step, for people: `evaluate-answer-quality (evaluate Prompt/answer@2.1.0, 4 shards)`."""
        lines = []
        for s in self.steps:
            bits = [s.kind]
            if s.artifact is not None:
                bits.append(s.artifact.ref)
            if s.weight is not None:
                bits.append(f"{s.weight}%")
            if s.shards > 1:
                bits.append(f"{s.shards} shards")
            if s.gpus:
                bits.append(f"{s.gpus} GPU")
            if s.mode:
                bits.append(s.mode)
            after = f" after {', '.join(s.needs)}" if s.needs else ""
            lines.append(f"{s.id} ({' '.join(bits)}){after}")
        return lines
