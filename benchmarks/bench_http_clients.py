"""aiohttp vs httpx as the OpenAI-compatible provider's HTTP client: 1,000 chat completions at concurrency
16 against the loopback echo server (20 ms latency), in one process, alternating.

    python benchmarks/bench_http_clients.py [--requests 1000] [--rounds 5]

Wall time is mostly the server's latency; the client's CPU time per request is what decides how many
requests one evaluation process can keep in flight, so both are printed.
"""

from __future__ import annotations

import argparse
import asyncio
import json
import statistics
import sys
import time
from collections.abc import Awaitable, Callable

from bench_eval_vs_promptfoo import SERVER, free_port, start_server

CONCURRENCY = 16


def body(i: int) -> bytes:
    return json.dumps({"model": "echo", "messages": [{"role": "user", "content": f"question {i}"}]}).encode()


async def with_aiohttp(url: str, n: int) -> None:
    import aiohttp

    connector = aiohttp.TCPConnector(limit=CONCURRENCY)
    async with aiohttp.ClientSession(connector=connector, headers={"Content-Type": "application/json"}) as session:
        gate = asyncio.Semaphore(CONCURRENCY)

        async def one(i: int) -> None:
            async with gate, session.post(url, data=body(i)) as resp:
                json.loads(await resp.read())["choices"][0]["message"]["content"]

        await asyncio.gather(*(one(i) for i in range(n)))


async def with_httpx(url: str, n: int) -> None:
    import httpx

    limits = httpx.Limits(max_connections=CONCURRENCY, max_keepalive_connections=CONCURRENCY)
    async with httpx.AsyncClient(limits=limits, headers={"Content-Type": "application/json"}) as client:
        gate = asyncio.Semaphore(CONCURRENCY)

        async def one(i: int) -> None:
            async with gate:
                resp = await client.post(url, content=body(i))
                json.loads(resp.content)["choices"][0]["message"]["content"]

        await asyncio.gather(*(one(i) for i in range(n)))


def measure(run: Callable[[str, int], Awaitable[None]], url: str, n: int) -> tuple[float, float]:
    wall, cpu = time.perf_counter(), time.process_time()
    asyncio.run(run(url, n))  # type: ignore[arg-type]
    return time.perf_counter() - wall, time.process_time() - cpu


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--requests", type=int, default=1000)
    parser.add_argument("--rounds", type=int, default=5)
    args = parser.parse_args()
    if not SERVER.is_file():
        print(f"skipped: the echo server {SERVER} is not here")
        return
    port = free_port()
    server = start_server(port)
    url = f"http://127.0.0.1:{port}/v1/chat/completions"
    clients: dict[str, Callable[[str, int], Awaitable[None]]] = {"aiohttp": with_aiohttp}
    try:
        import httpx  # noqa: F401  (only to know whether it is installed)

        clients["httpx"] = with_httpx
    except ImportError:
        print("httpx: not installed (pip install httpx); aiohttp only")
    results: dict[str, list[tuple[float, float]]] = {name: [] for name in clients}
    try:
        for run in clients.values():
            measure(run, url, 50)  # warm-up: imports, first connections
        for _ in range(args.rounds):
            for name, run in clients.items():
                results[name].append(measure(run, url, args.requests))
    finally:
        server.terminate()
        server.wait(10)
    print(f"{args.requests} requests, concurrency {CONCURRENCY}, 20 ms latency, {args.rounds} rounds (medians):")
    for name, values in results.items():
        wall = statistics.median(v[0] for v in values)
        cpu = statistics.median(v[1] for v in values)
        print(f"  {name:<8} wall {wall:6.2f} s   client CPU {cpu:6.2f} s ({cpu / args.requests * 1e6:5.0f} us/request)")


if __name__ == "__main__":
    sys.exit(main())
