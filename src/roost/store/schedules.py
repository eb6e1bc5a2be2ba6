"""Scheduled jobs (by their owner, by name) and their runs; the scheduler's claims."""

from collections.abc import Sequence
from datetime import datetime

from sqlalchemy import select, update
from sqlalchemy.ext.asyncio import AsyncSession

from roost import ids
from roost.errors import JobNotFound
from roost.store.models import ScheduledJob, ScheduledRun
from roost.store.owned import OwnedRepo
from roost.store.paging import cut


class JobRepo(OwnedRepo[ScheduledJob]):
    model = ScheduledJob
    prefix = "job"
    not_found = JobNotFound

    async def named(self, name: str, *, for_update: bool = False) -> ScheduledJob:
        """The owner's job called ``name``; :class:`JobNotFound` when there is none."""
        query = self.owned().where(ScheduledJob.name == name)
        if for_update:
            query = query.with_for_update()
        found = (await self.db.execute(query)).scalar_one_or_none()
        if found is None:
            raise JobNotFound(name)
        return found

    async def listed(
        self, *, limit: int, after: str | None = None
    ) -> tuple[list[ScheduledJob], bool]:
        """By name."""
        query = self.owned()
        if after is not None:
            query = query.where(ScheduledJob.name > after)
        rows = (await self.db.execute(query.order_by(ScheduledJob.name).limit(limit + 1))).scalars()
        return cut(rows.all(), limit)


class RunRepo:
    def __init__(self, db: AsyncSession) -> None:
        self.db = db

    def add(self, run: ScheduledRun) -> ScheduledRun:
        self.db.add(run)
        return run

    async def get(self, run_id: str) -> ScheduledRun | None:
        if not ids.is_valid("jrun", run_id):
            return None
        return await self.db.get(ScheduledRun, run_id)

    async def of_job(
        self, job_id: str, *, limit: int, before: str | None = None
    ) -> tuple[list[ScheduledRun], bool]:
        """Newest first."""
        query = select(ScheduledRun).where(ScheduledRun.job_id == job_id)
        if before is not None:
            query = query.where(ScheduledRun.id < before)
        rows = await self.db.execute(query.order_by(ScheduledRun.id.desc()).limit(limit + 1))
        return cut(rows.scalars().all(), limit)

    async def find_in_job(self, job_id: str, run_id: str) -> ScheduledRun | None:
        run = await self.get(run_id)
        return run if run is not None and run.job_id == job_id else None


class DueJobs:
    """The scheduler's view: every owner's jobs that are due, and the claim that makes a
    due time fire in one process only."""

    def __init__(self, db: AsyncSession) -> None:
        self.db = db

    async def due(self, now: datetime, *, limit: int = 100) -> Sequence[ScheduledJob]:
        query = (
            select(ScheduledJob)
            .where(ScheduledJob.enabled.is_(True), ScheduledJob.next_run_at <= now)
            .order_by(ScheduledJob.next_run_at)
            .limit(limit)
        )
        return (await self.db.execute(query)).scalars().all()

    async def next_due(self) -> datetime | None:
        query = select(ScheduledJob.next_run_at).where(
            ScheduledJob.enabled.is_(True), ScheduledJob.next_run_at.is_not(None)
        )
        found = (await self.db.execute(query.order_by(ScheduledJob.next_run_at).limit(1))).first()
        return found[0] if found else None

    async def claim(self, job_id: str, due: datetime, following: datetime) -> bool:
        """Move the job's next run from ``due`` to ``following``: true for the one
        process whose update found ``due`` still there."""
        result = await self.db.execute(
            update(ScheduledJob)
            .where(ScheduledJob.id == job_id, ScheduledJob.next_run_at == due)
            .values(next_run_at=following)
            .execution_options(synchronize_session=False)
        )
        return bool(result.rowcount)  # type: ignore[attr-defined]
