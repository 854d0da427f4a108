"""The vector store adapters against the real stores on this machine: FAISS on disk and Qdrant's embedded
local mode (``QdrantClient(path=...)``, the same client API as a Qdrant server)."""

from __future__ import annotations

import itertools
import json

import numpy as np
import pytest

from llmgitops.rag.spec import HnswSpec
from llmgitops.rag.stores.base import CollectionSpec, Record, StoreError, open_store

pytest.importorskip("faiss")
pytest.importorskip("qdrant_client")

DIM = 16


def data(n: int, seed: int = 0) -> tuple[list[Record], np.ndarray]:
    rng = np.random.default_rng(seed)
    vectors = rng.normal(size=(n, DIM)).astype(np.float32)
    records = [Record(f"doc{i // 3}#{i % 3}", f"doc{i // 3}", f"chunk text {i}", f"Title {i // 3}") for i in range(n)]
    return records, vectors


@pytest.fixture(params=["faiss", "qdrant"])
def store(request, tmp_path):
    opened = open_store(request.param, str(tmp_path / request.param))
    yield opened
    opened.close()


def exact_top(vectors: np.ndarray, query: np.ndarray, distance: str, k: int) -> list[int]:
    if distance == "cosine":
        v = vectors / np.linalg.norm(vectors, axis=1, keepdims=True)
        scores = v @ (query / np.linalg.norm(query))
    elif distance == "dot":
        scores = vectors @ query
    else:
        scores = -np.linalg.norm(vectors - query, axis=1)
    return list(np.argsort(-scores, kind="stable")[:k])


@pytest.mark.parametrize("distance", ["cosine", "dot", "l2"])
def test_exact_search_matches_numpy(store, distance):
    records, vectors = data(60)
    store.build(CollectionSpec("kb-v1", DIM, distance), records, vectors)
    query = vectors[7] + 0.01
    hits = store.search("kb-v1", query[None, :], 5)[0]
    assert [h.id for h in hits] == [records[i].id for i in exact_top(vectors, query, distance, 5)]
    assert all(a.score >= b.score for a, b in itertools.pairwise(hits))  # higher is better
    if distance == "cosine":
        assert hits[0].score == pytest.approx(
            float(vectors[7] @ query / np.linalg.norm(vectors[7]) / np.linalg.norm(query)), abs=1e-4)
    if distance == "l2":
        assert hits[0].score == pytest.approx(-float(np.linalg.norm(vectors[7] - query)), abs=1e-3)
    assert hits[0].doc_id == records[7].doc_id


def test_count_describe_info_and_persistence(store, tmp_path):
    records, vectors = data(30)
    spec = CollectionSpec("kb-v1", DIM, "cosine", "hnsw", HnswSpec(m=8, ef_construction=50, ef_search=20))
    store.build(spec, records, vectors, {"ragconfig": {"name": "kb", "version": "1.0.0"}})
    assert store.count("kb-v1") == 30
    assert store.describe("kb-v1") == spec
    assert store.info("kb-v1")["ragconfig"]["version"] == "1.0.0"
    assert store.collections() == ["kb-v1"]
    location = store.root if store.kind == "faiss" else store.location
    store.close()
    reopened = open_store(store.kind, str(location))
    try:
        assert reopened.count("kb-v1") == 30
        assert reopened.search("kb-v1", vectors[:1], 1)[0][0].id == records[0].id
    finally:
        reopened.close()


def test_alias_switch_is_atomic_and_resolves_in_search(store):
    old_records, old_vectors = data(12, seed=1)
    new_records = [Record("new" + r.id, "new" + r.doc_id, r.text) for r in old_records]
    store.build(CollectionSpec("kb-v1", DIM), old_records, old_vectors)
    store.build(CollectionSpec("kb-v2", DIM), new_records, old_vectors)
    assert store.alias("kb") is None
    store.set_alias("kb", "kb-v1")
    assert store.search("kb", old_vectors[:1], 1)[0][0].id == old_records[0].id
    store.set_alias("kb", "kb-v2")
    assert store.alias("kb") == "kb-v2"
    assert store.search("kb", old_vectors[:1], 1)[0][0].id == new_records[0].id


def test_a_served_collection_cannot_be_deleted(store):
    records, vectors = data(6)
    store.build(CollectionSpec("kb-v1", DIM), records, vectors)
    store.set_alias("kb", "kb-v1")
    with pytest.raises(StoreError, match="alias"):
        store.delete("kb-v1")
    store.build(CollectionSpec("kb-v2", DIM), records, vectors)
    store.set_alias("kb", "kb-v2")
    store.delete("kb-v1")
    assert store.collections() == ["kb-v2"]
    with pytest.raises(StoreError, match="does not exist"):
        store.delete("kb-v1")


def test_build_refuses_existing_and_mismatched_input(store):
    records, vectors = data(6)
    store.build(CollectionSpec("kb-v1", DIM), records, vectors)
    with pytest.raises(StoreError, match="already exists"):
        store.build(CollectionSpec("kb-v1", DIM), records, vectors)
    with pytest.raises(StoreError):
        store.build(CollectionSpec("kb-v2", DIM), records[:3], vectors)
    with pytest.raises(StoreError):
        store.build(CollectionSpec("kb-v3", DIM + 1), records, vectors)
    assert store.collections() == ["kb-v1"]  # nothing half-built was left behind


def test_alias_errors(store):
    records, vectors = data(3)
    store.build(CollectionSpec("kb-v1", DIM), records, vectors)
    with pytest.raises(StoreError, match="missing collection"):
        store.set_alias("kb", "kb-v9")
    with pytest.raises(StoreError, match="shadow"):
        store.set_alias("kb-v1", "kb-v1")


@pytest.mark.parametrize("name", ["../escape", "a/b", "", ".", "x" * 64, "bad name"])
def test_hostile_names_are_refused(store, name):
    records, vectors = data(3)
    with pytest.raises(StoreError, match="invalid"):
        store.build(CollectionSpec(name, DIM), records, vectors)
    with pytest.raises(StoreError, match="invalid"):
        store.alias(name)


@pytest.mark.parametrize("quantization", ["sq8", "pq"])
def test_quantized_indexes_still_find_near_duplicates(store, quantization):
    records, vectors = data(300)
    store.build(CollectionSpec("kb-v1", DIM, "l2", quantization=quantization), records, vectors)
    hits = store.search("kb-v1", vectors[:20], 10)
    found = sum(records[i].id in {h.id for h in row} for i, row in enumerate(hits))
    assert found >= 16  # compression loses some precision, not the neighbourhood


def test_faiss_hnsw_is_approximate_but_close(tmp_path):
    store = open_store("faiss", str(tmp_path / "f"))
    records, vectors = data(500, seed=3)
    store.build(CollectionSpec("kb-v1", DIM, "cosine", "hnsw", HnswSpec(m=16, ef_construction=80, ef_search=64)),
                records, vectors)
    queries = vectors[:50] + 0.05
    got = store.search("kb-v1", queries, 10)
    recall = np.mean([len({h.id for h in row} & {records[i].id for i in exact_top(vectors, q, "cosine", 10)}) / 10
                      for q, row in zip(queries, got, strict=True)])
    assert recall > 0.9


def test_faiss_detects_a_corrupted_collection(tmp_path):
    store = open_store("faiss", str(tmp_path / "f"))
    records, vectors = data(5)
    store.build(CollectionSpec("kb-v1", DIM), records, vectors)
    (tmp_path / "f" / "collections" / "kb-v1" / "records.jsonl").write_text(
        json.dumps({"id": "x", "doc_id": "x", "text": "x"}) + "\n", encoding="utf-8")
    with pytest.raises(StoreError, match="inconsistent"):
        store.search("kb-v1", vectors[:1], 1)
    (tmp_path / "f" / "aliases").mkdir()
    (tmp_path / "f" / "aliases" / "kb.json").write_text("{not json", encoding="utf-8")
    with pytest.raises(StoreError, match="unreadable"):
        store.alias("kb")


def test_faiss_alias_file_is_a_small_json_pointer(tmp_path):
    store = open_store("faiss", str(tmp_path / "f"))
    records, vectors = data(3)
    store.build(CollectionSpec("kb-v1", DIM), records, vectors)
    store.set_alias("kb", "kb-v1")
    assert json.loads((tmp_path / "f" / "aliases" / "kb.json").read_text()) == {"collection": "kb-v1"}
    assert not [p for p in (tmp_path / "f" / "aliases").iterdir() if p.name.startswith(".")]  # no temp files


def test_qdrant_embedded_folder_is_locked_to_one_client(tmp_path):
    first = open_store("qdrant", str(tmp_path / "q"))
    try:
        with pytest.raises(StoreError, match="cannot open"):
            open_store("qdrant", str(tmp_path / "q"))
    finally:
        first.close()


def test_unknown_store_kind_points_at_the_docs(tmp_path):
    with pytest.raises(StoreError, match=r"docs/rag\.md"):
        open_store("pgvector", str(tmp_path))
