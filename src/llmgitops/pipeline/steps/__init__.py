"""What each pipeline step does. The same functions run under `llmgitops step <kind>` (one container image
in Argo) and inside the local runner, so a step behaves the same wherever it runs.

Each step takes a ``StepContext`` (where the checkout is, which release, where local state lives) and
the ``Step`` from the pipeline, and returns a ``StepOutcome``. A transient failure (a network error, a
busy server) raises ``TransientError``: Argo retries it with backoff (exit code 75), anything else fails
the step for good.
"""

from __future__ import annotations

from .context import StepContext, StepFailed, StepOutcome, TransientError
from .registry import run_step

__all__ = ["StepContext", "StepFailed", "StepOutcome", "TransientError", "run_step"]
