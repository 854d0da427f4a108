"""OpenAI-compatible HTTP: ``/v1/chat/completions``, ``/v1/completions``, ``/v1/embeddings``.

aiohttp rather than httpx: on this workload (many small JSON requests on keep-alive connections at
concurrency 16) httpx 0.28 spent about eleven times the client CPU per request (3.7 ms against 0.33 ms)
and took four times as long (benchmarks/bench_http_clients.py). Concurrency is bounded by the connection
pool and by the runner; failures are retried on 408/425/429/5xx, timeouts and connection errors with
jittered exponential backoff, honouring ``Retry-After``.
"""

from __future__ import annotations

import asyncio
import email.utils
import json
import os
import random
import time
from collections.abc import Sequence
from typing import Any

from . import CallFailed, Generation, GenerationRequest, ModelInfo, Provider, ProviderConfig, ProviderError
from .ratelimit import RateLimiter

RETRY_STATUS = frozenset({408, 425, 429, 500, 502, 503, 504})
BACKOFF_BASE = 0.25  # seconds before the first retry (before jitter)
BACKOFF_CAP = 20.0
RETRY_AFTER_CAP = 120.0


def endpoint(base_url: str, path: str) -> str:
    """``base_url`` may or may not end in ``/v1`` (OpenAI's ``base_url`` does; many configs don't)."""
    base = base_url.rstrip("/")
    if not base.endswith("/v1"):
        base += "/v1"
    return f"{base}/{path}"


def retry_after_seconds(value: str | None, now: float | None = None) -> float | None:
    """``Retry-After`` as delay-seconds or an HTTP date (RFC 9110 10.2.3)."""
    if not value:
        return None
    value = value.strip()
    try:
        seconds = float(value)
    except ValueError:
        try:
            when = email.utils.parsedate_to_datetime(value)
        except (TypeError, ValueError):
            return None
        seconds = when.timestamp() - (time.time() if now is None else now)
    return min(max(seconds, 0.0), RETRY_AFTER_CAP)


def backoff_seconds(attempt: int, rng: random.Random) -> float:
    """Exponential backoff with "equal jitter": half the step is fixed, half random, so retries of
    many concurrent requests spread out without ever retrying immediately."""
    step = min(BACKOFF_CAP, BACKOFF_BASE * float(2**attempt))
    return step / 2 + rng.uniform(0, step / 2)


class OpenAIProvider(Provider):
    type = "openai"

    def __init__(self, config: ProviderConfig, model: ModelInfo | None) -> None:
        super().__init__(config, model)
        if not config.base_url:
            raise ProviderError(f"provider {config.name!r} (openai) needs baseUrl")
        self.model_name = config.model or (model.name if model else None)
        if not self.model_name:
            raise ProviderError(
                f"provider {config.name!r}: no model name (set `model`, or target a Prompt "
                "whose modelRef names a Model)"
            )
        self.headers = {"Content-Type": "application/json"}
        if config.api_key_env:
            key = os.environ.get(config.api_key_env)
            if not key:
                raise ProviderError(
                    f"provider {config.name!r}: environment variable {config.api_key_env} (apiKeyEnv) is not set",
                    hint="export it, or pass --provider another",
                )
            self.headers["Authorization"] = f"Bearer {key}"
        self.limiter = RateLimiter(config.requests_per_minute, config.tokens_per_minute)
        self.rng = random.Random()
        self._session: Any = None

    def identity(self) -> dict[str, Any]:
        # The endpoint URL is left out on purpose: the same model version served elsewhere (a laptop,
        # a CI runner, the cluster) answers the same, and the Model version is what guards staleness.
        return {"type": self.type, "model": self.model_name, "modelRef": self.model.ref if self.model else None}

    def _session_for_loop(self) -> Any:
        if self._session is None:
            import aiohttp

            connector = aiohttp.TCPConnector(limit=max(1, self.concurrency), ttl_dns_cache=300)
            timeout = aiohttp.ClientTimeout(total=self.config.timeout_seconds)
            self._session = aiohttp.ClientSession(
                connector=connector, timeout=timeout, headers=self.headers, json_serialize=json.dumps
            )
        return self._session

    async def aclose(self) -> None:
        if self._session is not None:
            await self._session.close()
            self._session = None

    async def _post(self, path: str, body: dict[str, Any], estimated_tokens: int) -> tuple[Any, float, int]:
        """(parsed JSON, latency of the successful attempt in ms, attempts), or CallFailed."""
        import aiohttp

        session = self._session_for_loop()
        url = endpoint(self.config.base_url or "", path)
        payload = json.dumps(body).encode("utf-8")
        last = "no attempt"
        for attempt in range(self.config.max_retries + 1):
            if self.limiter.active:
                await self.limiter.acquire(estimated_tokens)
            delay: float | None = None
            started = time.perf_counter()
            try:
                async with session.post(url, data=payload) as resp:
                    raw = await resp.read()
                    latency = (time.perf_counter() - started) * 1000.0
                    if resp.status == 200:
                        try:
                            return json.loads(raw), latency, attempt + 1
                        except ValueError:
                            raise CallFailed(f"{url} answered 200 with a body that is not JSON") from None
                    last = f"HTTP {resp.status}: {_excerpt(raw)}"
                    if resp.status not in RETRY_STATUS and resp.status < 500:
                        raise CallFailed(last)
                    delay = retry_after_seconds(resp.headers.get("Retry-After"))
            except TimeoutError:
                last = f"timed out after {self.config.timeout_seconds:g} s"
            except aiohttp.ClientError as exc:
                last = f"{type(exc).__name__}: {exc}"
            if attempt < self.config.max_retries:
                await asyncio.sleep(delay if delay is not None else backoff_seconds(attempt, self.rng))
        attempts = self.config.max_retries + 1
        raise CallFailed(f"{last} (gave up after {attempts} attempt{'s' * (attempts != 1)})")

    async def generate(self, request: GenerationRequest) -> Generation:
        params = request.param_dict
        body: dict[str, Any] = {"model": self.model_name, **params}
        if request.kind == "chat":
            body["messages"] = request.message_dicts
            path = "chat/completions"
        else:
            body["prompt"] = request.prompt
            path = "completions"
        estimate = request.estimated_tokens()
        try:
            data, latency, attempts = await self._post(path, body, estimate)
            text = _answer_text(data, request.kind)
        except CallFailed as exc:
            return Generation(None, error=str(exc))
        usage = data.get("usage") if isinstance(data, dict) else None
        usage = usage if isinstance(usage, dict) else {}
        prompt_tokens = usage.get("prompt_tokens") if isinstance(usage.get("prompt_tokens"), int) else None
        output_tokens = usage.get("completion_tokens") if isinstance(usage.get("completion_tokens"), int) else None
        if self.limiter.active:
            actual = (prompt_tokens or 0) + (output_tokens or 0) if prompt_tokens is not None else None
            self.limiter.settle(estimate, actual)
        return Generation(
            text, latency_ms=latency, input_tokens=prompt_tokens, output_tokens=output_tokens, attempts=attempts
        )

    async def embed(self, texts: Sequence[str]) -> list[list[float]]:
        body = {"model": self.model_name, "input": list(texts)}
        data, _, _ = await self._post("embeddings", body, sum(len(t) for t in texts) // 4 + 1)
        items = data.get("data") if isinstance(data, dict) else None
        if not isinstance(items, list) or len(items) != len(texts):
            raise CallFailed("the embeddings response does not hold one vector per input")
        ordered = sorted(items, key=lambda item: item.get("index", 0) if isinstance(item, dict) else 0)
        vectors: list[list[float]] = []
        for item in ordered:
            vector = item.get("embedding") if isinstance(item, dict) else None
            if not isinstance(vector, list) or not vector:
                raise CallFailed("an embeddings response item has no embedding")
            vectors.append([float(x) for x in vector])
        return vectors


def _answer_text(data: Any, kind: str) -> str:
    try:
        choice = data["choices"][0]
        text = choice["message"]["content"] if kind == "chat" else choice["text"]
    except (KeyError, IndexError, TypeError):
        raise CallFailed(f"the response has no choices[0].{'message.content' if kind == 'chat' else 'text'}") from None
    if text is None:
        return ""
    if not isinstance(text, str):
        raise CallFailed("the response's content is not a string")
    return text


def _excerpt(raw: bytes, limit: int = 200) -> str:
    text = raw.decode("utf-8", "replace").strip().replace("\n", " ")
    return text if len(text) <= limit else text[:limit] + "…"
