"""Qdrant: a real vector database with real collection aliases (switched atomically server-side).

``location`` is a Qdrant URL (``http://host:6333``) or a directory for Qdrant's embedded local mode
(``QdrantClient(path=...)``), which is what the tests run against. The CollectionSpec is kept in the
collection's metadata, so ``describe`` returns what was built, including the ``flat`` kind that Qdrant
serves as exact search over its HNSW graph.
"""

from __future__ import annotations

import uuid
import warnings
from collections.abc import Sequence
from pathlib import Path
from typing import Any

from .base import CollectionSpec, Hit, Matrix, Record, StoreError, check_alias_target, check_name

_DISTANCES = {"cosine": "COSINE", "dot": "DOT", "l2": "EUCLID"}
_BATCH = 256
_META_KEY = "llmgitops"
_INFO_KEY = "llmgitops-info"


def point_id(chunk_id: str) -> str:
    """Qdrant ids are integers or UUIDs: a stable UUID per chunk id."""
    return str(uuid.uuid5(uuid.NAMESPACE_URL, "llmgitops:" + chunk_id))


class QdrantStore:
    kind = "qdrant"

    def __init__(self, location: str | Path) -> None:
        from qdrant_client import QdrantClient

        text = str(location)
        self.local = not text.startswith(("http://", "https://"))
        try:
            if self.local:
                Path(text).mkdir(parents=True, exist_ok=True)
                self.client = QdrantClient(path=text)
            else:
                self.client = QdrantClient(url=text)
        except RuntimeError as exc:  # embedded mode allows one client per folder
            raise StoreError(f"cannot open Qdrant at {text}: {exc}") from None
        self.location = text

    def exists(self, collection: str) -> bool:
        # collection_exists() also answers True for an alias: list the real collections instead
        return check_name(collection) in self.collections()

    def collections(self) -> list[str]:
        return sorted(c.name for c in self.client.get_collections().collections)

    def describe(self, collection: str) -> CollectionSpec:
        meta = self._metadata(collection).get(_META_KEY)
        if isinstance(meta, dict):
            return CollectionSpec.from_dict(meta)
        from qdrant_client import models

        vectors = self.client.get_collection(collection).config.params.vectors
        if not isinstance(vectors, models.VectorParams):
            raise StoreError(f"Qdrant collection {collection!r} uses named vectors, which this adapter does not read")
        distance = {v: k for k, v in _DISTANCES.items()}.get(vectors.distance.name, "cosine")
        return CollectionSpec(collection, int(vectors.size), distance, "hnsw")

    def count(self, collection: str) -> int:
        if not self.exists(collection):
            raise StoreError(f"Qdrant collection {collection!r} does not exist at {self.location}")
        return int(self.client.count(collection, exact=True).count)

    def _metadata(self, collection: str) -> dict[str, Any]:
        if not self.exists(collection):
            raise StoreError(f"Qdrant collection {collection!r} does not exist at {self.location}")
        return dict(self.client.get_collection(collection).config.metadata or {})

    def info(self, collection: str) -> dict[str, Any]:
        info = self._metadata(collection).get(_INFO_KEY)
        return info if isinstance(info, dict) else {}

    def build(self, spec: CollectionSpec, records: Sequence[Record], vectors: Matrix,
              info: dict[str, Any] | None = None) -> None:
        from qdrant_client import models

        check_name(spec.name)
        if self.exists(spec.name) or self.alias(spec.name) is not None:
            raise StoreError(f"Qdrant collection {spec.name!r} already exists at {self.location}")
        if len(records) != vectors.shape[0] or (vectors.shape[0] and vectors.shape[1] != spec.dimension):
            raise StoreError(f"{len(records)} records and vectors of shape {vectors.shape} do not fit "
                             f"a {spec.dimension}-dimensional collection")
        quantization: Any = None
        if spec.quantization == "sq8":
            quantization = models.ScalarQuantization(
                scalar=models.ScalarQuantizationConfig(type=models.ScalarType.INT8, always_ram=True))
        elif spec.quantization == "pq":
            quantization = models.ProductQuantization(
                product=models.ProductQuantizationConfig(compression=models.CompressionRatio.X16, always_ram=True))
        self.client.create_collection(
            spec.name,
            vectors_config=models.VectorParams(size=spec.dimension,
                                               distance=getattr(models.Distance, _DISTANCES[spec.distance])),
            hnsw_config=models.HnswConfigDiff(m=spec.hnsw.m, ef_construct=spec.hnsw.ef_construction),
            quantization_config=quantization,
            metadata={_META_KEY: spec.to_dict(), _INFO_KEY: info or {}},
        )
        try:
            for start in range(0, len(records), _BATCH):
                batch = records[start:start + _BATCH]
                self.client.upsert(spec.name, wait=True, points=[
                    models.PointStruct(id=point_id(r.id), vector=vectors[start + i].tolist(),
                                       payload={"chunk_id": r.id, "doc_id": r.doc_id, "text": r.text,
                                                "title": r.title})
                    for i, r in enumerate(batch)])
        except BaseException:
            self.client.delete_collection(spec.name)  # all or nothing
            raise

    def search(self, target: str, queries: Matrix, k: int, ef_search: int | None = None) -> list[list[Hit]]:
        from qdrant_client import models

        collection = self.alias(target) or target
        spec = self.describe(collection)
        params = None
        if not self.local:  # embedded mode is always exact and warns about search params
            params = models.SearchParams(exact=spec.kind == "flat", hnsw_ef=ef_search or spec.hnsw.ef_search)
        requests = [models.QueryRequest(query=q.tolist(), limit=k, params=params, with_payload=True)
                    for q in queries]
        with warnings.catch_warnings():
            warnings.simplefilter("ignore", UserWarning)
            responses = self.client.query_batch_points(collection, requests=requests) if requests else []
        sign = -1.0 if spec.distance == "l2" else 1.0  # Qdrant reports Euclidean distance; we report similarity
        return [[Hit(str(p.payload["chunk_id"]), str(p.payload["doc_id"]), sign * float(p.score))
                 for p in response.points if p.payload]
                for response in responses]

    def delete(self, collection: str) -> None:
        for alias, target in self.aliases().items():
            if target == collection:
                raise StoreError(f"collection {collection!r} is still the target of alias {alias!r}")
        if not self.exists(collection):
            raise StoreError(f"Qdrant collection {collection!r} does not exist at {self.location}")
        self.client.delete_collection(collection)

    def aliases(self) -> dict[str, str]:
        return {a.alias_name: a.collection_name for a in self.client.get_aliases().aliases}

    def alias(self, alias: str) -> str | None:
        return self.aliases().get(check_name(alias, "alias"))

    def set_alias(self, alias: str, collection: str) -> None:
        from qdrant_client import models

        check_alias_target(self, alias, collection)
        operations: list[Any] = []
        if self.alias(alias) is not None:
            operations.append(models.DeleteAliasOperation(delete_alias=models.DeleteAlias(alias_name=alias)))
        operations.append(models.CreateAliasOperation(
            create_alias=models.CreateAlias(collection_name=collection, alias_name=alias)))
        # one request: Qdrant applies the delete and the create atomically
        self.client.update_collection_aliases(change_aliases_operations=operations)

    def close(self) -> None:
        self.client.close()
