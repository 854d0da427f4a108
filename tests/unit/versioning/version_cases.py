"""Base manifests of every kind and, per versioning rule, a change that fires it and a near miss that must not.

A case mutates a deep copy of its kind's base document (and optionally the files it references); the
differ then compares base and mutation. Both sides are written to real directories and read through
``WorkingTree``, so referenced files (DVC pointers, dataset files) go through the real source code.
"""

from __future__ import annotations

import copy
import json
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from llmgitops.manifests.loader import load_text
from llmgitops.manifests.repository import Manifest, expected_kind
from llmgitops.manifests.source import WorkingTree
from llmgitops.versioning import ManifestChange, diff_manifests

API = "llmgitops.dev/v1alpha1"

POINTER = """outs:
- md5: {md5}
  size: 1024
  hash: md5
  path: {name}
"""

BASE_FILES: dict[str, str] = {
    "data/chat.dvc": POINTER.format(md5="a" * 32, name="chat"),
    "data/corpus.jsonl.dvc": POINTER.format(md5="b" * 32, name="corpus.jsonl"),
    "data/ds.jsonl": '{"q": "one", "a": "1"}\n{"q": "two", "a": "2"}\n{"q": "three", "a": "3"}\n',
    "data/test-ids.txt": "1\n2\n",
    "reports/quality.json": '{"accuracy": 0.8}\n',
}

BASES: dict[str, dict[str, Any]] = {
    "Model": {
        "apiVersion": API, "kind": "Model",
        "metadata": {"name": "chat", "labels": {"team": "ai"}, "annotations": {"owner": "ai"}},
        "spec": {
            "version": "1.0.0", "description": "A chat model.",
            "baseModel": {"id": "google/gemma-3-270m-it", "revision": "abc123"},
            "weights": {"format": "safetensors", "dvc": {"path": "data/chat.dvc"}},
            "training": {"method": "lora", "datasets": [{"name": "sft", "version": "^1.0.0"}],
                         "hyperparameters": {"lr": 0.0001, "epochs": 2},
                         "resources": {"gpu": 1, "memory": "16Gi"}},
            "quantization": {"method": "none"},
            "interface": {"maxContextTokens": 8192,
                          "tokenizer": {"id": "google/gemma-3-270m-it", "revision": "abc123"},
                          "chatTemplate": "gemma", "capabilities": ["chat", "json-mode"],
                          "embeddingDimensions": 640},
            "serving": {"runtime": "vllm", "args": {"max_model_len": 4096, "dtype": "bfloat16"},
                        "resources": {"requests": {"cpu": "1", "memory": "4Gi"}},
                        "replicas": {"min": 1, "max": 2}},
            "evalBaselines": [{"suite": {"name": "quality", "version": "^1.0.0"},
                               "metrics": [{"name": "accuracy", "value": 0.8}],
                               "report": "reports/quality.json"}],
            "pricing": {"inputPer1kTokens": 0.1, "outputPer1kTokens": 0.2, "currency": "USD"},
        },
    },
    "Prompt": {
        "apiVersion": API, "kind": "Prompt", "metadata": {"name": "qa", "labels": {"team": "ai"}},
        "spec": {
            "version": "1.0.0", "description": "Answers questions.", "type": "chat",
            "modelRef": {"name": "chat", "version": "^1.0.0"},
            "config": {"temperature": 0, "maxOutputTokens": 200},
            "templateFormat": "jinja2",
            "input": {
                "question": {"type": "string", "required": True, "maxLength": 4000, "source": "user",
                             "description": "The question."},
                "context": {"type": "string", "default": "", "description": "Retrieved text."},
            },
            "output": {"format": "json", "schema": {
                "type": "object", "required": ["answer"],
                "properties": {"answer": {"type": "string"}, "confidence": {"type": "number"}}}},
            "messages": [
                {"role": "system", "content": "You answer questions about backups. Context: {{ context }}"},
                {"role": "user", "content": "{{ question }}"},
            ],
            "examples": [{"name": "basic", "input": {"question": "How?"},
                          "assertions": [{"type": "json-schema"}]}],
        },
    },
    "RagConfig": {
        "apiVersion": API, "kind": "RagConfig", "metadata": {"name": "docs"},
        "spec": {
            "version": "1.0.0", "description": "Docs retrieval.",
            "sources": [{"name": "corpus", "version": "^1.0.0"}, {"name": "faq", "version": "^2.0.0"}],
            "parsing": {"format": "jsonl", "textField": "text", "idField": "id"},
            "chunking": {"unit": "tokens", "size": 256, "overlap": 32},
            "embedding": {"model": {"id": "sentence-transformers/all-MiniLM-L6-v2", "revision": "c974"},
                          "modelRef": {"name": "minilm", "version": "^1.0.0"},
                          "dimensions": 384, "normalize": True, "batchSize": 32},
            "index": {"store": "faiss", "collection": "docs-v1", "distance": "cosine", "kind": "hnsw",
                      "hnsw": {"m": 32, "efConstruction": 200, "efSearch": 64}, "quantization": "none"},
            "retrieval": {"topK": 4, "scoreThreshold": 0.2,
                          "reranker": {"model": {"id": "cross-encoder/ms-marco", "revision": "r1"}, "topN": 2}},
        },
    },
    "Dataset": {
        "apiVersion": API, "kind": "Dataset", "metadata": {"name": "qa-set"},
        "spec": {
            "version": "1.0.0", "description": "Questions.", "purpose": "evaluation",
            "path": "data/ds.jsonl", "format": "jsonl", "records": 3, "license": "CC-BY-4.0",
            "schema": {"type": "object", "required": ["q"],
                       "properties": {"q": {"type": "string"}, "a": {"type": "string"}}},
            "splits": {"test": {"filter": "id < 100"}, "holdout": {"path": "data/test-ids.txt"}},
            "pii": {"contains": False, "categories": [], "handling": "none"},
        },
    },
    "DvcDataset": {
        "apiVersion": API, "kind": "Dataset", "metadata": {"name": "corpus"},
        "spec": {
            "version": "1.0.0", "purpose": "rag-corpus", "storage": {"dvc": {"path": "data/corpus.jsonl.dvc"}},
            "format": "jsonl", "records": 100, "license": "CC-BY-4.0", "pii": {"contains": False},
        },
    },
    "EvalSuite": {
        "apiVersion": API, "kind": "EvalSuite", "metadata": {"name": "quality"},
        "spec": {
            "version": "1.0.0", "description": "Answer quality.",
            "targets": [{"kind": "Prompt", "name": "qa", "version": "^1.0.0"},
                        {"kind": "Model", "name": "chat", "version": "^1.0.0"}],
            "dataset": {"name": "qa-set", "version": "^1.0.0"},
            "provider": "local",
            "metrics": [
                {"name": "accuracy", "type": "exact-match", "threshold": 0.8, "field": "a"},
                {"name": "latency", "type": "latency", "threshold": 2000, "params": {"percentile": 95}},
            ],
            "gates": {"minPassRate": 0.9, "maxRegression": 0.02, "unmeasured": "fail"},
            "repeat": 1,
            "runner": {"concurrency": 4, "timeoutSeconds": 30},
        },
    },
}

FOLDERS = {"Model": "models", "Prompt": "prompts", "RagConfig": "rag", "Dataset": "datasets",
           "EvalSuite": "evals"}

Mutation = Callable[[dict[str, Any], dict[str, str]], None]


def _walk(doc: Any, path: str) -> tuple[Any, str | int]:
    parts: list[str | int] = [int(p) if p.isdigit() else p for p in path.split(".")]
    node = doc
    for part in parts[:-1]:
        node = node[part]
    return node, parts[-1]


@dataclass
class Change:
    """A composable edit of a document (and its files) that knows which paths it touches."""

    steps: list[Mutation] = field(default_factory=list)
    paths: list[str] = field(default_factory=list)

    def __call__(self, doc: dict[str, Any], files: dict[str, str]) -> None:
        for step in self.steps:
            step(doc, files)

    def __add__(self, other: Change) -> Change:
        return Change(self.steps + other.steps, self.paths + other.paths)


def S(path: str, value: Any) -> Change:
    def step(doc: dict[str, Any], files: dict[str, str]) -> None:
        node, key = _walk(doc, path)
        if isinstance(node, list) and key == len(node):
            node.append(copy.deepcopy(value))
        else:
            node[key] = copy.deepcopy(value)
    return Change([step], [path])


def D(path: str) -> Change:
    def step(doc: dict[str, Any], files: dict[str, str]) -> None:
        node, key = _walk(doc, path)
        del node[key]
    return Change([step], [path])


def R(path: str, new_key: str) -> Change:
    """Rename a mapping key, keeping its value."""
    def step(doc: dict[str, Any], files: dict[str, str]) -> None:
        node, key = _walk(doc, path)
        node[new_key] = node.pop(key)
    return Change([step], [path])


def F(relpath: str, text: str) -> Change:
    """Replace a referenced file's content on the new side."""
    def step(doc: dict[str, Any], files: dict[str, str]) -> None:
        files[relpath] = text
    return Change([step], ["file:" + relpath])


@dataclass(frozen=True)
class Case:
    rule: str
    base: str  # key of BASES
    change: Change
    fires: bool
    note: str = ""

    @property
    def id(self) -> str:
        return f"{self.rule}-{'fires' if self.fires else 'quiet'}{'-' + self.note if self.note else ''}"


def P(rule: str, base: str, change: Change, note: str = "") -> Case:
    return Case(rule, base, change, True, note)


def N(rule: str, base: str, change: Change, note: str = "") -> Case:
    return Case(rule, base, change, False, note)


REWORDED = "You answer questions about restores. Context: {{ context }}"
EDITORIAL = "you answer questions about backups -- context: {{context}}"

CASES: list[Case] = [
    # -- every kind
    P("manifest/description-changed", "Model", S("spec.description", "Another text.")),
    N("manifest/description-changed", "Model", S("metadata.labels.team", "ml")),
    P("manifest/labels-changed", "Prompt", S("metadata.labels.team", "ml")),
    N("manifest/labels-changed", "Prompt", S("spec.description", "Other.")),
    P("manifest/annotations-changed", "Model", S("metadata.annotations.owner", "ml")),
    N("manifest/annotations-changed", "Model", S("metadata.labels.team", "ml")),
    P("manifest/api-version-changed", "RagConfig", S("apiVersion", "llmgitops.dev/v1beta1")),
    N("manifest/api-version-changed", "RagConfig", S("spec.description", "Other.")),
    P("manifest/unclassified-change", "Model", S("spec.futureField", {"x": 1})),
    N("manifest/unclassified-change", "Model", S("spec.serving.args.dtype", "float16")),
    # -- Model
    P("model/base-model-changed", "Model", S("spec.baseModel.id", "meta-llama/Llama-3.2-1B")),
    N("model/base-model-changed", "Model", S("spec.baseModel.revision", "def456")),
    P("model/base-revision-changed", "Model", S("spec.baseModel.revision", "def456")),
    N("model/base-revision-changed", "Model", S("spec.baseModel.id", "other/model")),
    P("model/tokenizer-changed", "Model", S("spec.interface.tokenizer.revision", "zzz")),
    N("model/tokenizer-changed", "Model", S("spec.interface.chatTemplate", "chatml")),
    P("model/chat-template-changed", "Model", S("spec.interface.chatTemplate", "chatml")),
    N("model/chat-template-changed", "Model", S("spec.interface.tokenizer.revision", "zzz")),
    P("model/context-shrunk", "Model", S("spec.interface.maxContextTokens", 4096)),
    N("model/context-shrunk", "Model", S("spec.interface.maxContextTokens", 16384)),
    P("model/context-grown", "Model", S("spec.interface.maxContextTokens", 16384)),
    N("model/context-grown", "Model", S("spec.interface.maxContextTokens", 4096)),
    P("model/capability-removed", "Model", S("spec.interface.capabilities", ["chat"])),
    N("model/capability-removed", "Model", S("spec.interface.capabilities", ["json-mode", "chat"]), "reorder"),
    P("model/capability-added", "Model", S("spec.interface.capabilities", ["chat", "json-mode", "tool-calling"])),
    N("model/capability-added", "Model", S("spec.interface.capabilities", ["chat"])),
    P("model/embedding-dimensions-changed", "Model", S("spec.interface.embeddingDimensions", 768)),
    N("model/embedding-dimensions-changed", "Model", S("spec.serving.args.max_model_len", 2048)),
    P("model/weights-changed", "Model", F("data/chat.dvc", POINTER.format(md5="c" * 32, name="chat")), "pointer"),
    P("model/weights-changed", "Model", S("spec.weights.format", "gguf"), "format"),
    N("model/weights-changed", "Model",
      F("data/chat.dvc", "# re-added\nouts:\n  - {path: chat, hash: md5, size: 1024, md5: '" + "a" * 32 + "'}\n"),
      "pointer-reformatted"),
    P("model/training-changed", "Model", S("spec.training.hyperparameters.lr", 0.0002)),
    N("model/training-changed", "Model", S("spec.training.resources.gpu", 2)),
    P("model/quantization-changed", "Model", S("spec.quantization.method", "awq")),
    N("model/quantization-changed", "Model", S("spec.serving.args.dtype", "float16")),
    P("model/training-resources-changed", "Model", S("spec.training.resources.gpu", 2)),
    N("model/training-resources-changed", "Model", S("spec.training.hyperparameters.epochs", 3)),
    P("model/serving-runtime-changed", "Model", S("spec.serving.runtime", "tgi")),
    N("model/serving-runtime-changed", "Model", S("spec.serving.args.dtype", "float16")),
    P("model/serving-args-changed", "Model", S("spec.serving.args.dtype", "float16")),
    N("model/serving-args-changed", "Model", S("spec.serving.runtime", "tgi")),
    P("model/serving-resources-changed", "Model", S("spec.serving.replicas.max", 4)),
    N("model/serving-resources-changed", "Model", S("spec.serving.args.dtype", "float16")),
    P("model/pricing-changed", "Model", S("spec.pricing.inputPer1kTokens", 0.2)),
    N("model/pricing-changed", "Model", S("spec.description", "Cheaper.")),
    P("model/baselines-changed", "Model", S("spec.evalBaselines.0.metrics.0.value", 0.85)),
    P("model/baselines-changed", "Model", F("reports/quality.json", '{"accuracy": 0.85}\n'), "report-file"),
    N("model/baselines-changed", "Model", S("spec.pricing.inputPer1kTokens", 0.2)),
    # -- Prompt
    P("prompt/type-changed", "Prompt",
      S("spec.type", "text") + D("spec.messages") + S("spec.template", "Q: {{ question }} {{ context }}")),
    N("prompt/type-changed", "Prompt", S("spec.messages.0.content", REWORDED)),
    P("prompt/model-swapped", "Prompt", S("spec.modelRef.name", "other-model")),
    N("prompt/model-swapped", "Prompt", S("spec.modelRef.version", "^1.1.0")),
    P("prompt/model-range-changed", "Prompt", S("spec.modelRef.version", "^1.1.0")),
    N("prompt/model-range-changed", "Prompt", S("spec.modelRef.version", "^1.0"), "equivalent-range"),
    P("prompt/input-removed", "Prompt", D("spec.input.context")),
    N("prompt/input-removed", "Prompt", R("spec.input.context", "background"), "renamed"),
    P("prompt/input-renamed", "Prompt", R("spec.input.context", "background")),
    N("prompt/input-renamed", "Prompt", R("spec.input.context", "background") + S("spec.input.background.type", "array")),
    P("prompt/input-retyped", "Prompt", S("spec.input.question.type", "object")),
    N("prompt/input-retyped", "Prompt", S("spec.input.question.description", "What the user asks.")),
    P("prompt/input-made-required", "Prompt", S("spec.input.context.required", True)),
    N("prompt/input-made-required", "Prompt", S("spec.input.question.required", False)),
    P("prompt/input-added-required", "Prompt", S("spec.input.locale", {"type": "string", "required": True})),
    N("prompt/input-added-required", "Prompt", S("spec.input.locale", {"type": "string"})),
    P("prompt/input-narrowed", "Prompt", S("spec.input.question.maxLength", 100)),
    N("prompt/input-narrowed", "Prompt", S("spec.input.question.maxLength", 8000)),
    P("prompt/output-format-changed", "Prompt", S("spec.output", {"format": "text"})),
    N("prompt/output-format-changed", "Prompt", S("spec.output.schema.properties.answer.description", "The answer.")),
    P("prompt/output-contract-broken", "Prompt", D("spec.output.schema.properties.confidence")),
    N("prompt/output-contract-broken", "Prompt", S("spec.output.schema.properties.sources", {"type": "array"})),
    P("prompt/message-reworded", "Prompt", S("spec.messages.0.content", REWORDED)),
    N("prompt/message-reworded", "Prompt", S("spec.messages.0.content", EDITORIAL)),
    P("prompt/messages-restructured", "Prompt", S("spec.messages.2", {"role": "assistant", "content": "Sure."})),
    N("prompt/messages-restructured", "Prompt", S("spec.messages.0.content", REWORDED)),
    P("prompt/input-added-optional", "Prompt", S("spec.input.locale", {"type": "string", "default": "en"})),
    N("prompt/input-added-optional", "Prompt", S("spec.input.locale", {"type": "string", "required": True})),
    P("prompt/input-made-optional", "Prompt", S("spec.input.question.required", False)),
    N("prompt/input-made-optional", "Prompt", S("spec.input.context.required", True)),
    P("prompt/input-widened", "Prompt", S("spec.input.question.maxLength", 8000)),
    N("prompt/input-widened", "Prompt", S("spec.input.question.maxLength", 100)),
    P("prompt/input-default-changed", "Prompt", S("spec.input.context.default", "none")),
    N("prompt/input-default-changed", "Prompt", S("spec.input.context.description", "Other.")),
    P("prompt/input-source-changed", "Prompt", S("spec.input.question.source", "system")),
    N("prompt/input-source-changed", "Prompt", S("spec.input.question.description", "Other.")),
    P("prompt/config-changed", "Prompt", S("spec.config.temperature", 0.5)),
    N("prompt/config-changed", "Prompt", S("spec.config.temperature", 0.0), "same-number"),
    P("prompt/output-field-added", "Prompt", S("spec.output.schema.properties.sources", {"type": "array"})),
    N("prompt/output-field-added", "Prompt", D("spec.output.schema.properties.confidence")),
    P("prompt/message-editorial", "Prompt", S("spec.messages.0.content", EDITORIAL)),
    N("prompt/message-editorial", "Prompt", S("spec.messages.1.content", "{{ question + context }}"), "jinja-exact"),
    P("prompt/input-described", "Prompt", S("spec.input.question.description", "What the user asks.")),
    N("prompt/input-described", "Prompt", S("spec.input.question.type", "object")),
    P("prompt/output-described", "Prompt", S("spec.output.schema.properties.answer.description", "The answer.")),
    N("prompt/output-described", "Prompt", S("spec.output.schema.properties.answer.type", "number")),
    P("prompt/examples-changed", "Prompt", S("spec.examples.0.input.question", "Why?")),
    N("prompt/examples-changed", "Prompt", S("spec.description", "Other.")),
    # -- RagConfig
    P("rag/embedding-model-changed", "RagConfig", S("spec.embedding.model.revision", "d00d")),
    N("rag/embedding-model-changed", "RagConfig", S("spec.embedding.batchSize", 64)),
    P("rag/embedding-dimensions-changed", "RagConfig", S("spec.embedding.dimensions", 768)),
    N("rag/embedding-dimensions-changed", "RagConfig", S("spec.embedding.batchSize", 64)),
    P("rag/embedding-normalize-changed", "RagConfig", S("spec.embedding.normalize", False)),
    N("rag/embedding-normalize-changed", "RagConfig", S("spec.embedding.batchSize", 64)),
    P("rag/embedding-prefix-changed", "RagConfig", S("spec.embedding.queryPrefix", "query: ")),
    N("rag/embedding-prefix-changed", "RagConfig", S("spec.retrieval.topK", 8)),
    P("rag/chunking-changed", "RagConfig", S("spec.chunking.size", 512)),
    N("rag/chunking-changed", "RagConfig", S("spec.retrieval.topK", 8)),
    P("rag/parsing-changed", "RagConfig", S("spec.parsing.textField", "body")),
    N("rag/parsing-changed", "RagConfig", S("spec.retrieval.topK", 8)),
    P("rag/distance-changed", "RagConfig", S("spec.index.distance", "l2")),
    N("rag/distance-changed", "RagConfig", S("spec.index.hnsw.m", 16)),
    P("rag/store-changed", "RagConfig", S("spec.index.store", "qdrant")),
    N("rag/store-changed", "RagConfig", S("spec.index.collection", "docs-v2")),
    P("rag/collection-changed", "RagConfig", S("spec.index.collection", "docs-v2")),
    N("rag/collection-changed", "RagConfig", S("spec.index.store", "qdrant")),
    P("rag/index-params-changed", "RagConfig", S("spec.index.hnsw.efConstruction", 400)),
    N("rag/index-params-changed", "RagConfig", S("spec.index.hnsw.efSearch", 128)),
    P("rag/index-kind-changed", "RagConfig", S("spec.index.kind", "flat")),
    N("rag/index-kind-changed", "RagConfig", S("spec.index.quantization", "sq8")),
    P("rag/index-quantization-changed", "RagConfig", S("spec.index.quantization", "sq8")),
    N("rag/index-quantization-changed", "RagConfig", S("spec.index.kind", "flat")),
    P("rag/sources-changed", "RagConfig", S("spec.sources.0.version", "^2.0.0")),
    N("rag/sources-changed", "RagConfig",
      S("spec.sources", [{"name": "faq", "version": "^2.0.0"}, {"name": "corpus", "version": "^1.0"}]),
      "reordered-equivalent"),
    P("rag/top-k-changed", "RagConfig", S("spec.retrieval.topK", 8)),
    N("rag/top-k-changed", "RagConfig", S("spec.retrieval.scoreThreshold", 0.3)),
    P("rag/reranker-changed", "RagConfig", S("spec.retrieval.reranker.topN", 3)),
    N("rag/reranker-changed", "RagConfig", S("spec.retrieval.topK", 8)),
    P("rag/score-threshold-changed", "RagConfig", S("spec.retrieval.scoreThreshold", 0.3)),
    N("rag/score-threshold-changed", "RagConfig", S("spec.retrieval.topK", 8)),
    P("rag/search-params-changed", "RagConfig", S("spec.index.hnsw.efSearch", 128)),
    N("rag/search-params-changed", "RagConfig", S("spec.index.hnsw.m", 16)),
    P("rag/embedding-batch-size-changed", "RagConfig", S("spec.embedding.batchSize", 64)),
    N("rag/embedding-batch-size-changed", "RagConfig", S("spec.embedding.dimensions", 768)),
    # -- Dataset
    P("dataset/schema-broken", "Dataset", D("spec.schema.properties.a")),
    N("dataset/schema-broken", "Dataset", S("spec.schema.properties.lang", {"type": "string"})),
    P("dataset/split-changed", "Dataset", S("spec.splits.test.filter", "id < 50")),
    P("dataset/split-changed", "Dataset", F("data/test-ids.txt", "1\n3\n"), "split-file"),
    N("dataset/split-changed", "Dataset", S("spec.splits.val", {"filter": "id >= 100"})),
    P("dataset/format-changed", "Dataset", S("spec.format", "csv")),
    N("dataset/format-changed", "Dataset", S("spec.license", "MIT")),
    P("dataset/purpose-changed", "Dataset", S("spec.purpose", "training")),
    N("dataset/purpose-changed", "Dataset", S("spec.description", "Other.")),
    P("dataset/license-changed", "Dataset", S("spec.license", "MIT")),
    N("dataset/license-changed", "Dataset", S("spec.format", "csv")),
    P("dataset/pii-introduced", "Dataset", S("spec.pii.contains", True)),
    N("dataset/pii-introduced", "Dataset", S("spec.pii.categories", ["email"])),
    P("dataset/records-removed", "Dataset", F("data/ds.jsonl", '{"q": "one", "a": "1"}\n{"q": "two", "a": "2"}\n')),
    P("dataset/records-removed", "DvcDataset",
      F("data/corpus.jsonl.dvc", POINTER.format(md5="d" * 32, name="corpus.jsonl")) + S("spec.records", 90),
      "pointer-fewer"),
    N("dataset/records-removed", "Dataset", F("data/ds.jsonl", BASE_FILES["data/ds.jsonl"] + '{"q": "4"}\n')),
    P("dataset/records-appended", "Dataset", F("data/ds.jsonl", BASE_FILES["data/ds.jsonl"] + '{"q": "4"}\n')),
    P("dataset/records-appended", "DvcDataset",
      F("data/corpus.jsonl.dvc", POINTER.format(md5="d" * 32, name="corpus.jsonl")) + S("spec.records", 120),
      "pointer-more"),
    N("dataset/records-appended", "Dataset", F("data/ds.jsonl", BASE_FILES["data/ds.jsonl"].replace("two", "2"))),
    P("dataset/data-changed", "DvcDataset", F("data/corpus.jsonl.dvc", POINTER.format(md5="d" * 32, name="corpus.jsonl"))),
    N("dataset/data-changed", "DvcDataset",
      F("data/corpus.jsonl.dvc", "# moved remote\n" + POINTER.format(md5="b" * 32, name="corpus.jsonl")),
      "pointer-reformatted"),
    P("dataset/field-added", "Dataset", S("spec.schema.properties.lang", {"type": "string"})),
    N("dataset/field-added", "Dataset",
      S("spec.schema.properties.lang", {"type": "string"}) + S("spec.schema.required", ["q", "lang"])),
    P("dataset/split-added", "Dataset", S("spec.splits.val", {"filter": "id >= 100"})),
    N("dataset/split-added", "Dataset", S("spec.splits.test.filter", "id < 50")),
    P("dataset/records-corrected", "Dataset", F("data/ds.jsonl", BASE_FILES["data/ds.jsonl"].replace("two", "2"))),
    N("dataset/records-corrected", "Dataset", F("data/ds.jsonl", BASE_FILES["data/ds.jsonl"] + '{"q": "4"}\n')),
    P("dataset/location-changed", "Dataset",
      S("spec.path", "data/moved.jsonl") + F("data/moved.jsonl", BASE_FILES["data/ds.jsonl"])),
    N("dataset/location-changed", "Dataset",
      S("spec.path", "data/moved.jsonl") + F("data/moved.jsonl", BASE_FILES["data/ds.jsonl"] + '{"q": "4"}\n')),
    P("dataset/schema-documented", "Dataset", S("spec.schema.properties.q.description", "The question.")),
    N("dataset/schema-documented", "Dataset", S("spec.schema.properties.q.type", "integer")),
    P("dataset/pii-details-changed", "Dataset", S("spec.pii.handling", "redacted")),
    N("dataset/pii-details-changed", "Dataset", S("spec.pii.contains", True)),
    # -- EvalSuite
    P("eval/dataset-swapped", "EvalSuite", S("spec.dataset.name", "other-set")),
    N("eval/dataset-swapped", "EvalSuite", S("spec.dataset.version", "^1.1.0")),
    P("eval/metric-changed", "EvalSuite", S("spec.metrics.0.type", "contains-any")),
    N("eval/metric-changed", "EvalSuite", S("spec.metrics.0.threshold", 0.9)),
    P("eval/metric-removed", "EvalSuite", D("spec.metrics.1")),
    N("eval/metric-removed", "EvalSuite",
      S("spec.metrics", list(reversed(BASES["EvalSuite"]["spec"]["metrics"]))), "reordered"),
    P("eval/metric-added", "EvalSuite", S("spec.metrics.2", {"name": "rouge", "type": "rouge-l"})),
    N("eval/metric-added", "EvalSuite", S("spec.metrics.0.threshold", 0.9)),
    P("eval/threshold-tightened", "EvalSuite", S("spec.metrics.0.threshold", 0.9)),
    P("eval/threshold-tightened", "EvalSuite", S("spec.metrics.1.threshold", 1500), "lower-is-better"),
    P("eval/threshold-tightened", "EvalSuite", S("spec.gates.maxRegression", 0.01), "gate"),
    N("eval/threshold-tightened", "EvalSuite", S("spec.metrics.0.threshold", 0.7)),
    P("eval/threshold-relaxed", "EvalSuite", S("spec.metrics.0.threshold", 0.7)),
    P("eval/threshold-relaxed", "EvalSuite", S("spec.metrics.1.threshold", 2500), "lower-is-better"),
    P("eval/threshold-relaxed", "EvalSuite", S("spec.gates.unmeasured", "warn"), "unmeasured"),
    P("eval/threshold-relaxed", "EvalSuite", D("spec.gates.minPassRate"), "gate-removed"),
    N("eval/threshold-relaxed", "EvalSuite", S("spec.gates.minPassRate", 0.95)),
    P("eval/dataset-range-changed", "EvalSuite", S("spec.dataset.version", "^1.1.0")),
    N("eval/dataset-range-changed", "EvalSuite", S("spec.dataset.version", "^1.0"), "equivalent-range"),
    P("eval/targets-changed", "EvalSuite", S("spec.targets.2", {"kind": "RagConfig", "name": "docs", "version": "^1.0.0"})),
    N("eval/targets-changed", "EvalSuite",
      S("spec.targets", [{"kind": "Model", "name": "chat", "version": "^1.0.0"},
                         {"kind": "Prompt", "name": "qa", "version": "^1.0.0"}]), "reordered"),
    P("eval/provider-changed", "EvalSuite", S("spec.provider", "openai")),
    N("eval/provider-changed", "EvalSuite", S("spec.runner.concurrency", 8)),
    P("eval/runner-changed", "EvalSuite", S("spec.runner.concurrency", 8)),
    P("eval/runner-changed", "EvalSuite", S("spec.repeat", 3), "repeat"),
    N("eval/runner-changed", "EvalSuite", S("spec.provider", "openai")),
]


def write_side(root: Path, doc: dict[str, Any], files: dict[str, str]) -> Manifest:
    """Write a manifest and its files below ``root`` and load it the way the tool does."""
    kind = doc["kind"]
    relpath = f"environments/dev/{FOLDERS[kind]}/{doc['metadata']['name']}.yaml"
    for rel, text in files.items():
        (root / rel).parent.mkdir(parents=True, exist_ok=True)
        (root / rel).write_text(text, encoding="utf-8")
    (root / relpath).parent.mkdir(parents=True, exist_ok=True)
    text = json.dumps(doc, indent=2)  # JSON is YAML: the loader reads it like any manifest
    (root / relpath).write_text(text, encoding="utf-8")
    loaded = load_text(text, relpath)
    assert loaded.document is not None, loaded.findings
    env, expected, _ = expected_kind(relpath)
    return Manifest(relpath, env, expected, loaded.document, text.encode())


def run_case(tmp: Path, base: str, change: Change) -> ManifestChange:
    """Diff a base document against its mutation, files included."""
    old_doc = copy.deepcopy(BASES[base])
    new_doc = copy.deepcopy(BASES[base])
    new_files = dict(BASE_FILES)
    change(new_doc, new_files)
    old = write_side(tmp / "old", old_doc, dict(BASE_FILES))
    new = write_side(tmp / "new", new_doc, new_files)
    return diff_manifests(old, new, old_files=WorkingTree(tmp / "old"), new_files=WorkingTree(tmp / "new"))
