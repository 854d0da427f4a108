"""A small evaluation repository built from Python data: one environment, a Model, a chat Prompt that
asks the question as it is, a Dataset of questions with expected substrings, and an EvalSuite.

``manifests()`` returns the manifests as dicts for a test to change before ``write()`` puts them (and the
data files) on disk. Against the loopback server, whose answers are ``ECHO: <question>``, a record passes
``contains-any`` exactly when its expected string occurs in its question.
"""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import yaml

API = "llmgitops.dev/v1alpha1"

RECORDS = [
    {"id": "q1", "question": "What colour is the sky?", "expected": "sky"},
    {"id": "q2", "question": "Name a fruit that is yellow.", "expected": "yellow"},
    {"id": "q3", "question": "How many legs does a spider have?", "expected": "spider"},
    {"id": "q4", "question": "Which planet is red?", "expected": "Mars"},
]


def manifests(base_url: str = "http://127.0.0.1:9") -> dict[str, dict[str, Any]]:
    return {
        "environments/dev/environment.yaml": {
            "apiVersion": API, "kind": "Environment", "metadata": {"name": "dev"},
            "spec": {
                "promotion": {"from": None},
                "providers": {
                    "loopback": {"type": "openai", "baseUrl": base_url, "default": True, "concurrency": 4,
                                 "maxRetries": 2, "timeoutSeconds": 5},
                    "replay": {"type": "replay", "recordings": "data/recordings"},
                },
            },
        },
        "environments/dev/models/echo-model.yaml": {
            "apiVersion": API, "kind": "Model", "metadata": {"name": "echo-model"},
            "spec": {"version": "1.0.0", "baseModel": {"id": "acme/echo"},
                     "weights": {"format": "safetensors", "storageUri": "hf://acme/echo"},
                     "interface": {"maxContextTokens": 4096, "capabilities": ["chat"]},
                     "serving": {"runtime": "vllm"},
                     "pricing": {"inputPer1kTokens": 0.5, "outputPer1kTokens": 1.5, "currency": "USD"}},
        },
        "environments/dev/prompts/echo.yaml": {
            "apiVersion": API, "kind": "Prompt", "metadata": {"name": "echo"},
            "spec": {"version": "1.0.0", "type": "chat", "modelRef": {"name": "echo-model", "version": "^1.0.0"},
                     "config": {"temperature": 0, "maxOutputTokens": 32},
                     "input": {"question": {"type": "string", "required": True, "source": "user"}},
                     "messages": [{"role": "system", "content": "Answer briefly."},
                                  {"role": "user", "content": "{{ question }}"}]},
        },
        "environments/dev/datasets/qa.yaml": {
            "apiVersion": API, "kind": "Dataset", "metadata": {"name": "qa"},
            "spec": {"version": "1.0.0", "purpose": "evaluation", "path": "data/qa.jsonl", "format": "jsonl",
                     "license": "CC0-1.0", "pii": {"contains": False},
                     "schema": {"type": "object", "required": ["id", "question", "expected"],
                                "properties": {"id": {"type": "string"}, "question": {"type": "string", "minLength": 1},
                                               "expected": {"type": "string"}}}},
        },
        "environments/dev/evals/qa-suite.yaml": {
            "apiVersion": API, "kind": "EvalSuite", "metadata": {"name": "qa-suite"},
            "spec": {"version": "1.0.0", "targets": [{"kind": "Prompt", "name": "echo", "version": "^1.0.0"}],
                     "dataset": {"name": "qa", "version": "^1.0.0"},
                     "metrics": [{"name": "mentions", "type": "contains-any", "field": "expected", "threshold": 1.0},
                                 {"name": "overlap", "type": "rouge-1", "field": "expected"},
                                 {"name": "latency", "type": "latency", "params": {"percentile": 95}}],
                     "gates": {"minPassRate": 0.7, "unmeasured": "fail"}},
        },
    }


def write(root: Path, docs: dict[str, dict[str, Any]], records: list[dict[str, Any]] | None = None,
          extra: dict[str, str] | None = None) -> Path:
    for relpath, doc in docs.items():
        path = root / relpath
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text(yaml.safe_dump(doc, sort_keys=False), encoding="utf-8")
    data = root / "data" / "qa.jsonl"
    data.parent.mkdir(parents=True, exist_ok=True)
    data.write_text("".join(json.dumps(r) + "\n" for r in (RECORDS if records is None else records)), encoding="utf-8")
    for relpath, text in (extra or {}).items():
        (root / relpath).parent.mkdir(parents=True, exist_ok=True)
        (root / relpath).write_text(text, encoding="utf-8")
    return root


SUITE = "environments/dev/evals/qa-suite.yaml"
