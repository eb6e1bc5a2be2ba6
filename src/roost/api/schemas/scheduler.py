"""Scheduled jobs and their runs: what a client sends and what it is shown."""

from typing import Annotated, Any, Literal

from pydantic import BaseModel, Field, StrictBool, StrictInt, StringConstraints

from roost.api.schemas.common import ClientModel, ListOut, NoNul, ShortName, Timestamp, Whole
from roost.api.schemas.turns import NotBlank
from roost.store.models import ScheduledJob, ScheduledRun

JobName = Annotated[
    str,
    StringConstraints(strict=True, min_length=1, max_length=100, pattern=r"^[A-Za-z0-9_.-]+$"),
]
Cron = Annotated[str, StringConstraints(strict=True, min_length=1, max_length=200), NoNul]
Zone = Annotated[str, StringConstraints(strict=True, min_length=1, max_length=64), NoNul]
Interval = Annotated[StrictInt, Field(ge=1, le=366 * 24 * 3600), Whole]
Missed = Literal["skip", "run_once"]


class JobIn(ClientModel):
    name: JobName = Field(description="Unique among your jobs; letters, digits, `_`, `.`, `-`.")
    schedule: Cron | None = Field(
        None, description="A cron expression (5 fields, or 6 with seconds), in `timezone`."
    )
    interval_seconds: Interval | None = Field(None, description="Or: every this many seconds.")
    timezone: Zone = Field("UTC", description="The IANA time zone the cron is read in.")
    prompt: NotBlank = Field(description="What the agent is asked at each run.")
    agent: ShortName | None = None
    session_id: ShortName | None = Field(
        None, description="Runs answer in this session; else each run gets a new one."
    )
    project_id: ShortName | None = Field(None, description="New sessions' project.")
    enabled: StrictBool = True
    missed: Missed = Field("skip", description="Runs missed while no server ran.")


class JobChange(ClientModel):
    """PATCH: the fields sent change; a new schedule or interval replaces the other."""

    name: JobName | None = None
    schedule: Cron | None = None
    interval_seconds: Interval | None = None
    timezone: Zone | None = None
    prompt: NotBlank | None = None
    agent: ShortName | None = None
    session_id: ShortName | None = None
    project_id: ShortName | None = None
    enabled: StrictBool | None = None
    missed: Missed | None = None

    def changes(self) -> dict[str, Any]:
        return self.model_dump(exclude_unset=True, exclude_none=True)


class JobOut(BaseModel):
    id: str
    name: str
    schedule: str | None
    interval_seconds: int | None
    timezone: str
    prompt: str
    agent: str | None
    session_id: str | None
    project_id: str | None
    enabled: bool
    missed: str
    next_run_at: Timestamp | None
    last_run_at: Timestamp | None
    last_status: str | None
    created_at: Timestamp
    updated_at: Timestamp

    @classmethod
    def of(cls, job: ScheduledJob) -> "JobOut":
        return cls(
            id=job.id,
            name=job.name,
            schedule=job.schedule,
            interval_seconds=job.interval_seconds,
            timezone=job.timezone,
            prompt=job.prompt,
            agent=job.agent,
            session_id=job.session_id,
            project_id=job.project_id,
            enabled=job.enabled,
            missed=job.missed,
            next_run_at=job.next_run_at,
            last_run_at=job.last_run_at,
            last_status=job.last_status,
            created_at=job.created_at,
            updated_at=job.updated_at,
        )


class JobListOut(ListOut[JobOut]):
    pass


class RunOut(BaseModel):
    id: str
    job_id: str
    scheduled_for: Timestamp
    status: str = Field(description="running, completed, failed, cancelled, interrupted, skipped")
    session_id: str | None
    turn_id: str | None
    error: dict[str, Any] | None
    started_at: Timestamp
    finished_at: Timestamp | None

    @classmethod
    def of(cls, run: ScheduledRun) -> "RunOut":
        return cls(
            id=run.id,
            job_id=run.job_id,
            scheduled_for=run.scheduled_for,
            status=run.status,
            session_id=run.session_id,
            turn_id=run.turn_id,
            error=run.error,
            started_at=run.started_at,
            finished_at=run.finished_at,
        )


class RunListOut(ListOut[RunOut]):
    pass


class OverviewJob(BaseModel):
    name: str
    schedule: str | None
    interval_seconds: int | None
    timezone: str
    enabled: bool
    next_run_at: Timestamp | None
    last_run_at: Timestamp | None
    last_status: str | None

    @classmethod
    def of(cls, job: ScheduledJob) -> "OverviewJob":
        return cls(
            name=job.name,
            schedule=job.schedule,
            interval_seconds=job.interval_seconds,
            timezone=job.timezone,
            enabled=job.enabled,
            next_run_at=job.next_run_at,
            last_run_at=job.last_run_at,
            last_status=job.last_status,
        )


class OverviewOut(BaseModel):
    jobs: list[OverviewJob]
    scheduler: bool = Field(description="Whether this server runs the scheduler.")
