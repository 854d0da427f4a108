"""RagConfig: the index compatibility table.

re-embed into a new collection (MAJOR, requires-reembed): embedding model id or revision, dimensions,
    normalize, documentPrefix/queryPrefix, chunking, parsing, distance, store;
rebuild the index from stored vectors (MINOR, requires-index-rebuild): HNSW build params, index kind,
    vector quantization;
sources (MINOR, requires-reembed of the changed sources only);
query time only (PATCH): topK, reranker, scoreThreshold, HNSW efSearch.
"""

from __future__ import annotations

from typing import Any

from ..diff import DiffContext, Pattern
from .common import ranges_equivalent

PATTERNS: tuple[tuple[Pattern, str], ...] = (
    (("spec", "embedding", "model"), "rag/embedding-model-changed"),
    (("spec", "embedding", "modelRef"), "rag/embedding-model-changed"),
    (("spec", "embedding", "dimensions"), "rag/embedding-dimensions-changed"),
    (("spec", "embedding", "normalize"), "rag/embedding-normalize-changed"),
    (("spec", "embedding", "documentPrefix"), "rag/embedding-prefix-changed"),
    (("spec", "embedding", "queryPrefix"), "rag/embedding-prefix-changed"),
    (("spec", "embedding", "batchSize"), "rag/embedding-batch-size-changed"),
    (("spec", "chunking"), "rag/chunking-changed"),
    (("spec", "parsing"), "rag/parsing-changed"),
    (("spec", "index", "distance"), "rag/distance-changed"),
    (("spec", "index", "store"), "rag/store-changed"),
    (("spec", "index", "collection"), "rag/collection-changed"),
    (("spec", "index", "hnsw", "efSearch"), "rag/search-params-changed"),
    (("spec", "index", "hnsw"), "rag/index-params-changed"),
    (("spec", "index", "kind"), "rag/index-kind-changed"),
    (("spec", "index", "quantization"), "rag/index-quantization-changed"),
    (("spec", "retrieval", "topK"), "rag/top-k-changed"),
    (("spec", "retrieval", "reranker"), "rag/reranker-changed"),
    (("spec", "retrieval", "scoreThreshold"), "rag/score-threshold-changed"),
)


def _sources(value: Any) -> dict[str, Any]:
    if not isinstance(value, list):
        return {}
    return {
        s["name"]: s.get("version") for s in value if isinstance(s, dict) and isinstance(s.get("name"), str)
    }


def diff(ctx: DiffContext) -> None:
    where = ("spec", "sources")
    old, new = _sources(ctx.before(*where)), _sources(ctx.after(*where))
    changed = sorted(
        {n for n in old if n not in new}
        | {n for n in new if n not in old}
        | {n for n in old if n in new and not ranges_equivalent(old[n], new[n])}
    )
    if changed:
        parts = []
        for n in changed:
            if n not in new:
                parts.append(f"{n} removed")
            elif n not in old:
                parts.append(f"{n} added")
            else:
                parts.append(f"{n} {old[n]} -> {new[n]}")
        # removed sources need their vectors dropped, added or moved ones embedded: both touch the index
        ctx.hit("rag/sources-changed", where, "sources: " + ", ".join(parts), detail={"sources": changed})
    ctx.claim(*where)  # a set of corpora: order means nothing
