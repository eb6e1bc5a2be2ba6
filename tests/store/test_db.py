"""Database work that must run to its end, whatever happens to the task awaiting it."""

import asyncio
from pathlib import Path

import pytest
from sqlalchemy import text

from roost.store.db import Database, WriterTurns, uninterrupted


async def test_work_runs_to_its_end_through_repeated_cancels() -> None:
    steps: list[str] = []
    started, cancelled_twice = asyncio.Event(), asyncio.Event()

    async def work() -> str:
        steps.append("started")
        started.set()
        await cancelled_twice.wait()
        steps.append("finished")
        return "done"

    async def caller() -> str:
        return await uninterrupted(work())

    task = asyncio.create_task(caller())
    await started.wait()
    task.cancel()  # a turn cancelled…
    await asyncio.sleep(0)  # …the cancel reaches the caller…
    task.cancel()  # …and again, by the worker that runs it being stopped
    await asyncio.sleep(0)
    assert not task.done()  # still waiting for the work
    cancelled_twice.set()
    with pytest.raises(asyncio.CancelledError):
        await task
    assert steps == ["started", "finished"]  # the cancel took effect only after the work


async def test_the_result_comes_back_when_nothing_cancels() -> None:
    async def work() -> int:
        await asyncio.sleep(0)
        return 42

    assert await uninterrupted(work()) == 42


async def test_writers_at_once_on_sqlite_wait_their_turn_instead_of_failing(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Many write transactions at once, each longer than SQLite's busy timeout allows in
    total: none may fail with "database is locked"; they run one after another."""
    monkeypatch.setattr("roost.store.db.SQLITE_BUSY_TIMEOUT_MS", 100)
    database = Database(f"sqlite+aiosqlite:///{tmp_path / 'busy.db'}")
    try:
        async with database.write() as db:
            await db.execute(text("CREATE TABLE marks (n INTEGER)"))

        async def write(n: int) -> None:
            async with database.write() as db:
                await db.execute(text("INSERT INTO marks VALUES (:n)"), {"n": n})
                await asyncio.sleep(0.03)  # holds the write lock, as a turn's commit does

        await asyncio.gather(*(write(n) for n in range(20)))  # 0.6 s of writing in all
        async with database.read() as db:
            marks = (await db.execute(text("SELECT n FROM marks ORDER BY n"))).scalars()
            assert list(marks) == list(range(20))
    finally:
        await database.close()


async def test_an_urgent_writer_goes_before_those_already_waiting() -> None:
    turns = WriterTurns()
    order: list[str] = []
    holding = asyncio.Event()
    release = asyncio.Event()

    async def writer(name: str, *, urgent: bool = False, hold: bool = False) -> None:
        async with turns.turn(urgent=urgent):
            order.append(name)
            if hold:
                holding.set()
                await release.wait()

    first = asyncio.create_task(writer("first", hold=True))
    await holding.wait()
    queued = [asyncio.create_task(writer(f"plain-{n}")) for n in range(3)]
    await asyncio.sleep(0)
    cancelled = asyncio.create_task(writer("cancelled", urgent=True))
    urgent = asyncio.create_task(writer("urgent", urgent=True))
    await asyncio.sleep(0)
    cancelled.cancel()  # a waiter that gives up leaves the line without holding it up
    release.set()
    await asyncio.wait_for(asyncio.gather(first, urgent, *queued), 2)
    assert cancelled.cancelled()
    assert order == ["first", "urgent", "plain-0", "plain-1", "plain-2"]
    async with turns.turn():  # free again
        order.append("last")
    assert order[-1] == "last"


async def test_after_an_urgent_writer_the_others_get_as_long_again() -> None:
    turns = WriterTurns()
    order: list[str] = []

    async def writer(name: str, *, urgent: bool = False, hold: float = 0.0) -> None:
        async with turns.turn(urgent=urgent):
            order.append(name)
            await asyncio.sleep(hold)

    # The committer's round holds the turn 0.3 s while two starts and its next round wait:
    # the starts go first, within the 0.3 s that are theirs.
    round_1 = asyncio.create_task(writer("round-1", urgent=True, hold=0.3))
    await asyncio.sleep(0.05)
    starts = [asyncio.create_task(writer(f"start-{n}")) for n in range(2)]
    await asyncio.sleep(0)
    round_2 = asyncio.create_task(writer("round-2", urgent=True, hold=0.05))
    await asyncio.wait_for(asyncio.gather(round_1, round_2, *starts), 5)
    assert order == ["round-1", "start-0", "start-1", "round-2"]

    # A start that outlasts the share: then the waiting round goes before the next start.
    order.clear()
    slow = asyncio.create_task(writer("slow-start", hold=0.2))
    await asyncio.sleep(0.01)
    later = asyncio.create_task(writer("start-2"))
    await asyncio.sleep(0)
    round_3 = asyncio.create_task(writer("round-3", urgent=True))
    await asyncio.wait_for(asyncio.gather(slow, later, round_3), 5)
    assert order == ["slow-start", "round-3", "start-2"]
