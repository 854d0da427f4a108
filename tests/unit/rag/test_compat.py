"""The index compatibility table, rule by rule, on top of the versioning catalog."""

from __future__ import annotations

import copy
from typing import Any

import pytest

from llmgitops.rag.compat import assess
from llmgitops.versioning import Level

BASE: dict[str, Any] = {
    "version": "1.0.0",
    "sources": [{"name": "docs", "version": "^1.0.0"}],
    "parsing": {"format": "jsonl", "idField": "id", "textField": "text"},
    "chunking": {"unit": "tokens", "size": 256, "overlap": 32},
    "embedding": {"model": {"id": "sentence-transformers/all-MiniLM-L6-v2", "revision": "abc"},
                  "dimensions": 384, "normalize": True, "batchSize": 32},
    "index": {"store": "faiss", "collection": "kb-v1", "distance": "cosine", "kind": "hnsw",
              "hnsw": {"m": 32, "efConstruction": 200, "efSearch": 64}},
    "retrieval": {"topK": 4, "scoreThreshold": 0.2},
    "description": "kb",
}


def changed(path: tuple[str, ...], value: Any) -> dict[str, Any]:
    new = copy.deepcopy(BASE)
    node = new
    for key in path[:-1]:
        node = node.setdefault(key, {})
    node[path[-1]] = value
    return new


CASES = [
    # re-embed into a new collection
    (("embedding", "model", "id"), "intfloat/multilingual-e5-small", "reembed", "rag/embedding-model-changed"),
    (("embedding", "model", "revision"), "def", "reembed", "rag/embedding-model-changed"),
    (("embedding", "dimensions"), 768, "reembed", "rag/embedding-dimensions-changed"),
    (("embedding", "normalize"), False, "reembed", "rag/embedding-normalize-changed"),
    (("embedding", "documentPrefix"), "passage: ", "reembed", "rag/embedding-prefix-changed"),
    (("embedding", "queryPrefix"), "query: ", "reembed", "rag/embedding-prefix-changed"),
    (("chunking", "size"), 128, "reembed", "rag/chunking-changed"),
    (("chunking", "overlap"), 0, "reembed", "rag/chunking-changed"),
    (("chunking", "unit"), "characters", "reembed", "rag/chunking-changed"),
    (("parsing", "textField"), "body", "reembed", "rag/parsing-changed"),
    (("index", "distance"), "dot", "reembed", "rag/distance-changed"),
    (("index", "store"), "qdrant", "reembed", "rag/store-changed"),
    (("sources",), [{"name": "docs", "version": "^2.0.0"}], "reembed", "rag/sources-changed"),
    (("index", "collection"), "kb-v2", "reembed", "rag/collection-changed"),
    # rebuild the index without re-embedding
    (("index", "hnsw", "m"), 16, "rebuild", "rag/index-params-changed"),
    (("index", "hnsw", "efConstruction"), 100, "rebuild", "rag/index-params-changed"),
    (("index", "quantization"), "sq8", "rebuild", "rag/index-quantization-changed"),
    (("index", "kind"), "flat", "rebuild", "rag/index-kind-changed"),
    # query time only
    (("retrieval", "topK"), 8, "query-only", "rag/top-k-changed"),
    (("retrieval", "scoreThreshold"), 0.3, "query-only", "rag/score-threshold-changed"),
    (("retrieval", "reranker"), {"model": {"id": "cross-encoder/ms-marco-MiniLM-L-6-v2"}}, "query-only",
     "rag/reranker-changed"),
    (("index", "hnsw", "efSearch"), 128, "query-only", "rag/search-params-changed"),
    # nothing the index depends on
    (("embedding", "batchSize"), 8, "none", None),
    (("description",), "another description", "none", None),
]


@pytest.mark.parametrize(("path", "value", "action", "rule"), CASES, ids=[".".join(c[0]) for c in CASES])
def test_each_change_forces_its_action(path, value, action, rule):
    result = assess(BASE, changed(path, value))
    assert result.action == action
    rules = [r.rule for r in result.reasons]
    if rule is None:
        assert rules == []
    else:
        assert rule in rules
        reason = next(r for r in result.reasons if r.rule == rule)
        assert reason.reason and reason.path.startswith("$.spec")


def test_the_strongest_action_wins():
    new = changed(("retrieval", "topK"), 8)
    new["index"]["hnsw"]["m"] = 8
    assert assess(BASE, new).action == "rebuild"
    new["embedding"]["dimensions"] = 512
    result = assess(BASE, new)
    assert result.action == "reembed"
    assert result.level is Level.MAJOR
    assert {r.rule for r in result.reasons} >= {"rag/top-k-changed", "rag/index-params-changed",
                                                "rag/embedding-dimensions-changed"}


def test_identical_configs_need_nothing():
    result = assess(BASE, copy.deepcopy(BASE))
    assert (result.action, result.reasons, result.level) == ("none", (), Level.NONE)


def test_a_change_no_rule_understands_is_treated_as_a_reembed():
    new = copy.deepcopy(BASE)
    new["mystery"] = {"x": 1}
    result = assess(BASE, new)
    assert result.action == "reembed"
    assert [r.rule for r in result.reasons] == ["manifest/unclassified-change"]


def test_whole_manifests_and_specs_give_the_same_answer():
    manifest = {"apiVersion": "llmgitops.dev/v1alpha1", "kind": "RagConfig", "metadata": {"name": "kb"},
                "spec": BASE}
    new_manifest = copy.deepcopy(manifest)
    new_manifest["spec"]["retrieval"]["topK"] = 9
    assert assess(manifest, new_manifest).to_dict() == assess(BASE, new_manifest["spec"]).to_dict()


def test_only_ragconfigs_are_compared():
    prompt = {"apiVersion": "llmgitops.dev/v1alpha1", "kind": "Prompt", "metadata": {"name": "p"},
              "spec": {"version": "1.0.0"}}
    with pytest.raises(ValueError, match="RagConfig"):
        assess(prompt, prompt)
    with pytest.raises(TypeError):
        assess("kb.yaml", BASE)  # type: ignore[arg-type]
