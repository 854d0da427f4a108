"""A small valid Prompt (and the Model it runs on) that each negative case changes in one place.

Positions are never hard-coded: a case names a piece of text (the needle) where the finding must point,
and ``pos_of`` finds that text's line and column in the YAML the case produced.
"""

from __future__ import annotations

from llmgitops.findings import Finding
from llmgitops.manifests.kinds import KINDS
from llmgitops.manifests.loader import load_text
from llmgitops.manifests.repository import EnvironmentState, Manifest
from llmgitops.prompts.linter import lint_prompt

PROMPT_PATH = "environments/dev/prompts/answer.yaml"
MODEL_PATH = "environments/dev/models/chat.yaml"

BASE = """apiVersion: llmgitops.dev/v1alpha1
kind: Prompt
metadata:
  name: answer
spec:
  version: 1.0.0
  description: Answers a question.
  type: chat
  modelRef:
    name: chat
    version: ^1.0.0
  config:
    maxOutputTokens: 100
  input:
    question:
      type: string
      required: true
      source: user
      maxLength: 500
  messages:
    - role: system
      content: Answer briefly.
    - role: user
      content: |
        <question>{{ question }}</question>
  examples:
    - name: basic
      input:
        question: What is a backup?
"""

MODEL = """apiVersion: llmgitops.dev/v1alpha1
kind: Model
metadata:
  name: chat
spec:
  version: 1.2.0
  baseModel:
    id: example/chat
  weights:
    format: safetensors
    storageUri: hf://example/chat
  interface:
    maxContextTokens: {window}
  serving:
    runtime: vllm
"""


def edit(old: str, new: str, text: str = BASE) -> str:
    assert text.count(old) == 1, old
    return text.replace(old, new)


def manifest(text: str, path: str, kind: str) -> Manifest:
    result = load_text(text, path)
    assert result.document is not None, result.findings
    return Manifest(path, "dev", KINDS[kind], result.document, text.encode())


def lint_text(text: str, window: int | None = 8192, model: str | None = None) -> list[Finding]:
    prompt = manifest(text, PROMPT_PATH, "Prompt")
    others = []
    if model is not None or window is not None:
        others.append(manifest(model or MODEL.format(window=window), MODEL_PATH, "Model"))
    state = EnvironmentState("dev", [prompt, *others])
    return lint_prompt(prompt, state)


def pos_of(text: str, needle: str, nth: int = 0, offset: int = 0) -> tuple[int, int]:
    """1-based line and column of the ``nth`` occurrence of ``needle`` (plus ``offset`` characters)."""
    at = -1
    for _ in range(nth + 1):
        at = text.index(needle, at + 1)
    at += offset
    line = text.count("\n", 0, at) + 1
    return line, at - (text.rfind("\n", 0, at) + 1) + 1


def where(findings: list[Finding], rule: str) -> list[tuple[int, int]]:
    return [(f.line, f.column) for f in findings if f.rule == rule]
