"""Client-side limits: requests per minute and tokens per minute, as token buckets.

Each bucket holds at most one second of its rate (at least one request's worth), so traffic is spread
over the minute instead of bursting a full minute's quota and collecting 429s. Tokens are estimated
before a request is sent and corrected with the usage the server reports.
"""

from __future__ import annotations

import asyncio
import time
from collections.abc import Callable


class TokenBucket:
    def __init__(self, per_minute: float, clock: Callable[[], float] = time.monotonic) -> None:
        if per_minute <= 0:
            raise ValueError("a rate limit must be positive")
        self.rate = per_minute / 60.0  # units per second
        self.capacity = max(1.0, self.rate)
        self.clock = clock
        self.level = self.capacity
        self.updated = clock()
        self._lock = asyncio.Lock()

    def _refill(self) -> None:
        now = self.clock()
        self.level = min(self.capacity, self.level + (now - self.updated) * self.rate)
        self.updated = now

    async def acquire(self, amount: float = 1.0) -> float:
        """Wait until ``amount`` may be spent, spend it, and return how long this waited.

        A request larger than the bucket waits for a full bucket and then drives the level negative,
        so the requests after it wait for the debt: the average rate still holds.
        """
        waited = 0.0
        async with self._lock:  # first come, first served
            need = min(amount, self.capacity)
            while True:
                self._refill()
                if self.level >= need:
                    self.level -= amount
                    return waited
                delay = (need - self.level) / self.rate
                waited += delay
                await asyncio.sleep(delay)

    def adjust(self, amount: float) -> None:
        """Charge (positive) or refund (negative) the difference between estimate and actual use."""
        self._refill()
        self.level = min(self.capacity, self.level - amount)


class RateLimiter:
    """Both limits of one provider; either may be absent."""

    def __init__(self, requests_per_minute: int | None, tokens_per_minute: int | None) -> None:
        self.requests = TokenBucket(requests_per_minute) if requests_per_minute else None
        self.tokens = TokenBucket(tokens_per_minute) if tokens_per_minute else None

    @property
    def active(self) -> bool:
        return self.requests is not None or self.tokens is not None

    async def acquire(self, estimated_tokens: int) -> None:
        if self.requests is not None:
            await self.requests.acquire(1)
        if self.tokens is not None:
            await self.tokens.acquire(estimated_tokens)

    def settle(self, estimated_tokens: int, actual_tokens: int | None) -> None:
        if self.tokens is not None and actual_tokens is not None:
            self.tokens.adjust(actual_tokens - estimated_tokens)
