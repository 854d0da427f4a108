"""The OpenAI-compatible provider against a real HTTP server on 127.0.0.1 that fails on purpose:
429 with Retry-After, 5xx, timeouts, non-retryable 4xx, malformed bodies; client-side rate limits;
and the response cache and the recorder/replay pair."""

from __future__ import annotations

import asyncio
import itertools
import random
import time
from pathlib import Path

import pytest

from llmgitops.evaluation.providers import (
    CallFailed,
    GenerationRequest,
    ModelInfo,
    ProviderConfig,
    ProviderError,
    build_provider,
)
from llmgitops.evaluation.providers.cache import CachedProvider, ResponseCache
from llmgitops.evaluation.providers.openai import OpenAIProvider, backoff_seconds, endpoint, retry_after_seconds
from llmgitops.evaluation.providers.ratelimit import TokenBucket
from llmgitops.evaluation.providers.replay import Recorder, RecordingProvider, ReplayProvider
from openai_loopback import LoopbackOpenAI

MODEL = ModelInfo("echo-model", "1.0.0")


def provider(server: LoopbackOpenAI, **overrides: object) -> OpenAIProvider:
    settings: dict[str, object] = {"name": "loop", "type": "openai", "base_url": server.url + "/v1", "max_retries": 2,
                                   "timeout_seconds": 5.0, "concurrency": 8}
    settings.update(overrides)
    return OpenAIProvider(ProviderConfig(**settings), MODEL)  # type: ignore[arg-type]


def ask(p: OpenAIProvider, text: str = "hello", sample: int = 0):  # type: ignore[no-untyped-def]
    async def go():  # type: ignore[no-untyped-def]
        try:
            return await p.generate(GenerationRequest.chat([{"role": "user", "content": text}], {"max_tokens": 8}, sample))
        finally:
            await p.aclose()

    return asyncio.run(go())


def test_endpoint_and_retry_after_parsing() -> None:
    assert endpoint("http://h:1", "chat/completions") == "http://h:1/v1/chat/completions"
    assert endpoint("http://h:1/openai/v1/", "embeddings") == "http://h:1/openai/v1/embeddings"
    assert retry_after_seconds("3") == 3.0
    assert retry_after_seconds("Wed, 21 Oct 2015 07:28:00 GMT", now=1445412470.0) == pytest.approx(10.0)
    assert retry_after_seconds("soon") is None and retry_after_seconds(None) is None
    assert retry_after_seconds("100000") == 120.0  # capped
    rng = random.Random(1)
    delays = [backoff_seconds(a, rng) for a in range(4)]
    assert 0.125 <= delays[0] <= 0.25 and 1.0 <= delays[3] <= 2.0


def test_success_sends_the_request_and_reads_usage(loopback: LoopbackOpenAI) -> None:
    result = ask(provider(loopback), "two words")
    assert result.text == "ECHO: two words" and result.error is None
    assert (result.input_tokens, result.output_tokens, result.attempts) == (2, 3, 1)
    body = loopback.requests[0]["body"]
    assert body["model"] == "echo-model" and body["max_tokens"] == 8
    assert body["messages"] == [{"role": "user", "content": "two words"}]


def test_429_honours_retry_after(loopback: LoopbackOpenAI) -> None:
    loopback.fail_next(1, 429, retry_after="1")
    result = ask(provider(loopback))
    assert result.text == "ECHO: hello" and result.attempts == 2
    first, second = loopback.requests
    assert second["at"] - first["at"] >= 0.95


def test_5xx_is_retried_with_backoff_then_given_up(loopback: LoopbackOpenAI) -> None:
    loopback.fail_next(2, 503)
    assert ask(provider(loopback)).attempts == 3
    loopback.requests.clear()
    loopback.fail_next(3, 500)
    result = ask(provider(loopback))
    assert result.text is None and len(loopback.requests) == 3
    assert result.error is not None and "HTTP 500" in result.error and "gave up after 3 attempts" in result.error


def test_client_errors_are_not_retried(loopback: LoopbackOpenAI) -> None:
    loopback.fail_next(1, 400, body={"error": {"message": "max_tokens too large"}})
    result = ask(provider(loopback))
    assert len(loopback.requests) == 1
    assert result.error is not None and "HTTP 400" in result.error and "max_tokens too large" in result.error


def test_timeouts_are_retried(loopback: LoopbackOpenAI) -> None:
    loopback.delay_next(1, 1.5)
    result = ask(provider(loopback, timeout_seconds=0.5))
    assert result.text == "ECHO: hello" and result.attempts == 2
    loopback.delay_next(2, 1.5)
    failed = ask(provider(loopback, timeout_seconds=0.3, max_retries=1))
    assert failed.error is not None and "timed out after 0.3 s" in failed.error


def test_malformed_answers_are_errors(loopback: LoopbackOpenAI) -> None:
    loopback.answer_next({"choices": []})
    result = ask(provider(loopback))
    assert result.error is not None and "choices[0]" in result.error


def test_unreachable_server_is_an_error_not_a_crash() -> None:
    config = ProviderConfig(name="down", type="openai", base_url="http://127.0.0.1:9", max_retries=1)
    result = ask(OpenAIProvider(config, MODEL))
    assert result.text is None and "gave up after 2 attempts" in (result.error or "")


def test_requests_per_minute_spread_requests(loopback: LoopbackOpenAI) -> None:
    p = provider(loopback, requests_per_minute=120)  # 2 per second, at most 2 at once

    async def burst() -> None:
        try:
            await asyncio.gather(*(p.generate(GenerationRequest.chat([{"role": "user", "content": str(i)}], {}))
                                   for i in range(6)))
        finally:
            await p.aclose()

    asyncio.run(burst())
    times = sorted(r["at"] for r in loopback.requests)
    assert len(times) == 6
    assert times[-1] - times[0] >= 1.8  # 2 at once, then one every 0.5 s
    assert all(b - a >= 0.4 for a, b in itertools.pairwise(times[1:]))


def test_tokens_per_minute_bucket_waits_for_the_estimate() -> None:
    async def go() -> float:
        bucket = TokenBucket(6000)  # 100 tokens per second, holds 100
        start = time.monotonic()
        for _ in range(3):
            await bucket.acquire(60)
        return time.monotonic() - start

    # 60 at once, then 40 left: the second waits 0.2 s, the third 0.6 s more
    assert 0.7 <= asyncio.run(go()) < 1.5
    bucket = TokenBucket(60)
    bucket.adjust(-100)
    assert bucket.level == bucket.capacity  # a refund never overfills
    with pytest.raises(ValueError):
        TokenBucket(0)


def test_api_key_comes_from_the_named_variable(loopback: LoopbackOpenAI, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("LOOP_KEY", "sk-test-123")
    ask(provider(loopback, api_key_env="LOOP_KEY"))
    assert loopback.requests[0]["headers"]["Authorization"] == "Bearer sk-test-123"
    monkeypatch.delenv("LOOP_KEY")
    with pytest.raises(ProviderError, match="LOOP_KEY"):
        provider(loopback, api_key_env="LOOP_KEY")


def test_completions_and_embeddings(loopback: LoopbackOpenAI) -> None:
    p = provider(loopback)

    async def go():  # type: ignore[no-untyped-def]
        try:
            text = await p.generate(GenerationRequest.completion("once upon", {"max_tokens": 4}))
            vectors = await p.embed(["abc", "e"])
            return text, vectors
        finally:
            await p.aclose()

    text, vectors = asyncio.run(go())
    assert text.text == "ECHO: once upon"
    assert vectors == [[1.0, 1.0, 1.0, 0.0, 0.0], [0.0, 0.0, 0.0, 0.0, 1.0]]
    assert [r["path"] for r in loopback.requests] == ["/v1/completions", "/v1/embeddings"]


def test_cache_answers_repeats_and_keys_on_model_and_sample(loopback: LoopbackOpenAI, tmp_path: Path) -> None:
    cache = ResponseCache(tmp_path / "cache.sqlite")

    def run(model: ModelInfo, sample: int) -> object:
        inner = OpenAIProvider(ProviderConfig(name="loop", type="openai", base_url=loopback.url), model)
        p = CachedProvider(inner, cache)

        async def go():  # type: ignore[no-untyped-def]
            try:
                return await p.generate(GenerationRequest.chat([{"role": "user", "content": "q"}], {}, sample))
            finally:
                await p.aclose()

        return asyncio.run(go())

    first = run(MODEL, 0)
    second = run(MODEL, 0)
    assert len(loopback.requests) == 1 and second.cached and not first.cached  # type: ignore[attr-defined]
    assert second.latency_ms == first.latency_ms  # type: ignore[attr-defined]  # the measured latency is kept
    run(MODEL, 1)
    run(ModelInfo("echo-model", "1.1.0"), 0)
    assert len(loopback.requests) == 3
    loopback.fail_next(1, 400)
    failed = run(ModelInfo("other", "1.0.0"), 0)
    assert failed.error is not None  # type: ignore[attr-defined]
    run(ModelInfo("other", "1.0.0"), 0)
    assert len(loopback.requests) == 5  # failures are never cached
    cache.close()


def test_record_then_replay(loopback: LoopbackOpenAI, tmp_path: Path) -> None:
    path = tmp_path / "rec" / "suite.jsonl"
    recorder = Recorder(path)
    p = RecordingProvider(provider(loopback), recorder)
    requests = [GenerationRequest.chat([{"role": "user", "content": f"q{i}"}], {"temperature": 0}) for i in range(3)]

    async def record() -> None:
        try:
            for r in requests:
                await p.generate(r)
            await p.embed(["abc"])
        finally:
            await p.aclose()

    asyncio.run(record())
    recorder.write()
    lines = path.read_text().splitlines()
    assert len(lines) == 4 and lines == sorted(lines, key=lambda line: line.split('"key": ')[1])
    replay = ReplayProvider(ProviderConfig(name="r", type="replay"), None, tmp_path, "suite", path=path)

    async def play():  # type: ignore[no-untyped-def]
        answers = [await replay.generate(r) for r in requests]
        missing = await replay.generate(GenerationRequest.chat([{"role": "user", "content": "new"}], {}))
        return answers, missing, await replay.embed(["abc"])

    answers, missing, vectors = asyncio.run(play())
    assert [a.text for a in answers] == ["ECHO: q0", "ECHO: q1", "ECHO: q2"]
    assert missing.text is None and "no recording" in (missing.error or "")
    assert vectors == [[1.0, 1.0, 1.0, 0.0, 0.0]]
    with pytest.raises(CallFailed):
        asyncio.run(replay.embed(["zzz"]))


def test_replay_configuration_errors(tmp_path: Path) -> None:
    with pytest.raises(ProviderError, match="no recordings"):
        ReplayProvider(ProviderConfig(name="r", type="replay", recordings="rec"), None, tmp_path, "suite")
    with pytest.raises(ProviderError, match="climbs"):
        ReplayProvider(ProviderConfig(name="r", type="replay", recordings="../x"), None, tmp_path, "suite")
    (tmp_path / "bad.jsonl").write_text('{"key": "a", "response": {}}\nnot json\n')
    with pytest.raises(ProviderError, match=r"bad\.jsonl:2"):
        ReplayProvider(ProviderConfig(name="r", type="replay", recordings="bad.jsonl"), None, tmp_path, "suite")


def test_provider_option_parsing() -> None:
    declared = {"kserve": ProviderConfig(name="kserve", type="openai", base_url="http://x")}
    assert ProviderConfig.from_option("kserve", declared) is declared["kserve"]
    adhoc = ProviderConfig.from_option("openai:http://127.0.0.1:8000/v1", declared)
    assert adhoc.type == "openai" and adhoc.base_url == "http://127.0.0.1:8000/v1"
    with pytest.raises(ProviderError, match="declared: kserve"):
        ProviderConfig.from_option("nope", declared)
    with pytest.raises(ProviderError):
        ProviderConfig.from_option("openai:ftp://x", declared)
    replay = ProviderConfig.from_option("replay:recorded.jsonl", declared)
    assert replay.type == "replay" and replay.recordings_file == str(Path("recorded.jsonl").resolve())
    with pytest.raises(ProviderError, match="expected replay:FILE"):
        ProviderConfig.from_option("replay:", declared)
    with pytest.raises(ProviderError, match="no recordings at"):
        build_provider(ProviderConfig.from_option("replay:/nonexistent/x.jsonl", {}), None, Path("/"), "suite")
    with pytest.raises(ProviderError, match="type"):
        ProviderConfig.from_spec("x", {"type": "grpc"})


def test_cache_scopes_prefetch_what_the_last_run_used(tmp_path: Path) -> None:
    path = tmp_path / "cache.sqlite"
    first = ResponseCache(path, scope="dev/suite")
    first.put("a", {"text": "A"})
    first.put("b", {"text": "B"})
    first.close()
    second = ResponseCache(path, scope="dev/suite")
    assert set(second.prefetched) == {"a", "b"}
    assert second.get("a") == {"text": "A"} and second.get("zzz") is None
    second.close()  # used only "a" now: the scope shrinks to it
    third = ResponseCache(path, scope="dev/suite")
    assert set(third.prefetched) == {"a"}
    assert third.get("b") == {"text": "B"}  # still in the cache, fetched one by one
    third.close()
    assert ResponseCache(path, scope="prod/suite").prefetched == {}
