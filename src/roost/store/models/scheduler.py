"""The scheduler's jobs and their runs."""

from datetime import datetime
from typing import Any

from sqlalchemy import Boolean, ForeignKey, Index, Integer, String, Text
from sqlalchemy.orm import Mapped, mapped_column

from roost.clock import utcnow
from roost.store.models.base import Base, Json, UtcDateTime


class ScheduledJob(Base):
    """A prompt an agent answers on a schedule (Oqto's sldr): a cron expression in a time
    zone, or an interval. ``next_run_at`` is the next due time; moving it on is how one
    process, of several, claims a run."""

    __tablename__ = "scheduled_jobs"
    __table_args__ = (
        Index("uq_scheduled_jobs_owner_name", "owner_id", "name", unique=True),
        Index("ix_scheduled_jobs_enabled_next_run_at", "enabled", "next_run_at"),
    )

    id: Mapped[str] = mapped_column(String(40), primary_key=True)
    owner_id: Mapped[str] = mapped_column(ForeignKey("users.id", ondelete="CASCADE"))
    name: Mapped[str] = mapped_column(String(100))
    schedule: Mapped[str | None] = mapped_column(String(200))  # cron
    interval_seconds: Mapped[int | None] = mapped_column(Integer)
    timezone: Mapped[str] = mapped_column(String(64), default="UTC")
    agent: Mapped[str | None] = mapped_column(String(100))
    prompt: Mapped[str] = mapped_column(Text)
    # Runs answer in this session; without one, each run gets a new session.
    session_id: Mapped[str | None] = mapped_column(ForeignKey("sessions.id", ondelete="SET NULL"))
    project_id: Mapped[str | None] = mapped_column(String(40))
    enabled: Mapped[bool] = mapped_column(Boolean, default=True)
    missed: Mapped[str] = mapped_column(String(20), default="skip")  # skip | run_once
    next_run_at: Mapped[datetime | None] = mapped_column(UtcDateTime)
    last_run_at: Mapped[datetime | None] = mapped_column(UtcDateTime)
    last_status: Mapped[str | None] = mapped_column(String(20))
    created_at: Mapped[datetime] = mapped_column(UtcDateTime, default=utcnow)
    updated_at: Mapped[datetime] = mapped_column(UtcDateTime, default=utcnow)


class ScheduledRun(Base):
    """One run of a job: when it was due, its session and turn, and how it ended
    (``running``, then the turn's end: ``completed``, ``failed``, …; ``skipped`` for a
    time missed while no process ran)."""

    __tablename__ = "scheduled_runs"
    __table_args__ = (Index("ix_scheduled_runs_job_id_id", "job_id", "id"),)

    id: Mapped[str] = mapped_column(String(40), primary_key=True)
    job_id: Mapped[str] = mapped_column(ForeignKey("scheduled_jobs.id", ondelete="CASCADE"))
    scheduled_for: Mapped[datetime] = mapped_column(UtcDateTime)
    status: Mapped[str] = mapped_column(String(20))
    session_id: Mapped[str | None] = mapped_column(ForeignKey("sessions.id", ondelete="SET NULL"))
    turn_id: Mapped[str | None] = mapped_column(ForeignKey("turns.id", ondelete="SET NULL"))
    error: Mapped[dict[str, Any] | None] = mapped_column(Json)
    started_at: Mapped[datetime] = mapped_column(UtcDateTime, default=utcnow)
    finished_at: Mapped[datetime | None] = mapped_column(UtcDateTime)
