"""Database work that must run to its end, whatever happens to the task awaiting it."""

import asyncio

import pytest

from roost.store.db import uninterrupted


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
