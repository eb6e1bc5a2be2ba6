"""The scheduler: every process runs one, and each due time fires once across them all.

Each pass reads the jobs that are due and, for each, moves its next run from the due
time to the following one with one conditional update (``DueJobs.claim``): of several
processes on one database, only the one whose update still found the due time fires.
A due time far in the past (the server was down, :data:`timing.GRACE`) follows the
job's ``missed`` policy: ``skip`` records a skipped run and waits for the next time,
``run_once`` fires once for all the times missed.
"""

import asyncio
import contextlib
import logging
from datetime import datetime

from roost import ids
from roost.clock import utcnow
from roost.services.scheduler import timing
from roost.services.scheduler.service import SchedulerService
from roost.store.db import Database
from roost.store.models import ScheduledJob, ScheduledRun
from roost.store.schedules import DueJobs, RunRepo

log = logging.getLogger("roost.scheduler")


class Scheduler:
    def __init__(self, database: Database, service: SchedulerService, poll_seconds: float) -> None:
        self.database = database
        self.service = service
        self.poll_seconds = poll_seconds
        self._task: asyncio.Task[None] | None = None
        self._fired: set[asyncio.Task[object]] = set()

    def start(self) -> None:
        self._task = asyncio.create_task(self._run())

    async def stop(self) -> None:
        for task in (self._task, *self._fired):
            if task is not None:
                task.cancel()
        for task in (self._task, *self._fired):
            if task is not None:
                with contextlib.suppress(BaseException):
                    await task

    async def _run(self) -> None:
        while True:
            try:
                await self.tick()
            except Exception:
                log.exception("a scheduler pass failed")
            await asyncio.sleep(self.poll_seconds)

    async def tick(self, now: datetime | None = None) -> int:
        """One pass: fire what is due; returns how many runs this process claimed."""
        now = now or utcnow()
        async with self.database.read() as db:
            due = list(await DueJobs(db).due(now))
        claimed = 0
        for job in due:
            if await self._claim(job, now):
                claimed += 1
        return claimed

    async def _claim(self, job: ScheduledJob, now: datetime) -> bool:
        assert job.next_run_at is not None
        due = job.next_run_at
        missed = timing.missed(due, now)
        # Late: the next time follows this one. Missed: the next time after now.
        following = _following(job, now if missed else due, now)
        async with self.database.write() as db:
            if not await DueJobs(db).claim(job.id, due, following):
                return False  # another process has it
            if missed and job.missed == "skip":
                RunRepo(db).add(_skipped(job, due))
                return True
        task = asyncio.create_task(self.service.fire(job, due))
        self._fired.add(task)
        task.add_done_callback(self._fired.discard)
        return True


def _following(job: ScheduledJob, after: datetime, now: datetime) -> datetime:
    """The next due time after ``after`` that is not already far behind ``now``."""
    following = timing.next_after(after, job.schedule, job.interval_seconds, job.timezone)
    if following < now - timing.GRACE:  # a short interval, long behind: start from now
        following = timing.next_after(now, job.schedule, job.interval_seconds, job.timezone)
    return following


def _skipped(job: ScheduledJob, due: datetime) -> ScheduledRun:
    now = utcnow()
    return ScheduledRun(
        id=ids.new_id("jrun"),
        job_id=job.id,
        scheduled_for=due,
        status="skipped",
        started_at=now,
        finished_at=now,
        error={"code": "MISSED", "message": "Missed while the server was down"},
    )
