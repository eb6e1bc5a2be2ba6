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
    await bus.publish(event(4))  # nobody listens: nobody is sent it


async def test_a_late_subscriber_gets_a_live_turns_newest_events_from_the_bus(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    monkeypatch.setattr("roost.bus.local.TAIL", 3)
    bus = LocalEventBus()
    await bus.publish(event(1))
    await bus.publish(event(2))
    late = bus.subscribe("turn_a")
    assert [e.seq for e in late.since(0) or []] == [1, 2]
    assert late.since(2) == []  # nothing after its cursor yet, and the bus can tell
    for seq in (3, 4):
        await bus.publish(event(seq))
    later = bus.subscribe("turn_a")
    assert later.since(0) is None  # 1 is no longer held: the reader must read the log
    assert [e.seq for e in later.since(1) or []] == [2, 3, 4]
    assert bus.subscribe("turn_b").since(0) is None  # nothing of that turn was published
    done = Event("turn_a", "ses_a", 5, "done", datetime.now(UTC), {})
    await bus.publish(done)
    assert bus.subscribe("turn_a").since(4) is None  # an ended turn's tail is let go
    assert [e.seq for e in [await late.next(1) for _ in range(3)] if e] == [3, 4, 5]


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

    async def job(turn_id: str, _started: object) -> None:
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

    async def job(turn_id: str, _started: object) -> None:
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
    assert queue.cancel("t2") is False  # waiting: dropped, and left to its caller to end
    assert queue.cancel("t1") is True  # running: its task ends it
    await asyncio.wait_for(queue.wait("t1"), 2)
    assert outcome == {"t1": "cancelled"}
    assert queue.cancel("t1") is False
    await queue.aclose()


async def test_cancel_of_a_job_that_just_returned_is_left_to_the_caller() -> None:
    returned = asyncio.Event()

    async def job(_turn_id: str, _started: object) -> None:
        returned.set()  # e.g. a turn held behind a waiting one: it returns at once

    queue = LocalTurnQueue(job)
    queue.submit("ses_1", "t1")
    await returned.wait()
    await asyncio.sleep(0)  # the job's task is done; its worker has not collected it yet
    assert queue.cancel("t1") is False  # no task will end the turn: its caller must
    await asyncio.wait_for(queue.wait("t1"), 2)
    await queue.aclose()


async def test_a_turn_submitted_again_before_it_ran_runs_once() -> None:
    ran: list[str] = []

    async def job(turn_id: str, _started: object) -> None:
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


async def test_a_turn_started_by_its_request_reaches_its_job_with_what_was_done() -> None:
    given: dict[str, object] = {}

    async def job(turn_id: str, started: object) -> None:
        given[turn_id] = started

    queue = LocalTurnQueue(job)
    queue.submit("ses_1", "t1", {"started": "here"})
    queue.submit("ses_1", "t2")
    await asyncio.wait_for(queue.wait("t2"), 2)
    assert given == {"t1": {"started": "here"}, "t2": None}
    await queue.aclose()
