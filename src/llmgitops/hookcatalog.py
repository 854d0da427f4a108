"""The pre-commit hooks this project exports: one catalog, from which .pre-commit-hooks.yaml is generated.

    python -m llmgitops.hookcatalog            # print the generated file
    python -m llmgitops.hookcatalog --write    # rewrite .pre-commit-hooks.yaml (tests fail on drift)
"""

from __future__ import annotations

import sys
from dataclasses import dataclass
from pathlib import Path

MANIFEST_FILES = r"^environments/.*\.ya?ml$"


@dataclass(frozen=True)
class Hook:
    id: str
    name: str
    entry: str
    description: str
    files: str = MANIFEST_FILES
    pass_filenames: bool = True
    require_serial: bool = True
    always_run: bool = False
    stages: tuple[str, ...] = ()


HOOKS: tuple[Hook, ...] = (
    Hook(
        id="llmgitops-validate",
        name="llmgitops validate",
        entry="llmgitops validate",
        description="Validate llmgitops manifests: schemas, references, DVC pointers, names, promotion chain.",
        files=r"^(environments/.*\.ya?ml|.*\.dvc)$",
    ),
    Hook(
        id="llmgitops-check-versions",
        name="llmgitops check-versions",
        entry="llmgitops check-versions",
        description="Every changed manifest carries the semver bump its content demands; published versions "
                    "never change (staged changes, or --from-ref/--to-ref in CI and pre-push).",
        files="",  # a changed DVC pointer or data file changes the manifests that reference it
        pass_filenames=False,
        stages=("pre-commit", "pre-push", "manual"),
    ),
    Hook(
        id="llmgitops-lint-prompts",
        name="llmgitops lint-prompts",
        entry="llmgitops lint-prompts",
        description="Lint prompts: templates compile, variables declared and used, examples render, token "
                    "budgets fit the model, no secrets, personal data or injection holes.",
        files=r"^environments/[^/]+/(prompts|models)/.*\.ya?ml$",
    ),
    Hook(
        id="llmgitops-render-check",
        name="llmgitops render --check",
        entry="llmgitops render --check",
        description="The rendered Argo manifests in workflows/ are up to date with the environments they "
                    "are rendered from (run `llmgitops render` to refresh them).",
        files=r"^(environments/.*\.ya?ml|workflows/.*)$",
        pass_filenames=False,
    ),
)


def _quote(value: str) -> str:
    return "'" + value.replace("'", "''") + "'"


def render() -> str:
    lines = ["# Generated from src/llmgitops/hookcatalog.py by `python -m llmgitops.hookcatalog --write`.",
             "# Do not edit by hand: a test fails when this file drifts from the catalog."]
    for hook in HOOKS:
        lines += [
            f"- id: {hook.id}",
            f"  name: {hook.name}",
            f"  description: {_quote(hook.description)}",
            f"  entry: {hook.entry}",
            "  language: python",
            f"  files: {_quote(hook.files)}",
            f"  pass_filenames: {str(hook.pass_filenames).lower()}",
            f"  require_serial: {str(hook.require_serial).lower()}",
        ]
        if hook.always_run:
            lines.append("  always_run: true")
        if hook.stages:
            lines.append(f"  stages: [{', '.join(hook.stages)}]")
    return "\n".join(lines) + "\n"


def main(argv: list[str]) -> int:
    text = render()
    if "--write" in argv:
        target = Path(__file__).resolve().parents[2] / ".pre-commit-hooks.yaml"
        target.write_text(text, encoding="utf-8")
    else:
        sys.stdout.write(text)
    return 0


if __name__ == "__main__":
    raise SystemExit(main(sys.argv[1:]))
