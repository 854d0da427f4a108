"""The typed RagConfig view: defaults, the alias/major convention, and errors that name the field."""

from __future__ import annotations

import copy

import pytest

from llmgitops.rag.spec import RagSpec, RagSpecError

SPEC = {
    "version": "2.3.1",
    "sources": [{"name": "docs", "version": "^1.0.0"}],
    "chunking": {"unit": "recursive", "size": 400},
    "embedding": {"model": {"id": "m/x"}, "dimensions": 8},
    "index": {"store": "faiss", "collection": "kb-v2"},
    "retrieval": {"topK": 3},
}


def test_defaults():
    rag = RagSpec.from_spec("kb", SPEC)
    assert rag.chunking.overlap == 0 and rag.chunking.separators[-1] == ""
    assert (rag.index.distance, rag.index.kind, rag.index.quantization) == ("cosine", "flat", "none")
    assert rag.embedding.normalize is False and rag.embedding.batch_size == 32
    assert rag.parsing.text_field == "text" and rag.parsing.title_field is None
    assert rag.retrieval.score_threshold is None and rag.retrieval.reranker is None
    assert rag.major == 2 and rag.index.alias == "kb" and rag.index.collection_major == 2
    assert rag.raw is SPEC


def test_hnsw_block_implies_hnsw_kind():
    spec = copy.deepcopy(SPEC)
    spec["index"]["hnsw"] = {"m": 8}
    rag = RagSpec.from_spec("kb", spec)
    assert rag.index.kind == "hnsw" and rag.index.hnsw.m == 8 and rag.index.hnsw.ef_search == 16


def test_collection_without_major_is_its_own_alias():
    spec = copy.deepcopy(SPEC)
    spec["index"]["collection"] = "kb"
    rag = RagSpec.from_spec("kb", spec)
    assert rag.index.alias == "kb" and rag.index.collection_major is None


@pytest.mark.parametrize(("mutate", "field"), [
    (lambda s: s["chunking"].update(overlap=400), "chunking.overlap"),
    (lambda s: s["chunking"].update(unit="words"), "chunking.unit"),
    (lambda s: s["embedding"].pop("dimensions"), "embedding.dimensions"),
    (lambda s: s["embedding"].update(normalize="yes"), "embedding.normalize"),
    (lambda s: s["index"].update(store="pinecone"), "index.store"),
    (lambda s: s["retrieval"].update(topK=0), "retrieval.topK"),
    (lambda s: s["retrieval"].update(scoreThreshold="high"), "retrieval.scoreThreshold"),
    (lambda s: s.update(sources=[]), "sources"),
    (lambda s: s.pop("retrieval"), "retrieval"),
])
def test_errors_name_the_field(mutate, field):
    spec = copy.deepcopy(SPEC)
    mutate(spec)
    with pytest.raises(RagSpecError) as info:
        RagSpec.from_spec("kb", spec)
    assert info.value.field_path == field
    assert f"spec.{field}" in info.value.message
