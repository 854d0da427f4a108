"""The response cache: sqlite in ``.llmgitops/cache/``, so an unchanged re-run is nearly free.

A key is the sha256 of the provider's identity (type, model, Model version) and the rendered request with
its parameters and sample number. Only answers are cached, never failures. Writes are batched into one
transaction per flush; WAL mode lets shards running side by side on one machine share the file.

Each run also remembers which entries it used, under a scope (environment, suite, shard). The next run in
that scope reads them all with one query the first time it looks one up, so an unchanged re-run makes
one database round trip instead of one per record. The same database holds the run memo (``memo.py``),
one entry per scope.
"""

from __future__ import annotations

import hashlib
import json
import sqlite3
import time
from collections.abc import Sequence
from pathlib import Path
from typing import Any

from . import CallFailed, Generation, GenerationRequest, Provider, canonical_json

SCHEMA = (
    "CREATE TABLE IF NOT EXISTS responses (key TEXT PRIMARY KEY, value TEXT NOT NULL, created REAL NOT NULL);"
    "CREATE TABLE IF NOT EXISTS scopes (scope TEXT NOT NULL, key TEXT NOT NULL, PRIMARY KEY (scope, key));"
    "CREATE TABLE IF NOT EXISTS runs (scope TEXT PRIMARY KEY, key TEXT NOT NULL, cases TEXT NOT NULL,"
    " lookups INTEGER NOT NULL, created REAL NOT NULL)"
)
FLUSH_EVERY = 256


class ResponseCache:
    def __init__(self, path: Path, scope: str | None = None) -> None:
        path.parent.mkdir(parents=True, exist_ok=True)
        self.path = path
        self.db = sqlite3.connect(str(path), isolation_level=None, check_same_thread=False)
        self.db.execute("PRAGMA journal_mode=WAL")
        self.db.execute("PRAGMA synchronous=NORMAL")
        self.db.executescript(SCHEMA)
        self.pending: dict[str, tuple[dict[str, Any], float]] = {}  # written at the next flush
        self.hits = 0
        self.misses = 0
        self.scope = scope
        self.used: set[str] = set()
        self._prefetched: dict[str, str] | None = None

    @property
    def prefetched(self) -> dict[str, str]:
        """The entries the scope's last run used, read on first use (a memo hit never needs them)."""
        if self._prefetched is None:
            self._prefetched = {}
            if self.scope is not None:
                rows = self.db.execute(
                    "SELECT r.key, r.value FROM scopes s JOIN responses r ON r.key = s.key WHERE s.scope = ?",
                    (self.scope,),
                )
                self._prefetched = dict(rows.fetchall())
        return self._prefetched

    def get(self, key: str) -> dict[str, Any] | None:
        pending = self.pending.get(key)
        if pending is not None:
            self.hits += 1
            self.used.add(key)
            return pending[0]
        text = self.prefetched.get(key)
        if text is None:
            row = self.db.execute("SELECT value FROM responses WHERE key = ?", (key,)).fetchone()
            text = row[0] if row is not None else None
        value = None
        if text is not None:
            try:
                value = json.loads(text)
            except ValueError:
                value = None
        if not isinstance(value, dict):
            self.misses += 1
            return None
        self.hits += 1
        self.used.add(key)
        return value

    def put(self, key: str, value: dict[str, Any]) -> None:
        self.pending[key] = (value, time.time())
        self.used.add(key)
        if len(self.pending) >= FLUSH_EVERY:
            self.flush()

    def recall_run(self, key: str) -> tuple[list[dict[str, Any]], int] | None:
        """The scope's remembered records and cache lookups, when its memo entry has this key."""
        if self.scope is None:
            return None
        row = self.db.execute("SELECT cases, lookups FROM runs WHERE scope = ? AND key = ?", (self.scope, key))
        found = row.fetchone()
        if found is None:
            return None
        try:
            cases = json.loads(found[0])
        except ValueError:
            return None
        return (cases, int(found[1])) if isinstance(cases, list) else None

    def remember_run(self, key: str, cases: list[dict[str, Any]], lookups: int) -> None:
        if self.scope is None:
            return
        text = json.dumps(cases, separators=(",", ":"), ensure_ascii=False)
        self.db.execute(
            "INSERT OR REPLACE INTO runs (scope, key, cases, lookups, created) VALUES (?, ?, ?, ?, ?)",
            (self.scope, key, text, lookups, time.time()),
        )

    def remember_scope(self) -> None:
        """Record the entries this run used, when they differ from the ones the scope had."""
        if self.scope is None or self.used == set(self._prefetched or ()):
            return
        self.db.execute("BEGIN")
        self.db.execute("DELETE FROM scopes WHERE scope = ?", (self.scope,))
        self.db.executemany(
            "INSERT INTO scopes (scope, key) VALUES (?, ?)", [(self.scope, k) for k in sorted(self.used)]
        )
        self.db.execute("COMMIT")

    def flush(self) -> None:
        if not self.pending:
            return
        rows = [(k, json.dumps(v, separators=(",", ":")), t) for k, (v, t) in self.pending.items()]
        self.db.execute("BEGIN")
        self.db.executemany("INSERT OR REPLACE INTO responses (key, value, created) VALUES (?, ?, ?)", rows)
        self.db.execute("COMMIT")
        self.pending.clear()

    def close(self) -> None:
        self.flush()
        self.remember_scope()
        self.db.close()


class CachedProvider(Provider):
    """Wraps a provider: answers from the cache when it can, stores fresh answers."""

    def __init__(self, inner: Provider, cache: ResponseCache) -> None:
        super().__init__(inner.config, inner.model)
        self.inner = inner
        self.cache = cache
        self.type = inner.type
        # every key starts with the provider's identity: hash that prefix once, copy it per key
        self._prefix = hashlib.sha256((canonical_json(inner.identity()) + "\n").encode("utf-8"))

    @property
    def concurrency(self) -> int:
        return self.inner.concurrency

    def identity(self) -> dict[str, Any]:
        return self.inner.identity()

    def key(self, request: GenerationRequest) -> str:
        return self._hash(request.canonical)

    def _hash(self, text: str) -> str:
        digest = self._prefix.copy()
        digest.update(text.encode("utf-8"))
        return digest.hexdigest()

    async def generate(self, request: GenerationRequest) -> Generation:
        key = self.key(request)
        hit = self.cache.get(key)
        if hit is not None:
            return Generation.from_record(hit)
        result = await self.inner.generate(request)
        if result.error is None and result.text is not None:
            self.cache.put(key, result.to_record())
        return result

    async def embed(self, texts: Sequence[str]) -> list[list[float]]:
        keys = [self._hash("embed\n" + t) for t in texts]
        found: dict[int, list[float]] = {}
        for i, key in enumerate(keys):
            hit = self.cache.get(key)
            vector = hit.get("vector") if hit else None
            if isinstance(vector, list):
                found[i] = vector
        missing = [i for i in range(len(texts)) if i not in found]
        if missing:
            fresh = await self.inner.embed([texts[i] for i in missing])
            if len(fresh) != len(missing):
                raise CallFailed("the embedding provider returned the wrong number of vectors")
            for i, vector in zip(missing, fresh, strict=True):
                found[i] = vector
                self.cache.put(keys[i], {"vector": vector})
        return [found[i] for i in range(len(texts))]

    async def aclose(self) -> None:
        await self.inner.aclose()
