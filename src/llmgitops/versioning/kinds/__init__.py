"""One differ per promotable kind, plus the path patterns for its plain differences."""

from __future__ import annotations

from typing import TYPE_CHECKING

from . import dataset, evalsuite, model, prompt, rag

if TYPE_CHECKING:
    from ..diff import KindDiffer, Pattern

DIFFERS: dict[str, tuple[KindDiffer, tuple[tuple[Pattern, str], ...]]] = {
    "Model": (model.diff, model.PATTERNS),
    "Prompt": (prompt.diff, prompt.PATTERNS),
    "RagConfig": (rag.diff, rag.PATTERNS),
    "Dataset": (dataset.diff, dataset.PATTERNS),
    "EvalSuite": (evalsuite.diff, evalsuite.PATTERNS),
}
