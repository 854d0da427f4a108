"""Model endpoints behind one small async interface.

``openai``        any OpenAI-compatible HTTP API (vLLM, TGI, Ollama, KServe, OpenAI): the production path
``transformers``  the Model's own weights in this process (the embedded, offline default)
``replay``        answers recorded earlier, keyed by request hash: deterministic tests, cheap re-scoring

The response cache (``cache``) and the recorder wrap any of them. Providers never raise for a failed
request: a ``Generation`` with ``error`` set is data, and the case it belongs to becomes unmeasured.
"""

from __future__ import annotations

import hashlib
import json
import math
from collections.abc import Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from ...errors import EXIT_USAGE, LLMGitOpsError

# Prompt.spec.config key -> OpenAI request parameter
CONFIG_PARAMS = {
    "temperature": "temperature",
    "topP": "top_p",
    "maxOutputTokens": "max_tokens",
    "stop": "stop",
    "seed": "seed",
    "presencePenalty": "presence_penalty",
    "frequencyPenalty": "frequency_penalty",
}


class ProviderError(LLMGitOpsError):
    """A provider cannot be set up at all (bad configuration, missing package, missing API key)."""


class CallFailed(Exception):
    """One call failed for good (after retries): the metric that needed it is unmeasured for that case."""


def as_dict(value: Any) -> dict[str, Any]:
    return value if isinstance(value, dict) else {}


# one encoder for every key: json.dumps with options builds a new encoder per call
_CANONICAL = json.JSONEncoder(separators=(",", ":"), ensure_ascii=False)
_CANONICAL_SORTED = json.JSONEncoder(sort_keys=True, separators=(",", ":"), ensure_ascii=False)


def canonical_json(value: Any) -> str:
    return _CANONICAL_SORTED.encode(value)


def sha256_text(text: str) -> str:
    return hashlib.sha256(text.encode("utf-8")).hexdigest()


@dataclass(frozen=True)
class GenerationRequest:
    """One request, fully rendered. ``sample`` tells repeats apart, so each repeat has its own cache
    entry and recording while an unchanged re-run finds all of them again."""

    kind: str  # "chat" | "completion"
    messages: tuple[tuple[str, str], ...] = ()
    prompt: str = ""
    params: tuple[tuple[str, Any], ...] = ()
    sample: int = 0

    @classmethod
    def chat(cls, messages: Sequence[dict[str, str]], params: dict[str, Any], sample: int = 0) -> GenerationRequest:
        return cls("chat", tuple((m["role"], m["content"]) for m in messages), "", _freeze(params), sample)

    @classmethod
    def completion(cls, prompt: str, params: dict[str, Any], sample: int = 0) -> GenerationRequest:
        return cls("completion", (), prompt, _freeze(params), sample)

    @property
    def message_dicts(self) -> list[dict[str, str]]:
        return [{"role": role, "content": content} for role, content in self.messages]

    @property
    def param_dict(self) -> dict[str, Any]:
        return {k: (list(v) if isinstance(v, tuple) else v) for k, v in self.params}

    def to_json(self) -> dict[str, Any]:
        body: dict[str, Any] = {"kind": self.kind}
        if self.kind == "chat":
            body["messages"] = self.message_dicts
        else:
            body["prompt"] = self.prompt
        body["params"] = self.param_dict
        body["sample"] = self.sample
        return body

    @property
    def canonical(self) -> str:
        """Everything that decides the answer, as one string (params are already sorted)."""
        return _CANONICAL.encode([self.kind, self.messages, self.prompt, self.params, self.sample])

    @property
    def key(self) -> str:
        """Hash of the request; the cache adds the provider's and model's identity to it."""
        return sha256_text(self.canonical)

    def estimated_tokens(self) -> int:
        """Prompt plus output tokens, estimated before sending, for the tokens-per-minute limit."""
        chars = sum(len(c) for _, c in self.messages) + len(self.prompt)
        max_out = dict(self.params).get("max_tokens")
        return math.ceil(chars / 4) + (int(max_out) if isinstance(max_out, int) else 256)


def _freeze(params: dict[str, Any]) -> tuple[tuple[str, Any], ...]:
    return tuple(sorted((k, tuple(v) if isinstance(v, list) else v) for k, v in params.items()))


@dataclass
class Generation:
    text: str | None
    error: str | None = None
    latency_ms: float | None = None
    input_tokens: int | None = None
    output_tokens: int | None = None
    cached: bool = False
    attempts: int = 1

    def to_record(self) -> dict[str, Any]:
        return {
            "text": self.text,
            "latencyMs": self.latency_ms,
            "inputTokens": self.input_tokens,
            "outputTokens": self.output_tokens,
        }

    @classmethod
    def from_record(cls, data: dict[str, Any], cached: bool = True) -> Generation:
        """An answer stored earlier (cache or recording): no model was called for it."""
        text = data.get("text")
        return cls(
            text if isinstance(text, str) else None,
            None if isinstance(text, str) else "recorded response has no text",
            _num(data.get("latencyMs")),
            _int(data.get("inputTokens")),
            _int(data.get("outputTokens")),
            cached=cached,
        )


def _num(value: Any) -> float | None:
    return float(value) if isinstance(value, int | float) and not isinstance(value, bool) else None


def _int(value: Any) -> int | None:
    return value if isinstance(value, int) and not isinstance(value, bool) else None


@dataclass(frozen=True)
class ProviderConfig:
    """One entry of an Environment's ``spec.providers`` (or an ad-hoc ``--provider openai:URL``)."""

    name: str
    type: str
    base_url: str | None = None
    model: str | None = None
    api_key_env: str | None = None
    concurrency: int | None = None
    timeout_seconds: float = 60.0
    max_retries: int = 3
    requests_per_minute: int | None = None
    tokens_per_minute: int | None = None
    recordings: str | None = None
    recordings_file: str | None = None  # from ``--provider replay:FILE``: any path the user names
    default: bool = False

    @classmethod
    def from_spec(cls, name: str, spec: dict[str, Any]) -> ProviderConfig:
        def opt(key: str, kind: type) -> Any:
            value = spec.get(key)
            if kind is float:
                return float(value) if isinstance(value, int | float) and not isinstance(value, bool) else None
            return value if isinstance(value, kind) and not isinstance(value, bool) else None

        ptype = spec.get("type")
        if ptype not in ("openai", "transformers", "replay"):
            raise ProviderError(f"provider {name!r} has type {ptype!r}; expected openai, transformers or replay")
        return cls(
            name=name,
            type=ptype,
            base_url=opt("baseUrl", str),
            model=opt("model", str),
            api_key_env=opt("apiKeyEnv", str),
            concurrency=opt("concurrency", int),
            timeout_seconds=opt("timeoutSeconds", float) or 60.0,
            max_retries=spec["maxRetries"] if isinstance(spec.get("maxRetries"), int) else 3,
            requests_per_minute=opt("requestsPerMinute", int),
            tokens_per_minute=opt("tokensPerMinute", int),
            recordings=opt("recordings", str),
            default=spec.get("default") is True,
        )

    @classmethod
    def from_option(cls, value: str, declared: dict[str, ProviderConfig]) -> ProviderConfig:
        """``--provider NAME`` (declared in the environment), ``openai:URL`` or ``replay:FILE`` (a recordings
        file written by ``--record``; the command line's own path, so it may lie outside the repository)."""
        if value.startswith("replay:"):
            path = value[len("replay:") :]
            if not path:
                raise ProviderError(f"--provider {value}: expected replay:FILE (a recordings .jsonl)", EXIT_USAGE)
            return cls(name="replay", type="replay", recordings_file=str(Path(path).resolve()))
        if value.startswith("openai:"):
            url = value[len("openai:") :]
            if not url.startswith(("http://", "https://")):
                raise ProviderError(f"--provider {value}: expected openai:http(s)://host[:port][/v1]", EXIT_USAGE)
            return cls(name="openai", type="openai", base_url=url)
        if value in declared:
            return declared[value]
        known = ", ".join(sorted(declared)) or "none"
        raise ProviderError(
            f"--provider {value}: no such provider in the environment (declared: {known})",
            EXIT_USAGE,
            hint="or pass openai:URL for an OpenAI-compatible endpoint, replay:FILE for recorded answers",
        )


@dataclass(frozen=True)
class ModelInfo:
    """What providers need from a Model manifest."""

    name: str
    version: str
    base_id: str | None = None
    weights: dict[str, Any] = field(default_factory=dict)
    chat_template: str | None = None
    pricing: dict[str, Any] | None = None
    capabilities: tuple[str, ...] = ()
    max_context: int | None = None
    dtype: str | None = None

    @property
    def ref(self) -> str:
        return f"{self.name}@{self.version}"

    @classmethod
    def from_spec(cls, name: str, version: str, spec: dict[str, Any]) -> ModelInfo:
        base = spec.get("baseModel")
        interface = as_dict(spec.get("interface"))
        args = as_dict(as_dict(spec.get("serving")).get("args"))
        caps = interface.get("capabilities")
        return cls(
            name=name,
            version=version,
            base_id=base.get("id") if isinstance(base, dict) and isinstance(base.get("id"), str) else None,
            weights=spec["weights"] if isinstance(spec.get("weights"), dict) else {},
            chat_template=interface.get("chatTemplate") if isinstance(interface.get("chatTemplate"), str) else None,
            pricing=spec["pricing"] if isinstance(spec.get("pricing"), dict) else None,
            capabilities=tuple(c for c in caps if isinstance(c, str)) if isinstance(caps, list) else (),
            max_context=interface.get("maxContextTokens")
            if isinstance(interface.get("maxContextTokens"), int)
            else None,
            dtype=args.get("dtype") if isinstance(args.get("dtype"), str) else None,
        )


class Provider:
    """Base of every provider. Subclasses override ``generate`` and, where they can, ``embed``."""

    type = "provider"

    def __init__(self, config: ProviderConfig, model: ModelInfo | None) -> None:
        self.config = config
        self.model = model

    @property
    def concurrency(self) -> int:
        return self.config.concurrency or 8

    def identity(self) -> dict[str, Any]:
        """What, besides the request, decides an answer: the cache keys on it."""
        return {"type": self.type, "model": self.model.ref if self.model else None}

    async def generate(self, request: GenerationRequest) -> Generation:
        raise NotImplementedError

    async def embed(self, texts: Sequence[str]) -> list[list[float]]:
        raise ProviderError(f"provider {self.config.name!r} ({self.type}) does not compute embeddings")

    async def aclose(self) -> None:
        """Release connections; called once at the end of a run."""


def build_provider(config: ProviderConfig, model: ModelInfo | None, root: Path, suite_name: str) -> Provider:
    """The provider a configuration asks for; heavy modules are imported only for the type in use."""
    if config.type == "openai":
        from .openai import OpenAIProvider

        return OpenAIProvider(config, model)
    if config.type == "transformers":
        from .transformers import TransformersProvider

        return TransformersProvider(config, model)
    if config.type == "replay":
        from .replay import ReplayProvider

        path = Path(config.recordings_file) if config.recordings_file else None
        return ReplayProvider(config, model, root, suite_name, path)
    raise ProviderError(f"provider {config.name!r}: unknown type {config.type!r}")
