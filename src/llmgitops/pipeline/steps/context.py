"""The context a step runs in, and what it reports back."""

from __future__ import annotations

import threading
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from ...errors import LLMGitOpsError
from ..release import Release
from ..settings import Settings

EXIT_TRANSIENT = 75  # EX_TEMPFAIL: the Argo retry strategy retries exactly this


class StepFailed(LLMGitOpsError):
    """The step did its work and the answer is no (a gate failed, an approval is missing, ...)."""


class TransientError(LLMGitOpsError):
    """Worth trying again: the same step may pass in a minute."""

    def __init__(self, message: str) -> None:
        super().__init__(message, EXIT_TRANSIENT)


@dataclass
class StepOutcome:
    summary: str
    outputs: dict[str, Any] = field(default_factory=dict)


def _discard(_: str) -> None:
    pass


@dataclass
class StepContext:
    repo_root: Path  # a checkout of the revision the pipeline deploys
    state_root: Path  # where .llmgitops/ (run records, deployment state, vector stores) lives
    environment: str
    revision: str
    release: Release  # the candidate release, with the changes that lead to it
    settings: Settings
    out_dir: Path  # this step's files (reports); shared by the steps of one run
    provider: str | None = None  # an evaluation provider override: a declared name or openai:URL
    approvals: tuple[str, ...] = ()  # approvers given to a local run
    log: Callable[[str], None] = _discard
    lock: threading.Lock = field(default_factory=threading.Lock)
    shared: dict[str, Any] = field(default_factory=dict)  # what earlier steps of the run produced
