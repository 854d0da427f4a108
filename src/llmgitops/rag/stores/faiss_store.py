"""FAISS: the embedded default. A collection is a folder (index.faiss, meta.json, records.jsonl); an alias is a
small JSON pointer file replaced atomically, so a reader sees the old collection or the new one, never neither.

Layout under the store directory::

    collections/<name>/index.faiss   the index
    collections/<name>/meta.json     the CollectionSpec and the record count
    collections/<name>/records.jsonl one {id, doc_id, text} per vector, in index order
    aliases/<alias>.json             {"collection": "<name>"}
"""

from __future__ import annotations

import json
import math
import os
import shutil
import tempfile
from collections.abc import Sequence
from pathlib import Path
from typing import Any

from ...atomicfile import write_text
from .base import CollectionSpec, Hit, Matrix, Record, StoreError, check_alias_target, check_name

_METRICS = {"cosine": "METRIC_INNER_PRODUCT", "dot": "METRIC_INNER_PRODUCT", "l2": "METRIC_L2"}


def _pq_factory(dimension: int, count: int) -> str:
    """Product quantization with 8 dimensions per sub-quantizer and as many bits as the data can train."""
    subs = next(m for m in (dimension // 8, dimension // 4, dimension // 2, dimension, 1) if m and dimension % m == 0)
    bits = max(1, min(8, int(math.log2(max(count, 2) / 39)))) if count >= 78 else 1
    return f"PQ{subs}x{bits}"


def factory_string(spec: CollectionSpec, count: int) -> str:
    """The faiss.index_factory description of a collection: Flat, HNSW<m>, SQ8, PQ…, or HNSW<m>,SQ8/PQ…."""
    quant = {"none": "", "sq8": "SQ8", "pq": _pq_factory(spec.dimension, count)}[spec.quantization]
    if spec.kind == "hnsw":
        return f"HNSW{spec.hnsw.m}" + (f",{quant}" if quant else "")
    return quant or "Flat"


def prepare(vectors: Matrix, distance: str) -> Matrix:
    """Cosine is the inner product of unit vectors: normalise a copy, leave the caller's array alone."""
    import numpy as np

    out = np.ascontiguousarray(vectors, dtype=np.float32)
    if distance == "cosine" and out.shape[0]:
        norms = np.linalg.norm(out, axis=1, keepdims=True)
        out = (out / np.where(norms == 0, 1.0, norms)).astype(np.float32)
    return np.ascontiguousarray(out, dtype=np.float32)


def build_index(spec: CollectionSpec, vectors: Matrix) -> Any:
    """An in-memory FAISS index over ``vectors`` (rows in id order) as ``spec`` describes."""
    import faiss

    if vectors.ndim != 2 or (vectors.shape[0] and vectors.shape[1] != spec.dimension):
        raise StoreError(f"vectors of shape {vectors.shape} do not fit a {spec.dimension}-dimensional collection")
    data = prepare(vectors, spec.distance)
    index = faiss.index_factory(spec.dimension, factory_string(spec, data.shape[0]),
                                getattr(faiss, _METRICS[spec.distance]))
    if spec.kind == "hnsw":
        graph: Any = faiss.downcast_index(index)
        graph.hnsw.efConstruction = spec.hnsw.ef_construction
    if not index.is_trained:
        if data.shape[0] == 0:
            raise StoreError(f"a {spec.quantization} index needs vectors to train on")
        index.train(data)
    if data.shape[0]:
        index.add(data)
    return index


def search_index(index: Any, spec: CollectionSpec, queries: Matrix, k: int,
                 ef_search: int | None = None) -> tuple[Any, Any]:
    """(scores, positions) for each query row; positions of -1 mean fewer than ``k`` results."""
    import faiss

    if spec.kind == "hnsw":
        graph: Any = faiss.downcast_index(index)
        graph.hnsw.efSearch = max(ef_search or spec.hnsw.ef_search, k)
    k = max(1, min(k, index.ntotal)) if index.ntotal else 1
    scores, positions = index.search(prepare(queries, spec.distance), k)
    if spec.distance == "l2":
        scores = -(scores.clip(min=0) ** 0.5)  # squared L2 distance -> negated distance: higher is better
    return scores, positions


def _write_json(path: Path, data: Any) -> None:
    write_text(path, json.dumps(data, sort_keys=True), durable=True)


class FaissStore:
    kind = "faiss"

    def __init__(self, directory: str | Path) -> None:
        self.root = Path(directory)
        self._collections = self.root / "collections"
        self._aliases = self.root / "aliases"
        self._loaded: dict[str, tuple[Any, CollectionSpec, list[Record]]] = {}

    def _dir(self, collection: str) -> Path:
        return self._collections / check_name(collection)

    def exists(self, collection: str) -> bool:
        return (self._dir(collection) / "meta.json").is_file()

    def collections(self) -> list[str]:
        if not self._collections.is_dir():
            return []
        return sorted(p.name for p in self._collections.iterdir() if (p / "meta.json").is_file())

    def describe(self, collection: str) -> CollectionSpec:
        meta = self._meta(collection)
        return CollectionSpec.from_dict(meta["spec"])

    def _meta(self, collection: str) -> dict[str, Any]:
        path = self._dir(collection) / "meta.json"
        try:
            meta = json.loads(path.read_text(encoding="utf-8"))
        except FileNotFoundError:
            raise StoreError(f"FAISS collection {collection!r} does not exist in {self.root}") from None
        except (OSError, ValueError) as exc:
            raise StoreError(f"FAISS collection {collection!r} is unreadable: {exc}") from None
        if not isinstance(meta, dict) or not isinstance(meta.get("spec"), dict):
            raise StoreError(f"FAISS collection {collection!r} has a malformed meta.json")
        return meta

    def count(self, collection: str) -> int:
        return int(self._meta(collection).get("count", 0))

    def info(self, collection: str) -> dict[str, Any]:
        info = self._meta(collection).get("info")
        return info if isinstance(info, dict) else {}

    def build(self, spec: CollectionSpec, records: Sequence[Record], vectors: Matrix,
              info: dict[str, Any] | None = None) -> None:
        import faiss

        final = self._dir(spec.name)
        if final.exists():
            raise StoreError(f"FAISS collection {spec.name!r} already exists in {self.root}")
        if len(records) != vectors.shape[0]:
            raise StoreError(f"{len(records)} records but {vectors.shape[0]} vectors")
        index = build_index(spec, vectors)
        self._collections.mkdir(parents=True, exist_ok=True)
        staging = Path(tempfile.mkdtemp(prefix=f".{spec.name}.", dir=self._collections))
        try:
            faiss.write_index(index, str(staging / "index.faiss"))
            with open(staging / "records.jsonl", "w", encoding="utf-8") as fh:
                for record in records:
                    fh.write(json.dumps({"id": record.id, "doc_id": record.doc_id, "text": record.text,
                                         "title": record.title},
                                        ensure_ascii=False) + "\n")
            _write_json(staging / "meta.json", {"spec": spec.to_dict(), "count": len(records),
                                                "info": info or {}})
            os.rename(staging, final)  # the collection appears complete or not at all
        except BaseException:
            shutil.rmtree(staging, ignore_errors=True)
            raise

    def _load(self, collection: str) -> tuple[Any, CollectionSpec, list[Record]]:
        if collection not in self._loaded:
            import faiss

            spec = self.describe(collection)
            folder = self._dir(collection)
            index = faiss.read_index(str(folder / "index.faiss"))
            records: list[Record] = []
            with open(folder / "records.jsonl", encoding="utf-8") as fh:
                for line in fh:
                    item = json.loads(line)
                    records.append(Record(item["id"], item["doc_id"], item["text"], item.get("title")))
            if index.ntotal != len(records):
                raise StoreError(f"FAISS collection {collection!r} is inconsistent: "
                                 f"{index.ntotal} vectors, {len(records)} records")
            self._loaded[collection] = (index, spec, records)
        return self._loaded[collection]

    def search(self, target: str, queries: Matrix, k: int, ef_search: int | None = None) -> list[list[Hit]]:
        collection = self.alias(target) or target
        index, spec, records = self._load(collection)
        if not records:
            return [[] for _ in range(queries.shape[0])]
        scores, positions = search_index(index, spec, queries, k, ef_search)
        return [[Hit(records[p].id, records[p].doc_id, float(s)) for s, p in zip(row_s, row_p, strict=True) if p >= 0]
                for row_s, row_p in zip(scores, positions, strict=True)]

    def delete(self, collection: str) -> None:
        for alias, target in self.aliases().items():
            if target == collection:
                raise StoreError(f"collection {collection!r} is still the target of alias {alias!r}")
        folder = self._dir(collection)
        if not folder.exists():
            raise StoreError(f"FAISS collection {collection!r} does not exist in {self.root}")
        self._loaded.pop(collection, None)
        trash = Path(tempfile.mkdtemp(prefix=f".{collection}.deleted.", dir=self._collections))
        os.rename(folder, trash / collection)  # vanish atomically, then clean up
        shutil.rmtree(trash, ignore_errors=True)

    def aliases(self) -> dict[str, str]:
        if not self._aliases.is_dir():
            return {}
        out: dict[str, str] = {}
        for path in sorted(self._aliases.glob("*.json")):
            target = self.alias(path.stem)
            if target is not None:
                out[path.stem] = target
        return out

    def alias(self, alias: str) -> str | None:
        path = self._aliases / f"{check_name(alias, 'alias')}.json"
        try:
            data = json.loads(path.read_text(encoding="utf-8"))
        except FileNotFoundError:
            return None
        except (OSError, ValueError) as exc:
            raise StoreError(f"alias file {path} is unreadable: {exc}") from None
        target = data.get("collection") if isinstance(data, dict) else None
        if not isinstance(target, str):
            raise StoreError(f"alias file {path} names no collection")
        return target

    def set_alias(self, alias: str, collection: str) -> None:
        check_alias_target(self, alias, collection)
        self._aliases.mkdir(parents=True, exist_ok=True)
        _write_json(self._aliases / f"{alias}.json", {"collection": collection})

    def close(self) -> None:
        self._loaded.clear()
