"""A value read for a key is kept for its seconds, and forgotten on request."""

from roost.services.recently_read import RecentlyRead


async def test_a_read_is_kept_for_its_seconds_then_read_again() -> None:
    now = [100.0]
    reads: list[str] = []

    async def read(key: str) -> str:
        reads.append(key)
        return f"{key}-{len(reads)}"

    recent: RecentlyRead[str] = RecentlyRead(5, clock=lambda: now[0])
    assert await recent.get("a", lambda: read("a")) == "a-1"
    now[0] += 4.9
    assert await recent.get("a", lambda: read("a")) == "a-1"  # still kept
    assert await recent.get("b", lambda: read("b")) == "b-2"  # keys apart
    now[0] += 0.2
    assert await recent.get("a", lambda: read("a")) == "a-3"  # its time was up
    recent.forget("a")
    assert await recent.get("a", lambda: read("a")) == "a-4"
    assert await recent.get("b", lambda: read("b")) == "b-2"  # forgetting one kept the other
    recent.forget()
    assert await recent.get("b", lambda: read("b")) == "b-5"
