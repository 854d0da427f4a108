"""A small, valid repository written out file by file: the base every negative case mutates.

It is independent of the bundled example so that a change to the example never moves a line a
negative test asserts.
"""

from __future__ import annotations

from pathlib import Path

HEAD = "apiVersion: llmgitops.dev/v1alpha1\n"

FILES: dict[str, str] = {
    "environments/dev/environment.yaml": HEAD + """kind: Environment
metadata:
  name: dev
spec:
  promotion:
    from: null
""",
    "environments/staging/environment.yaml": HEAD + """kind: Environment
metadata:
  name: staging
spec:
  promotion:
    from: dev
""",
    "environments/dev/models/chat.yaml": HEAD + """kind: Model
metadata:
  name: chat
spec:
  version: 1.2.0
  baseModel:
    id: google/gemma-3-270m-it
  weights:
    format: safetensors
    dvc:
      path: data/chat.dvc
  interface:
    maxContextTokens: 8192
  serving:
    runtime: vllm
    args:
      max_model_len: 4096
""",
    "environments/dev/prompts/answer.yaml": HEAD + """kind: Prompt
metadata:
  name: answer
spec:
  version: 2.0.0
  type: chat
  modelRef:
    name: chat
    version: ^1.2.0
  input:
    question:
      type: string
      required: true
  messages:
    - role: system
      content: Answer briefly.
    - role: user
      content: "<question>{{ question }}</question>"
""",
    "environments/dev/datasets/qa.yaml": HEAD + """kind: Dataset
metadata:
  name: qa
spec:
  version: 1.0.0
  purpose: evaluation
  path: data/qa.jsonl
  format: jsonl
  license: CC-BY-4.0
  pii:
    contains: false
""",
    "environments/dev/evals/answer-quality.yaml": HEAD + """kind: EvalSuite
metadata:
  name: answer-quality
spec:
  version: 1.0.0
  targets:
    - kind: Prompt
      name: answer
      version: ^2.0.0
  dataset:
    name: qa
    version: 1.0.0
  metrics:
    - name: mentions
      type: contains-any
""",
    "data/qa.jsonl": '{"question": "What is backup?", "answer": "A copy."}\n',
    "data/chat.dvc": """outs:
- md5: 3f2a1c9be0d5e1f2a3b4c5d6e7f80912
  size: 1024
  hash: md5
  path: chat
""",
}


def write(root: Path, overrides: dict[str, str | None] | None = None) -> Path:
    files = {**FILES, **(overrides or {})}
    for rel, text in files.items():
        if text is None:
            continue
        path = root / rel
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text(text, encoding="utf-8")
    return root
