"""Rate-limit counters, in memory and in a real Redis."""

import uuid

import pytest

from roost.bus import redis as redis_bus
from roost.bus.limits import MemoryCounters, RedisCounters
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


@pytest.mark.parametrize("limit", [1, 3])
async def test_memory_peek_does_not_count(limit: int) -> None:
    counters = MemoryCounters()
    for _ in range(5):
        assert (await counters.peek("p", limit, 60)).remaining == limit
