"""Scheduled jobs (Oqto's sldr): a prompt an agent answers on a schedule, each run a
turn in a session of its own (or the job's session). CRUD, run now, history, overview;
the firing itself is :mod:`roost.services.scheduler.loop`'s."""

from dataclasses import dataclass
from datetime import datetime
from typing import Any

from roost import ids
from roost.clock import utcnow
from roost.errors import AlreadyExists, ApiError, ValidationFailed
from roost.services.caller import Caller
from roost.services.projects import ProjectService
from roost.services.scheduler import timing
from roost.services.sessions import SessionService
from roost.services.turns import TurnRequest, TurnService
from roost.store.db import Database, flush_unique
from roost.store.models import ScheduledJob, ScheduledRun
from roost.store.paging import Page
from roost.store.schedules import JobRepo, RunRepo
from roost.store.sessions import SessionRepo

FIELDS = (
    "name",
    "schedule",
    "interval_seconds",
    "timezone",
    "agent",
    "prompt",
    "session_id",
    "project_id",
    "enabled",
    "missed",
)
TIMING = frozenset({"schedule", "interval_seconds", "timezone", "enabled"})
MAX_JOBS = 500  # a user's jobs the overview lists


@dataclass(frozen=True)
class Fired:
    run: ScheduledRun
    job: ScheduledJob


class SchedulerService:
    def __init__(
        self,
        database: Database,
        turns: TurnService,
        sessions: SessionService,
        projects: ProjectService,
    ) -> None:
        self.database = database
        self.turns = turns
        self.sessions = sessions
        self.projects = projects

    async def create(self, caller: Caller, fields: dict[str, Any]) -> ScheduledJob:
        job = ScheduledJob(id=ids.new_id("job"), **{k: fields.get(k) for k in FIELDS})
        job.timezone = job.timezone or "UTC"
        job.enabled = True if job.enabled is None else job.enabled
        job.missed = job.missed or "skip"
        await self._checked(caller, job)
        taken = AlreadyExists(f"A job named {job.name} exists", details={"name": job.name})
        async with self.database.write() as db:
            repo = JobRepo(db, caller)
            if await _taken(repo, job.name):
                raise taken
            job.next_run_at = _next(job, utcnow()) if job.enabled else None
            repo.add(job)
            await flush_unique(db, taken)
        return job

    async def update(self, caller: Caller, name: str, changes: dict[str, Any]) -> ScheduledJob:
        async with self.database.write() as db:
            repo = JobRepo(db, caller)
            job = await repo.named(name, for_update=True)
            renamed = changes.get("name")
            if renamed is not None and renamed != name and await _taken(repo, renamed):
                raise AlreadyExists(f"A job named {renamed} exists", details={"name": renamed})
            for key, value in changes.items():
                if key in FIELDS:
                    setattr(job, key, value)
            if changes.get("interval_seconds") is not None:
                job.schedule = None
            elif changes.get("schedule") is not None:
                job.interval_seconds = None
            await self._checked(caller, job)
            if TIMING & set(changes):
                job.next_run_at = _next(job, utcnow()) if job.enabled else None
            job.updated_at = utcnow()
            await flush_unique(db, AlreadyExists(f"A job named {job.name} exists"))
        return job

    async def delete(self, caller: Caller, name: str) -> None:
        async with self.database.write() as db:
            repo = JobRepo(db, caller)
            await repo.remove(await repo.named(name))

    async def get(self, caller: Caller, name: str) -> ScheduledJob:
        async with self.database.read() as db:
            return await JobRepo(db, caller).named(name)

    async def page(
        self, caller: Caller, *, limit: int, after: str | None = None
    ) -> Page[ScheduledJob]:
        async with self.database.read() as db:
            jobs, more = await JobRepo(db, caller).listed(limit=limit, after=after)
        return Page(jobs, more, jobs[-1].name if more and jobs else None)

    async def overview(self, caller: Caller) -> list[ScheduledJob]:
        async with self.database.read() as db:
            jobs, _ = await JobRepo(db, caller).listed(limit=MAX_JOBS)
        return jobs

    async def runs(
        self, caller: Caller, name: str, *, limit: int, before: str | None = None
    ) -> Page[ScheduledRun]:
        async with self.database.read() as db:
            job = await JobRepo(db, caller).named(name)
            runs, more = await RunRepo(db).of_job(job.id, limit=limit, before=before)
        return Page(runs, more, runs[-1].id if more and runs else None)

    async def run_now(self, caller: Caller, name: str) -> ScheduledRun:
        """Run the job once now, besides its schedule."""
        job = await self.get(caller, name)
        return await self.fire(job, utcnow())

    async def fire(self, job: ScheduledJob, scheduled_for: datetime) -> ScheduledRun:
        """One run of ``job``: a turn answering its prompt, in its session or a new one.
        A run that cannot start is recorded failed, with why."""
        owner = Caller(job.owner_id)
        run = ScheduledRun(
            id=ids.new_id("jrun"),
            job_id=job.id,
            scheduled_for=scheduled_for,
            status="running",
            started_at=utcnow(),
        )
        try:
            session_id = job.session_id or await self._new_session(owner, job, scheduled_for)
            run.session_id = session_id
            async with self.database.write() as db:
                RunRepo(db).add(run)
            turn = await self.turns.send(
                owner,
                session_id,
                TurnRequest(
                    content=job.prompt,
                    agent=job.agent,
                    on_busy="enqueue",
                    owner={"kind": "schedule", "id": run.id},
                ),
            )
        except ApiError as error:
            await self._failed(job, run, error)
            return run
        async with self.database.write() as db:
            stored = await RunRepo(db).get(run.id)
            if stored is not None and stored.turn_id is None:
                stored.turn_id = turn.id
            found = await db.get(ScheduledJob, job.id)
            if found is not None:
                found.last_run_at = scheduled_for
                found.last_status = found.last_status if stored is None else stored.status
        return run

    async def _new_session(self, owner: Caller, job: ScheduledJob, at: datetime) -> str:
        fields: dict[str, Any] = {
            "title": f"{job.name} · {at:%Y-%m-%d %H:%M} UTC",
            "agent": job.agent,
            "project_id": job.project_id,
        }
        return (await self.sessions.create(owner, fields)).id

    async def _failed(self, job: ScheduledJob, run: ScheduledRun, error: ApiError) -> None:
        async with self.database.write() as db:
            stored = await RunRepo(db).get(run.id)
            if stored is None:
                stored = RunRepo(db).add(run)
            stored.status, stored.error, stored.finished_at = "failed", error.body(), utcnow()
            found = await db.get(ScheduledJob, job.id)
            if found is not None:
                found.last_run_at, found.last_status = run.scheduled_for, "failed"
        run.status, run.error = "failed", error.body()

    async def _checked(self, caller: Caller, job: ScheduledJob) -> None:
        try:
            timing.check(job.schedule, job.interval_seconds, job.timezone)
        except timing.BadSchedule as bad:
            raise ValidationFailed(
                "The schedule cannot be used",
                [{"field": bad.field, "in": "body", "reason": str(bad)}],
            ) from None
        if job.session_id is not None:
            async with self.database.read() as db:
                await SessionRepo(db, caller).get(job.session_id)
        if job.project_id is not None:
            await self.projects.owned(caller.user_id, job.project_id)
        await self.turns.agents.require(caller.user_id, job.agent)


async def _taken(repo: JobRepo, name: str) -> bool:
    try:
        await repo.named(name)
    except ApiError:
        return False
    return True


def _next(job: ScheduledJob, after: datetime) -> datetime:
    return timing.next_after(after, job.schedule, job.interval_seconds, job.timezone)
