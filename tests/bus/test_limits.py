"""Rate-limit counters, in memory and in a real Redis."""

import asyncio
import uuid
from collections.abc import AsyncIterator

import pytest

from roost.bus import redis as redis_bus
from roost.bus.limits import Backoff, Counters, MemoryCounters, RedisCounters
from tests.conftest import service_url


async def test_memory_windows_and_slots() -> None:
    counters = MemoryCounters()
    standings = [await counters.hit("k", 2, 60) for _ in range(3)]
    assert [s.allowed for s in standings] == [True, True, False]
    assert standings[0].remaining == 1 and standings[2].retry_after >= 1
    assert await counters.acquire("c", 1) and not await counters.acquire("c", 1)
    await counters.release("c")
    assert await counters.acquire("c", 1)


async def test_redis_slots_never_go_below_zero() -> None:
    client = redis_bus.connect(service_url("ROOST_TEST_REDIS_URL"))
    counters = RedisCounters(client, prefix=f"roost:test:{uuid.uuid4().hex}:")
    try:
        await counters.release("lost")  # a slot whose count expired under a long request
        assert await counters.acquire("lost", 1)
        assert not await counters.acquire("lost", 1)
        window = await counters.hit("w", 1, 60)
        assert window.allowed and not (await counters.hit("w", 1, 60)).allowed
    finally:
        await client.aclose()


@pytest.fixture(params=["memory", "redis"])
async def counters(request: pytest.FixtureRequest) -> AsyncIterator[Counters]:
    if request.param == "memory":
        yield MemoryCounters()
        return
    client = redis_bus.connect(service_url("ROOST_TEST_REDIS_URL"))
    try:
        yield RedisCounters(client, prefix=f"roost:test:{uuid.uuid4().hex}:")
    finally:
        await client.aclose()


DAY = 86_400  # a window that a test does not outlast


@pytest.mark.parametrize("limit", [1, 3])
async def test_peek_shows_the_hits_and_counts_none(counters: Counters, limit: int) -> None:
    await counters.hit("p", limit, DAY)
    for _ in range(5):
        peeked = await counters.peek("p", limit, DAY)
        assert peeked.allowed and peeked.remaining == limit - 1
    # Had a peek counted, the window would be spent before these hits.
    standings = [await counters.hit("p", limit, DAY) for _ in range(limit)]
    assert [s.allowed for s in standings] == [True] * (limit - 1) + [False]
    spent = await counters.peek("p", limit, DAY)
    assert not spent.allowed and spent.remaining == 0


BACKOFF = Backoff(free=2, first_seconds=0.05, longest_seconds=0.2, forget_seconds=60)


async def test_memory_backoff_grows_to_its_longest_and_a_success_starts_again() -> None:
    now = [1000.0]
    counters = MemoryCounters(clock=lambda: now[0])
    assert [await counters.attempt("b", BACKOFF) for _ in range(2)] == [0.0, 0.0]
    waits = []
    for _ in range(4):
        waits.append(await counters.attempt("b", BACKOFF))  # refused: the wait left
        now[0] += waits[-1]
        assert await counters.attempt("b", BACKOFF) == 0.0
    assert waits == pytest.approx([0.05, 0.1, 0.2, 0.2])
    await counters.forget("b")
    assert [await counters.attempt("b", BACKOFF) for _ in range(2)] == [0.0, 0.0]
    now[0] += 61  # a key left alone long enough starts again
    assert [await counters.attempt("b", BACKOFF) for _ in range(2)] == [0.0, 0.0]


async def test_redis_backoff_lets_one_of_many_at_once_through() -> None:
    client = redis_bus.connect(service_url("ROOST_TEST_REDIS_URL"))
    counters = RedisCounters(client, prefix=f"roost:test:{uuid.uuid4().hex}:")
    try:
        # A first delay longer than the thirty attempts can take, however loaded the
        # machine: none of them may find it already over.
        patient = Backoff(free=2, first_seconds=30, longest_seconds=60, forget_seconds=120)
        waits = await asyncio.gather(*(counters.attempt("many", patient) for _ in range(30)))
        assert waits.count(0.0) == patient.free
        assert all(0 < wait <= 30 for wait in waits if wait)

        timed = Backoff(free=2, first_seconds=0.2, longest_seconds=0.8, forget_seconds=60)
        assert [await counters.attempt("b", timed) for _ in range(2)] == [0.0, 0.0]
        first = await counters.attempt("b", timed)
        assert 0 < first <= 0.2
        await asyncio.sleep(first + 0.01)
        assert await counters.attempt("b", timed) == 0.0
        assert 0.2 < await counters.attempt("b", timed) <= 0.4  # the wait doubled
        await counters.forget("b")
        assert await counters.attempt("b", timed) == 0.0
    finally:
        await client.aclose()
