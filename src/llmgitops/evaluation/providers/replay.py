"""Recorded responses: a JSONL file of ``{"key", "request", "response"}`` lines, keyed by request hash.

The replay provider answers from such a file and never calls a model, so tests are deterministic and
re-scoring a run with new metrics costs nothing. ``--record FILE`` writes one from a live run. The key
covers the rendered request, its parameters and the sample number, not the provider: a recording made
against a staging endpoint replays anywhere.
"""

from __future__ import annotations

import json
from collections.abc import Sequence
from pathlib import Path
from typing import Any

from ...atomicfile import write_text
from ...manifests.source import WorkingTree, unsafe_reference
from . import (
    CallFailed,
    Generation,
    GenerationRequest,
    ModelInfo,
    Provider,
    ProviderConfig,
    ProviderError,
    sha256_text,
)


def embed_key(text: str) -> str:
    return "embed:" + sha256_text(text)


def recordings_file(root: Path, recordings: str, suite_name: str) -> Path:
    """A replay provider's ``recordings``: a ``.jsonl`` file, or a folder holding ``<suite>.jsonl``."""
    why = unsafe_reference(recordings)
    if why:
        raise ProviderError(f"replay recordings {recordings!r}: {why}")
    relpath = recordings if recordings.endswith(".jsonl") else f"{recordings.rstrip('/')}/{suite_name}.jsonl"
    if WorkingTree(root).escapes(relpath):
        raise ProviderError(f"replay recordings {relpath!r} resolve outside the repository")
    return root / relpath


def load_recordings(path: Path) -> dict[str, dict[str, Any]]:
    try:
        text = path.read_text(encoding="utf-8")
    except FileNotFoundError:
        raise ProviderError(
            f"no recordings at {path}", hint="record them with `llmgitops eval SUITE --record FILE`"
        ) from None
    except (OSError, UnicodeDecodeError) as exc:
        raise ProviderError(f"cannot read recordings {path}: {exc}") from None
    out: dict[str, dict[str, Any]] = {}
    for lineno, line in enumerate(text.splitlines(), start=1):
        if not line.strip():
            continue
        try:
            entry = json.loads(line)
        except ValueError as exc:
            raise ProviderError(f"{path}:{lineno}: not a JSON line: {exc}") from None
        if (
            not isinstance(entry, dict)
            or not isinstance(entry.get("key"), str)
            or not isinstance(entry.get("response"), dict)
        ):
            raise ProviderError(f"{path}:{lineno}: a recording needs a string `key` and an object `response`")
        out[entry["key"]] = entry["response"]
    return out


class ReplayProvider(Provider):
    type = "replay"

    def __init__(
        self, config: ProviderConfig, model: ModelInfo | None, root: Path, suite_name: str, path: Path | None = None
    ) -> None:
        super().__init__(config, model)
        if path is None:
            if not config.recordings:
                raise ProviderError(f"provider {config.name!r} (replay) needs `recordings`")
            path = recordings_file(root, config.recordings, suite_name)
        self.path = path
        self.recordings = load_recordings(path)

    @property
    def concurrency(self) -> int:
        return self.config.concurrency or 64

    def identity(self) -> dict[str, Any]:
        return {"type": self.type, "recordings": self.path.name}

    async def generate(self, request: GenerationRequest) -> Generation:
        key = request.key
        found = self.recordings.get(key)
        if found is None:
            return Generation(None, error=f"no recording for this request (key {key[:12]}); record again with --record")
        return Generation.from_record(found)

    async def embed(self, texts: Sequence[str]) -> list[list[float]]:
        vectors = []
        for text in texts:
            found = self.recordings.get(embed_key(text))
            vector = found.get("vector") if found else None
            if not isinstance(vector, list):
                raise CallFailed("no recorded embedding for this text; record again with --record")
            vectors.append([float(x) for x in vector])
        return vectors


class Recorder:
    """The answers of one run, written to a recordings file when the run ends (``--record FILE``)."""

    def __init__(self, path: Path) -> None:
        self.path = path
        self.entries: dict[str, dict[str, Any]] = {}

    def write(self) -> None:
        """Sorted by key, written to a temporary file and renamed: never a half-written recording."""
        lines = [json.dumps(self.entries[key], ensure_ascii=False, sort_keys=True) for key in sorted(self.entries)]
        write_text(self.path, "".join(line + "\n" for line in lines), mode=0o644)


class RecordingProvider(Provider):
    """Wraps a provider and hands every answer it gives to a ``Recorder``."""

    def __init__(self, inner: Provider, recorder: Recorder) -> None:
        super().__init__(inner.config, inner.model)
        self.inner = inner
        self.type = inner.type
        self.recorder = recorder

    @property
    def concurrency(self) -> int:
        return self.inner.concurrency

    def identity(self) -> dict[str, Any]:
        return self.inner.identity()

    async def generate(self, request: GenerationRequest) -> Generation:
        result = await self.inner.generate(request)
        if result.error is None:
            key = request.key
            self.recorder.entries[key] = {
                "key": key,
                "request": request.to_json(),
                "response": result.to_record(),
            }
        return result

    async def embed(self, texts: Sequence[str]) -> list[list[float]]:
        vectors = await self.inner.embed(texts)
        for text, vector in zip(texts, vectors, strict=True):
            key = embed_key(text)
            self.recorder.entries[key] = {
                "key": key,
                "request": {"kind": "embed", "text": text},
                "response": {"vector": vector},
            }
        return vectors

    async def aclose(self) -> None:
        await self.inner.aclose()
