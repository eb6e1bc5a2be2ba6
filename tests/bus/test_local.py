"""The in-process bus and turn queue."""

import asyncio
from datetime import UTC, datetime

import pytest

from roost.bus.local import LocalEventBus, LocalTurnQueue
from roost.domain.events import Event


def event(seq: int, turn_id: str = "turn_a") -> Event:
    return Event(turn_id, "ses_a", seq, "text", datetime.now(UTC), {"content": str(seq)})


async def test_subscribers_get_their_turns_events_in_order() -> None:
    bus = LocalEventBus()
    mine, other = bus.subscribe("turn_a"), bus.subscribe("turn_b")
    for seq in (1, 2, 3):
        await bus.publish(event(seq))
    assert [(await mine.next(1)).seq for _ in range(3)] == [1, 2, 3]  # type: ignore[union-attr]
    assert await other.next(0.01) is None
    mine.close()
    other.close()
    await bus.publish(event(4))  # nobody listens: nothing to do, nothing kept


async def test_a_reader_that_falls_behind_is_told_it_lagged(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    monkeypatch.setattr("roost.bus.local.SUBSCRIBER_BUFFER", 2)
    bus = LocalEventBus()
    slow = bus.subscribe("turn_a")
    for seq in (1, 2, 3):
        await bus.publish(event(seq))
    assert slow.lagged is True
    slow.close()


async def test_queue_runs_one_turn_at_a_time_per_session_in_order() -> None:
    ran: list[str] = []
    running = 0
    peak = 0

    async def job(turn_id: str) -> None:
        nonlocal running, peak
        running += 1
        peak = max(peak, running)
        await asyncio.sleep(0.01)
        ran.append(turn_id)
        running -= 1

    queue = LocalTurnQueue(job)
    for turn_id in ("t1", "t2", "t3"):
        queue.submit("ses_1", turn_id)
    queue.submit("ses_2", "u1")
    await asyncio.gather(*(queue.wait(t) for t in ("t1", "t2", "t3", "u1")))
    assert [t for t in ran if t.startswith("t")] == ["t1", "t2", "t3"]
    assert peak == 2  # the two sessions ran side by side, never two of one session
    await queue.aclose()


async def test_cancel_stops_a_running_turn_and_drops_a_waiting_one() -> None:
    started = asyncio.Event()
    outcome: dict[str, str] = {}

    async def job(turn_id: str) -> None:
        started.set()
        try:
            await asyncio.sleep(10)
            outcome[turn_id] = "finished"
        except asyncio.CancelledError:
            outcome[turn_id] = "cancelled"
            raise

    queue = LocalTurnQueue(job)
    queue.submit("ses_1", "t1")
    queue.submit("ses_1", "t2")
    await started.wait()
    assert queue.cancel("t2") is True  # waiting: simply dropped
    assert queue.cancel("t1") is True
    await asyncio.wait_for(queue.wait("t1"), 2)
    assert outcome == {"t1": "cancelled"}
    assert queue.cancel("t1") is False
    await queue.aclose()


async def test_a_turn_submitted_again_before_it_ran_runs_once() -> None:
    ran: list[str] = []

    async def job(turn_id: str) -> None:
        await asyncio.sleep(0.01)
        ran.append(turn_id)

    queue = LocalTurnQueue(job)
    queue.submit("ses_1", "t1")
    queue.submit("ses_1", "t2")
    waiter = asyncio.create_task(queue.wait("t2"))
    await asyncio.sleep(0)  # the waiter holds on to t2's end before it is submitted again
    queue.submit("ses_1", "t2")  # released again while still waiting its turn
    await asyncio.wait_for(waiter, 2)  # whoever waited on it first hears it ended
    await queue.wait("t2")
    assert ran == ["t1", "t2"]
    await queue.aclose()
