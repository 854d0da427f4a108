"""Prompt static analysis: the compiler and linter for prompts.

Importing this package only registers the ``prompt/…`` rules; the analysis (Jinja2, jsonschema,
tokenizers) is imported when ``lint`` first runs, so `llmgitops validate` starts fast.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

from ..rules import register
from .catalog import PROMPT_RULES

if TYPE_CHECKING:
    from ..findings import Finding
    from ..manifests.repository import EnvironmentState, Repository

register(PROMPT_RULES)


def lint(repo: Repository, state: EnvironmentState) -> list[Finding]:
    """Findings for every Prompt of an environment (an environment check, run by validate too)."""
    if not state.of_kind("Prompt"):
        return []  # nothing to lint: don't pay for importing Jinja2
    from .linter import lint as run

    return run(repo, state)
