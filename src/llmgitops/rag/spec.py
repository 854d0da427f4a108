"""A typed view of a RagConfig's spec, with the schema's defaults filled in.

Manifests are schema-validated before they get here, but this view is also built from hand-written dicts
(tests, the benchmark, ``compat.assess`` on two plain dicts), so it checks what it reads and raises
``RagSpecError`` naming the field instead of failing later with a KeyError.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from typing import Any

from ..errors import LLMGitOpsError

DEFAULT_SEPARATORS: tuple[str, ...] = ("\n\n", "\n", " ", "")
CHUNK_UNITS = ("tokens", "characters", "recursive")
DISTANCES = ("cosine", "dot", "l2")
STORES = ("faiss", "qdrant", "elasticsearch", "redis", "pgvector")
INDEX_KINDS = ("flat", "hnsw")
QUANTIZATIONS = ("none", "sq8", "pq")
_COLLECTION_MAJOR = re.compile(r"^(?P<base>.+)-v(?P<major>0|[1-9][0-9]*)$")


class RagSpecError(LLMGitOpsError):
    """A RagConfig field this package cannot work with."""

    def __init__(self, field_path: str, message: str) -> None:
        super().__init__(f"spec.{field_path}: {message}")
        self.field_path = field_path


def _mapping(data: dict[str, Any], key: str, where: str, required: bool = True) -> dict[str, Any]:
    value = data.get(key)
    if value is None and not required:
        return {}
    if not isinstance(value, dict):
        raise RagSpecError(f"{where}{key}", "is required and must be a mapping")
    return value


def _int(data: dict[str, Any], key: str, where: str, default: int | None = None, minimum: int = 0) -> int:
    value = data.get(key, default)
    if isinstance(value, bool) or not isinstance(value, int) or value < minimum:
        raise RagSpecError(f"{where}{key}", f"must be an integer >= {minimum}")
    return value


def _choice(data: dict[str, Any], key: str, where: str, choices: tuple[str, ...], default: str | None) -> str:
    value = data.get(key, default)
    if value not in choices:
        raise RagSpecError(f"{where}{key}", f"must be one of {', '.join(choices)} (got {value!r})")
    assert isinstance(value, str)
    return value


def _str(data: dict[str, Any], key: str, where: str, default: str | None = None) -> str | None:
    value = data.get(key, default)
    if value is not None and not isinstance(value, str):
        raise RagSpecError(f"{where}{key}", "must be a string")
    return value


@dataclass(frozen=True)
class ModelPin:
    id: str
    revision: str | None = None

    @property
    def label(self) -> str:
        return f"{self.id}@{self.revision}" if self.revision else self.id


def _pin(data: dict[str, Any], where: str) -> ModelPin:
    model_id = data.get("id")
    if not isinstance(model_id, str) or not model_id:
        raise RagSpecError(f"{where}id", "is required")
    revision = data.get("revision")
    return ModelPin(model_id, str(revision) if revision is not None else None)


@dataclass(frozen=True)
class ParsingSpec:
    format: str | None = None
    text_field: str = "text"
    id_field: str = "id"
    title_field: str | None = None


@dataclass(frozen=True)
class ChunkingSpec:
    unit: str
    size: int
    overlap: int = 0
    separators: tuple[str, ...] = DEFAULT_SEPARATORS


@dataclass(frozen=True)
class EmbeddingSpec:
    model: ModelPin
    dimensions: int
    normalize: bool = False
    document_prefix: str = ""
    query_prefix: str = ""
    batch_size: int = 32
    model_ref: tuple[str, str] | None = None


@dataclass(frozen=True)
class HnswSpec:
    m: int = 32
    ef_construction: int = 40
    ef_search: int = 16


@dataclass(frozen=True)
class IndexSpec:
    store: str
    collection: str
    distance: str = "cosine"
    kind: str = "flat"
    hnsw: HnswSpec = field(default_factory=HnswSpec)
    quantization: str = "none"

    @property
    def alias(self) -> str:
        """The stable name applications query: the collection without its ``-v<major>`` suffix."""
        match = _COLLECTION_MAJOR.match(self.collection)
        return match.group("base") if match else self.collection

    @property
    def collection_major(self) -> int | None:
        match = _COLLECTION_MAJOR.match(self.collection)
        return int(match.group("major")) if match else None


@dataclass(frozen=True)
class RerankerSpec:
    model: ModelPin
    top_n: int | None = None


@dataclass(frozen=True)
class RetrievalSpec:
    top_k: int
    score_threshold: float | None = None
    reranker: RerankerSpec | None = None


@dataclass(frozen=True)
class RagSpec:
    name: str
    version: str
    sources: tuple[tuple[str, str], ...]
    parsing: ParsingSpec
    chunking: ChunkingSpec
    embedding: EmbeddingSpec
    index: IndexSpec
    retrieval: RetrievalSpec
    raw: dict[str, Any] = field(default_factory=dict, compare=False, hash=False, repr=False)

    @property
    def major(self) -> int | None:
        head = self.version.split(".", 1)[0]
        return int(head) if head.isdigit() else None

    @classmethod
    def from_manifest_data(cls, data: dict[str, Any]) -> RagSpec:
        """From a whole manifest document (apiVersion, kind, metadata, spec)."""
        metadata = data.get("metadata")
        name = metadata.get("name") if isinstance(metadata, dict) else None
        if not isinstance(name, str):
            name = "ragconfig"
        spec = data.get("spec")
        if not isinstance(spec, dict):
            raise RagSpecError("", "the manifest has no spec mapping")
        return cls.from_spec(name, spec)

    @classmethod
    def from_spec(cls, name: str, spec: dict[str, Any]) -> RagSpec:
        version = spec.get("version")
        if not isinstance(version, str):
            raise RagSpecError("version", "is required")
        sources_raw = spec.get("sources")
        if not isinstance(sources_raw, list) or not sources_raw:
            raise RagSpecError("sources", "needs at least one Dataset reference")
        sources: list[tuple[str, str]] = []
        for i, ref in enumerate(sources_raw):
            if not isinstance(ref, dict) or not isinstance(ref.get("name"), str):
                raise RagSpecError(f"sources[{i}]", "must be a {name, version} reference")
            sources.append((ref["name"], str(ref.get("version", "*"))))

        parsing_raw = _mapping(spec, "parsing", "", required=False)
        parsing = ParsingSpec(
            format=_str(parsing_raw, "format", "parsing."),
            text_field=_str(parsing_raw, "textField", "parsing.", "text") or "text",
            id_field=_str(parsing_raw, "idField", "parsing.", "id") or "id",
            title_field=_str(parsing_raw, "titleField", "parsing."),
        )

        ch = _mapping(spec, "chunking", "")
        unit = _choice(ch, "unit", "chunking.", CHUNK_UNITS, None)
        size = _int(ch, "size", "chunking.", minimum=1)
        overlap = _int(ch, "overlap", "chunking.", default=0)
        if overlap >= size:
            raise RagSpecError("chunking.overlap", f"must be smaller than chunking.size ({overlap} >= {size})")
        seps_raw = ch.get("separators", list(DEFAULT_SEPARATORS))
        if not isinstance(seps_raw, list) or not all(isinstance(s, str) for s in seps_raw):
            raise RagSpecError("chunking.separators", "must be a list of strings")
        chunking = ChunkingSpec(unit, size, overlap, tuple(seps_raw))

        em = _mapping(spec, "embedding", "")
        model_ref_raw = em.get("modelRef")
        model_ref = None
        if isinstance(model_ref_raw, dict) and isinstance(model_ref_raw.get("name"), str):
            model_ref = (model_ref_raw["name"], str(model_ref_raw.get("version", "*")))
        normalize = em.get("normalize", False)
        if not isinstance(normalize, bool):
            raise RagSpecError("embedding.normalize", "must be true or false")
        embedding = EmbeddingSpec(
            model=_pin(_mapping(em, "model", "embedding."), "embedding.model."),
            dimensions=_int(em, "dimensions", "embedding.", minimum=1),
            normalize=normalize,
            document_prefix=_str(em, "documentPrefix", "embedding.", "") or "",
            query_prefix=_str(em, "queryPrefix", "embedding.", "") or "",
            batch_size=_int(em, "batchSize", "embedding.", default=32, minimum=1),
            model_ref=model_ref,
        )

        ix = _mapping(spec, "index", "")
        collection = _str(ix, "collection", "index.")
        if not collection:
            raise RagSpecError("index.collection", "is required")
        hn = _mapping(ix, "hnsw", "index.", required=False)
        defaults = HnswSpec()
        hnsw = HnswSpec(
            m=_int(hn, "m", "index.hnsw.", default=defaults.m, minimum=2),
            ef_construction=_int(hn, "efConstruction", "index.hnsw.", default=defaults.ef_construction, minimum=1),
            ef_search=_int(hn, "efSearch", "index.hnsw.", default=defaults.ef_search, minimum=1),
        )
        index = IndexSpec(
            store=_choice(ix, "store", "index.", STORES, None),
            collection=collection,
            distance=_choice(ix, "distance", "index.", DISTANCES, "cosine"),
            kind=_choice(ix, "kind", "index.", INDEX_KINDS, "hnsw" if hn else "flat"),
            hnsw=hnsw,
            quantization=_choice(ix, "quantization", "index.", QUANTIZATIONS, "none"),
        )

        rt = _mapping(spec, "retrieval", "")
        threshold = rt.get("scoreThreshold")
        if threshold is not None and (isinstance(threshold, bool) or not isinstance(threshold, int | float)):
            raise RagSpecError("retrieval.scoreThreshold", "must be a number")
        rr = _mapping(rt, "reranker", "retrieval.", required=False)
        reranker = None
        if rr:
            top_n = rr.get("topN")
            reranker = RerankerSpec(_pin(_mapping(rr, "model", "retrieval.reranker."), "retrieval.reranker.model."),
                                    top_n if isinstance(top_n, int) and not isinstance(top_n, bool) else None)
        retrieval = RetrievalSpec(
            top_k=_int(rt, "topK", "retrieval.", minimum=1),
            score_threshold=float(threshold) if threshold is not None else None,
            reranker=reranker,
        )
        return cls(name, version, tuple(sources), parsing, chunking, embedding, index, retrieval, spec)
