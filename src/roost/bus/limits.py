"""Counters behind rate limits: fixed windows and concurrency slots, in this process or
in Redis, so that limits hold across replicas."""

import asyncio
import math
import time
from dataclasses import dataclass
from typing import Any, Protocol


@dataclass(frozen=True)
class Window:
    """One principal's standing in the current window."""

    allowed: bool
    limit: int
    remaining: int
    reset_at: int  # epoch seconds when the window ends

    @property
    def retry_after(self) -> int:
        return max(1, self.reset_at - math.floor(time.time()))


class Counters(Protocol):
    async def hit(self, key: str, limit: int, window_seconds: int) -> Window:
        """Count one event for ``key`` in the current window."""
        ...

    async def peek(self, key: str, limit: int, window_seconds: int) -> Window:
        """The window's standing without counting."""
        ...

    async def acquire(self, key: str, limit: int) -> bool:
        """Take one of ``limit`` concurrent slots; False when all are taken."""
        ...

    async def release(self, key: str) -> None: ...


def _window(window_seconds: int) -> tuple[int, int]:
    start = math.floor(time.time()) // window_seconds * window_seconds
    return start, start + window_seconds


class MemoryCounters:
    def __init__(self) -> None:
        self._hits: dict[str, tuple[int, int]] = {}  # key -> (window start, count)
        self._slots: dict[str, int] = {}
        self._lock = asyncio.Lock()

    async def hit(self, key: str, limit: int, window_seconds: int) -> Window:
        return self._count(key, limit, window_seconds, 1)

    async def peek(self, key: str, limit: int, window_seconds: int) -> Window:
        return self._count(key, limit, window_seconds, 0)

    def _count(self, key: str, limit: int, window_seconds: int, add: int) -> Window:
        start, end = _window(window_seconds)
        seen_start, count = self._hits.get(key, (start, 0))
        count = (count if seen_start == start else 0) + add
        self._hits[key] = (start, count)
        if len(self._hits) > 100_000:  # forget finished windows now and then
            self._hits = {k: v for k, v in self._hits.items() if v[0] == start}
        return Window(count <= limit, limit, max(0, limit - count), end)

    async def acquire(self, key: str, limit: int) -> bool:
        taken = self._slots.get(key, 0)
        if taken >= limit:
            return False
        self._slots[key] = taken + 1
        return True

    async def release(self, key: str) -> None:
        taken = self._slots.get(key, 0) - 1
        if taken > 0:
            self._slots[key] = taken
        else:
            self._slots.pop(key, None)


class RedisCounters:
    """The same counters in Redis: INCR with an expiry per window, INCR/DECR for slots."""

    SLOT_TTL_SECONDS = 600  # a replica that dies holding slots frees them at the latest then

    def __init__(self, redis: Any, prefix: str = "roost:limits:") -> None:
        self.redis = redis
        self.prefix = prefix

    async def hit(self, key: str, limit: int, window_seconds: int) -> Window:
        start, end = _window(window_seconds)
        name = f"{self.prefix}w:{key}:{start}"
        async with self.redis.pipeline(transaction=True) as pipe:
            pipe.incr(name)
            pipe.expire(name, window_seconds + 5)
            count, _ = await pipe.execute()
        return Window(int(count) <= limit, limit, max(0, limit - int(count)), end)

    async def peek(self, key: str, limit: int, window_seconds: int) -> Window:
        start, end = _window(window_seconds)
        count = int(await self.redis.get(f"{self.prefix}w:{key}:{start}") or 0)
        return Window(count <= limit, limit, max(0, limit - count), end)

    async def acquire(self, key: str, limit: int) -> bool:
        name = f"{self.prefix}c:{key}"
        async with self.redis.pipeline(transaction=True) as pipe:
            pipe.incr(name)
            pipe.expire(name, self.SLOT_TTL_SECONDS)
            taken, _ = await pipe.execute()
        if int(taken) > limit:
            await self.redis.decr(name)
            return False
        return True

    async def release(self, key: str) -> None:
        name = f"{self.prefix}c:{key}"
        if int(await self.redis.decr(name)) < 0:
            # The count expired under a very long request: start again from zero.
            await self.redis.set(name, 0, ex=self.SLOT_TTL_SECONDS)
