"""Tasks: background work with a plan, and the files it produced."""

from datetime import datetime
from typing import Any

from sqlalchemy import ForeignKey, Index, Integer, LargeBinary, String, Text
from sqlalchemy.orm import Mapped, mapped_column

from roost.clock import utcnow
from roost.store.models.base import Base, Json, UtcDateTime


class Task(Base):
    """Background work with a plan: a turn in its session, started on the task's behalf.

    While its turn runs, the task's state is the turn's; when the turn ends, the task
    keeps how it ended (``status``, ``result``, ``completed_at``) in the same
    transaction. ``baseline`` is what its project held when it started (a git tree or
    a snapshot's folder), the ground its ``diff.patch`` is taken against.
    """

    __tablename__ = "tasks"
    __table_args__ = (
        Index("ix_tasks_owner_id_id", "owner_id", "id"),
        Index("ix_tasks_session_id_id", "session_id", "id"),
    )

    id: Mapped[str] = mapped_column(String(40), primary_key=True)
    owner_id: Mapped[str] = mapped_column(ForeignKey("users.id", ondelete="CASCADE"))
    session_id: Mapped[str] = mapped_column(ForeignKey("sessions.id", ondelete="CASCADE"))
    project_id: Mapped[str | None] = mapped_column(String(40))
    name: Mapped[str] = mapped_column(String(200), default="")
    description: Mapped[str] = mapped_column(Text)
    agent: Mapped[str | None] = mapped_column(String(100))
    model: Mapped[str | None] = mapped_column(String(200))
    run_mode: Mapped[str | None] = mapped_column(String(50))
    max_iterations: Mapped[int | None] = mapped_column(Integer)
    # pending (never started), active (its turn says more), completed, failed, stopped
    status: Mapped[str] = mapped_column(String(20), default="pending")
    turn_id: Mapped[str | None] = mapped_column(ForeignKey("turns.id", ondelete="SET NULL"))
    plan: Mapped[dict[str, Any] | None] = mapped_column(Json)
    result: Mapped[dict[str, Any] | None] = mapped_column(Json)
    iterations: Mapped[int] = mapped_column(Integer, default=0)
    baseline: Mapped[dict[str, Any] | None] = mapped_column(Json)
    created_at: Mapped[datetime] = mapped_column(UtcDateTime, default=utcnow)
    started_at: Mapped[datetime | None] = mapped_column(UtcDateTime)
    completed_at: Mapped[datetime | None] = mapped_column(UtcDateTime)


class TaskArtifact(Base):
    """A file a task produced, kept as it was when it was made: its plan, the diff of
    its project, its log, or a file the agent marked as an output."""

    __tablename__ = "task_artifacts"
    __table_args__ = (Index("uq_task_artifacts_task_id_name", "task_id", "name", unique=True),)

    id: Mapped[str] = mapped_column(String(40), primary_key=True)
    task_id: Mapped[str] = mapped_column(ForeignKey("tasks.id", ondelete="CASCADE"))
    name: Mapped[str] = mapped_column(String(255))
    type: Mapped[str] = mapped_column(String(20))  # plan, diff, log, file
    media_type: Mapped[str] = mapped_column(String(200))
    content: Mapped[bytes] = mapped_column(LargeBinary)
    size: Mapped[int] = mapped_column(Integer)
    created_at: Mapped[datetime] = mapped_column(UtcDateTime, default=utcnow)
