"""Counters behind rate limits: fixed windows, concurrency slots and backoffs, in this
process or in Redis, so that limits hold across replicas."""

import asyncio
import math
import time
from collections.abc import Callable
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


@dataclass(frozen=True)
class Backoff:
    """Growing delays between attempts: ``free`` attempts go at once, then each waits
    twice as long as the one before, from ``first_seconds`` up to ``longest_seconds``.
    A key left alone for ``forget_seconds`` starts again."""

    free: int
    first_seconds: float
    longest_seconds: float
    forget_seconds: int

    def delay(self, attempts: int) -> float:
        """The wait after the ``attempts``-th attempt."""
        if attempts < self.free:
            return 0.0
        return min(self.longest_seconds, self.first_seconds * 2.0 ** min(attempts - self.free, 60))


class Counters(Protocol):
    backend: str  # "memory" (this process only) or "redis" (shared by every replica)

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

    async def attempt(self, key: str, backoff: Backoff) -> float:
        """Count one attempt for ``key`` when its delay is over, and return 0; else count
        nothing and return the seconds left. Atomic: of attempts at once, only as many go
        as the backoff lets through."""
        ...

    async def forget(self, key: str) -> None:
        """Start ``key``'s backoff again (after a success)."""
        ...


def _window(window_seconds: int) -> tuple[int, int]:
    start = math.floor(time.time()) // window_seconds * window_seconds
    return start, start + window_seconds


class MemoryCounters:
    backend = "memory"

    def __init__(self, clock: Callable[[], float] = time.time) -> None:
        self._hits: dict[str, tuple[int, int]] = {}  # key -> (window start, count)
        self._slots: dict[str, int] = {}
        self._tries: dict[str, tuple[int, float, float]] = {}  # key -> (count, next, last)
        self._clock = clock
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

    async def attempt(self, key: str, backoff: Backoff) -> float:
        # No await between reading and writing: attempts at once are counted one by one.
        now = self._clock()
        count, ready_at, last = self._tries.get(key, (0, 0.0, now))
        if now - last > backoff.forget_seconds:
            count, ready_at = 0, 0.0
        if now < ready_at:
            return ready_at - now
        count += 1
        self._tries[key] = (count, now + backoff.delay(count), now)
        if len(self._tries) > 100_000:  # forget quiet keys now and then
            self._tries = {
                k: v for k, v in self._tries.items() if now - v[2] <= backoff.forget_seconds
            }
        return 0.0

    async def forget(self, key: str) -> None:
        self._tries.pop(key, None)


# One backoff attempt, read and written in one step, on Redis's clock (replicas' clocks
# may differ). KEYS[1]: the key's hash; ARGV: free, first, longest, forget seconds. Times
# are written to the microsecond: Lua's tostring keeps 14 digits, a tenth of a
# millisecond of an epoch time, and a wait could come out longer than the delay.
_ATTEMPT = """
local now = redis.call('TIME')
now = tonumber(now[1]) + tonumber(now[2]) / 1000000
local count = tonumber(redis.call('HGET', KEYS[1], 'n') or '0')
local ready = tonumber(redis.call('HGET', KEYS[1], 'at') or '0')
if now < ready then return string.format('%.6f', ready - now) end
count = count + 1
local free, first, longest = tonumber(ARGV[1]), tonumber(ARGV[2]), tonumber(ARGV[3])
local delay = 0
if count >= free then delay = math.min(longest, first * 2 ^ math.min(count - free, 60)) end
redis.call('HSET', KEYS[1], 'n', count, 'at', string.format('%.6f', now + delay))
redis.call('EXPIRE', KEYS[1], math.max(tonumber(ARGV[4]), math.ceil(delay) + 1))
return '0'
"""


class RedisCounters:
    """The same counters in Redis: INCR with an expiry per window, INCR/DECR for slots,
    a script for backoffs."""

    backend = "redis"
    SLOT_TTL_SECONDS = 600  # a replica that dies holding slots frees them at the latest then

    def __init__(self, redis: Any, prefix: str = "roost:limits:") -> None:
        self.redis = redis
        self.prefix = prefix
        self._attempt = redis.register_script(_ATTEMPT)

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

    async def attempt(self, key: str, backoff: Backoff) -> float:
        wait = await self._attempt(
            keys=[f"{self.prefix}b:{key}"],
            args=[
                backoff.free,
                backoff.first_seconds,
                backoff.longest_seconds,
                backoff.forget_seconds,
            ],
        )
        return float(wait)

    async def forget(self, key: str) -> None:
        await self.redis.delete(f"{self.prefix}b:{key}")
