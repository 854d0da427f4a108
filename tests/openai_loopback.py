"""A real OpenAI-compatible HTTP server on 127.0.0.1, in a background thread, whose failures are scripted.

It answers ``/v1/chat/completions`` with ``ECHO: <last user message>``, ``/v1/completions`` with
``ECHO: <prompt>`` and ``/v1/embeddings`` with a small deterministic vector per text (letter counts), and
reports token usage as word counts. Tests script what the next requests get (``fail_next``,
``delay_next``) and read what arrived (``requests``: path, arrival time, JSON body, headers).
"""

from __future__ import annotations

import asyncio
import threading
import time
from collections import deque
from dataclasses import dataclass, field
from typing import Any

from aiohttp import web


@dataclass
class Scripted:
    status: int = 200
    delay: float = 0.0
    headers: dict[str, str] = field(default_factory=dict)
    body: Any = None


class LoopbackOpenAI:
    def __init__(self, latency: float = 0.0) -> None:
        self.latency = latency
        self.script: deque[Scripted] = deque()
        self.requests: list[dict[str, Any]] = []
        self.lock = threading.Lock()
        self.loop = asyncio.new_event_loop()
        self.port = 0
        self._ready = threading.Event()
        self._runner: web.AppRunner | None = None
        self.thread = threading.Thread(target=self._serve, daemon=True)

    # -- scripting ----------------------------------------------------------------------------------
    def fail_next(self, count: int, status: int, retry_after: str | None = None, body: Any = None) -> None:
        with self.lock:
            for _ in range(count):
                headers = {"Retry-After": retry_after} if retry_after is not None else {}
                self.script.append(Scripted(status=status, headers=headers, body=body))

    def delay_next(self, count: int, seconds: float) -> None:
        with self.lock:
            for _ in range(count):
                self.script.append(Scripted(delay=seconds))

    def answer_next(self, body: Any) -> None:
        with self.lock:
            self.script.append(Scripted(body=body))

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.port}"

    # -- serving ------------------------------------------------------------------------------------
    def _next(self) -> Scripted | None:
        with self.lock:
            return self.script.popleft() if self.script else None

    async def _handle(self, request: web.Request) -> web.StreamResponse:
        arrived = time.monotonic()
        body = await request.json()
        with self.lock:
            self.requests.append({"path": request.path, "at": arrived, "body": body, "headers": dict(request.headers)})
        step = self._next()
        await asyncio.sleep((step.delay if step else 0.0) + self.latency)
        if step is not None and step.status != 200:
            return web.json_response(step.body or {"error": {"message": f"scripted {step.status}"}},
                                     status=step.status, headers=step.headers)
        if step is not None and step.body is not None:
            return web.json_response(step.body)
        if request.path.endswith("/embeddings"):
            texts = body["input"] if isinstance(body["input"], list) else [body["input"]]
            data = [{"index": i, "embedding": letter_vector(t)} for i, t in enumerate(texts)]
            return web.json_response({"data": data, "model": body.get("model")})
        if request.path.endswith("/chat/completions"):
            users = [m["content"] for m in body.get("messages", []) if m.get("role") == "user"]
            text = users[-1] if users else ""
            choice: dict[str, Any] = {"index": 0, "message": {"role": "assistant", "content": "ECHO: " + text}}
        else:
            text = body.get("prompt", "")
            choice = {"index": 0, "text": "ECHO: " + text}
        answer = "ECHO: " + text
        return web.json_response({"choices": [choice], "usage": {"prompt_tokens": len(text.split()),
                                                                 "completion_tokens": len(answer.split())}})

    def _serve(self) -> None:
        asyncio.set_event_loop(self.loop)
        app = web.Application()
        for path in ("/v1/chat/completions", "/v1/completions", "/v1/embeddings"):
            app.router.add_post(path, self._handle)

        async def start() -> None:
            self._runner = web.AppRunner(app, access_log=None)
            await self._runner.setup()
            site = web.TCPSite(self._runner, "127.0.0.1", 0)
            await site.start()
            server = site._server
            assert server is not None
            self.port = server.sockets[0].getsockname()[1]  # type: ignore[union-attr]
            self._ready.set()

        self.loop.run_until_complete(start())
        self.loop.run_forever()

    def __enter__(self) -> LoopbackOpenAI:
        self.thread.start()
        if not self._ready.wait(10):
            raise RuntimeError("loopback server did not start")
        return self

    def __exit__(self, *exc: object) -> None:
        async def stop() -> None:
            if self._runner is not None:
                await self._runner.cleanup()

        asyncio.run_coroutine_threadsafe(stop(), self.loop).result(10)
        self.loop.call_soon_threadsafe(self.loop.stop)
        self.thread.join(10)


def letter_vector(text: str) -> list[float]:
    """Counts of a..e in the text: texts sharing letters point the same way, so cosine is predictable."""
    low = text.lower()
    return [float(low.count(c)) for c in "abcde"]
