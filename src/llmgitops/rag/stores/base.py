"""One interface for every vector store, so the re-index plan and the tests are written once.

Scores are similarities, higher is better, in one scale across stores: cosine similarity for ``cosine``,
the inner product for ``dot``, and the negated Euclidean distance for ``l2``.
"""

from __future__ import annotations

import re
from collections.abc import Sequence
from dataclasses import asdict, dataclass, field
from typing import TYPE_CHECKING, Any, Protocol

from ...errors import LLMGitOpsError
from ..spec import HnswSpec, IndexSpec

if TYPE_CHECKING:
    import numpy as np
    import numpy.typing as npt

    Matrix = npt.NDArray[np.float32]
else:
    Matrix = Any

NAME = re.compile(r"^[A-Za-z0-9][A-Za-z0-9_.-]{0,62}$")


class StoreError(LLMGitOpsError):
    """A vector store refused an operation or holds something unexpected."""


def check_name(name: str, what: str = "collection") -> str:
    """Collection and alias names become file and URL path segments: only the schema's safe characters."""
    if not isinstance(name, str) or not NAME.match(name) or name in (".", ".."):
        raise StoreError(f"invalid {what} name {name!r}: use letters, digits, '-', '_' and '.', at most 63")
    return name


def check_alias_target(store: VectorStore, alias: str, collection: str) -> None:
    """What every store requires before ``set_alias``: a safe name, an existing collection, no shadowing."""
    check_name(alias, "alias")
    if not store.exists(collection):
        raise StoreError(f"cannot point alias {alias!r} at missing collection {collection!r}")
    if store.exists(alias):
        raise StoreError(f"alias {alias!r} would shadow a collection of the same name")


@dataclass(frozen=True)
class CollectionSpec:
    name: str
    dimension: int
    distance: str = "cosine"
    kind: str = "flat"
    hnsw: HnswSpec = field(default_factory=HnswSpec)
    quantization: str = "none"

    @classmethod
    def from_index(cls, index: IndexSpec, dimension: int, name: str | None = None) -> CollectionSpec:
        return cls(name or index.collection, dimension, index.distance, index.kind, index.hnsw, index.quantization)

    def to_dict(self) -> dict[str, Any]:
        return asdict(self)

    @classmethod
    def from_dict(cls, data: dict[str, Any]) -> CollectionSpec:
        hnsw = data.get("hnsw") or {}
        return cls(str(data["name"]), int(data["dimension"]), str(data.get("distance", "cosine")),
                   str(data.get("kind", "flat")), HnswSpec(**hnsw), str(data.get("quantization", "none")))


@dataclass(frozen=True)
class Record:
    """One chunk as stored: its id, the document it came from and its text (what the application gets back)."""

    id: str
    doc_id: str
    text: str
    title: str | None = None


@dataclass(frozen=True)
class Hit:
    id: str
    doc_id: str
    score: float


class VectorStore(Protocol):
    """A vector store adapter. ``build`` is all-or-nothing: a collection is either complete or absent."""

    kind: str

    def build(self, spec: CollectionSpec, records: Sequence[Record], vectors: Matrix,
              info: dict[str, Any] | None = None) -> None:
        """Create ``spec.name`` holding ``records`` with ``vectors``; StoreError if it already exists.
        ``info`` (JSON) is kept with the collection: what built it, for the next re-index plan."""
        ...

    def info(self, collection: str) -> dict[str, Any]: ...

    def exists(self, collection: str) -> bool: ...

    def collections(self) -> list[str]: ...

    def describe(self, collection: str) -> CollectionSpec: ...

    def count(self, collection: str) -> int: ...

    def search(self, target: str, queries: Matrix, k: int, ef_search: int | None = None) -> list[list[Hit]]:
        """Top-``k`` hits per query row; ``target`` is a collection or an alias."""
        ...

    def delete(self, collection: str) -> None: ...

    def alias(self, alias: str) -> str | None:
        """The collection ``alias`` points at, or None."""
        ...

    def set_alias(self, alias: str, collection: str) -> None:
        """Point ``alias`` at ``collection`` in one atomic step (readers see the old or the new, never none)."""
        ...

    def close(self) -> None: ...


def open_store(kind: str, location: str) -> VectorStore:
    """The adapter for ``index.store``: ``location`` is a directory (FAISS, embedded Qdrant) or a Qdrant URL."""
    if kind == "faiss":
        from .faiss_store import FaissStore

        return FaissStore(location)
    if kind == "qdrant":
        from .qdrant_store import QdrantStore

        return QdrantStore(location)
    raise StoreError(f"no adapter for vector store {kind!r} yet",
                     hint="faiss and qdrant are supported; docs/rag.md describes the next adapters")
