"""Runs (single logged prompts) and evaluations: test sets, their cases, the evaluation
runs that check an agent against them, and each case's result."""

from datetime import datetime
from typing import Any

from sqlalchemy import Boolean, Float, ForeignKey, Index, Integer, String, Text
from sqlalchemy.orm import Mapped, mapped_column

from roost.clock import utcnow
from roost.store.models.base import Base, Json, UtcDateTime


class Run(Base):
    """One prompt answered by an agent, logged (CoAgent's runs): what was asked, with
    which agent version and model, the answer, its usage and latency. Its turn runs in
    a session of its own (``kind`` "run"), which session lists leave out."""

    __tablename__ = "runs"
    __table_args__ = (
        Index("uq_runs_owner_run_id", "owner_id", "run_id", unique=True),
        Index("ix_runs_owner_id_id", "owner_id", "id"),
    )

    id: Mapped[str] = mapped_column(String(40), primary_key=True)
    owner_id: Mapped[str] = mapped_column(ForeignKey("users.id", ondelete="CASCADE"))
    run_id: Mapped[str] = mapped_column(String(200))  # the client's, else the id
    agent_id: Mapped[str | None] = mapped_column(String(40))
    agent: Mapped[str | None] = mapped_column(String(100))
    agent_version: Mapped[int | None] = mapped_column(Integer)
    model: Mapped[str | None] = mapped_column(String(200))
    preamble: Mapped[str] = mapped_column(Text, default="")
    temperature: Mapped[float | None] = mapped_column(Float)
    prompt: Mapped[str] = mapped_column(Text)
    log_meta: Mapped[dict[str, Any]] = mapped_column(Json, default=dict)
    # running, then how its turn ended: completed, failed, cancelled, interrupted
    status: Mapped[str] = mapped_column(String(20), default="running")
    response: Mapped[str | None] = mapped_column(Text)
    error: Mapped[dict[str, Any] | None] = mapped_column(Json)
    tool_calls: Mapped[list[dict[str, Any]]] = mapped_column(Json, default=list)
    prompt_tokens: Mapped[int] = mapped_column(Integer, default=0)
    completion_tokens: Mapped[int] = mapped_column(Integer, default=0)
    latency_ms: Mapped[int | None] = mapped_column(Integer)
    session_id: Mapped[str | None] = mapped_column(ForeignKey("sessions.id", ondelete="SET NULL"))
    turn_id: Mapped[str | None] = mapped_column(ForeignKey("turns.id", ondelete="SET NULL"))
    created_at: Mapped[datetime] = mapped_column(UtcDateTime, default=utcnow)
    finished_at: Mapped[datetime | None] = mapped_column(UtcDateTime)


class TestSet(Base):
    """Cases an agent is checked against (CoAgent's test sets)."""

    __test__ = False  # not a pytest class, whatever its name
    __tablename__ = "testsets"
    __table_args__ = (Index("uq_testsets_owner_name", "owner_id", "name", unique=True),)

    id: Mapped[str] = mapped_column(String(40), primary_key=True)
    owner_id: Mapped[str] = mapped_column(ForeignKey("users.id", ondelete="CASCADE"))
    name: Mapped[str] = mapped_column(String(200))
    description: Mapped[str] = mapped_column(Text, default="")
    case_count: Mapped[int] = mapped_column(Integer, default=0)
    created_at: Mapped[datetime] = mapped_column(UtcDateTime, default=utcnow)
    updated_at: Mapped[datetime] = mapped_column(UtcDateTime, default=utcnow)


class TestCase(Base):
    """One input, what is expected of the answer, and the assertions that check it.
    ``id`` is the client's when it gave one (unique in its set)."""

    __test__ = False
    __tablename__ = "testset_cases"
    __table_args__ = (Index("ix_testset_cases_testset_id_position", "testset_id", "position"),)

    testset_id: Mapped[str] = mapped_column(
        ForeignKey("testsets.id", ondelete="CASCADE"), primary_key=True
    )
    id: Mapped[str] = mapped_column(String(100), primary_key=True)
    position: Mapped[int] = mapped_column(Integer)
    input: Mapped[str] = mapped_column(Text)
    expected: Mapped[str | None] = mapped_column(Text)
    assertions: Mapped[list[dict[str, Any]]] = mapped_column(Json, default=list)
    created_at: Mapped[datetime] = mapped_column(UtcDateTime, default=utcnow)
    updated_at: Mapped[datetime] = mapped_column(UtcDateTime, default=utcnow)


class EvalRun(Base):
    """A test set run against configurations: every case x configuration x repeat.

    ``configurations`` holds each configuration as it was resolved when the run began
    (its agent's version, preamble and model), ``cases`` the cases as they were then,
    so later edits change neither what ran nor its report."""

    __tablename__ = "eval_runs"
    __table_args__ = (
        Index("ix_eval_runs_owner_id_id", "owner_id", "id"),
        Index("ix_eval_runs_testset_id_id", "testset_id", "id"),
    )

    id: Mapped[str] = mapped_column(String(40), primary_key=True)
    owner_id: Mapped[str] = mapped_column(ForeignKey("users.id", ondelete="CASCADE"))
    testset_id: Mapped[str] = mapped_column(ForeignKey("testsets.id", ondelete="CASCADE"))
    # queued, running, completed, cancelled, interrupted, failed
    status: Mapped[str] = mapped_column(String(20), default="queued")
    configurations: Mapped[list[dict[str, Any]]] = mapped_column(Json)
    cases: Mapped[list[dict[str, Any]]] = mapped_column(Json)
    concurrency: Mapped[int] = mapped_column(Integer, default=4)
    repeats: Mapped[int] = mapped_column(Integer, default=1)
    total: Mapped[int] = mapped_column(Integer)
    done: Mapped[int] = mapped_column(Integer, default=0)
    summary: Mapped[list[dict[str, Any]] | None] = mapped_column(Json)
    error: Mapped[dict[str, Any] | None] = mapped_column(Json)
    cancel_requested: Mapped[bool] = mapped_column(Boolean, default=False)
    created_at: Mapped[datetime] = mapped_column(UtcDateTime, default=utcnow)
    started_at: Mapped[datetime | None] = mapped_column(UtcDateTime)
    finished_at: Mapped[datetime | None] = mapped_column(UtcDateTime)


class EvalResult(Base):
    """One case x configuration x repeat of an evaluation run: the answer, each
    assertion's verdict, latency, tokens and cost. ``seq`` numbers the results in the
    order they finished: the evaluation's event stream resumes from it."""

    __tablename__ = "eval_results"
    __table_args__ = (
        Index("uq_eval_results_eval_run_id_seq", "eval_run_id", "seq", unique=True),
        Index(
            "uq_eval_results_unit",
            "eval_run_id",
            "case_id",
            "configuration",
            "repeat",
            unique=True,
        ),
    )

    id: Mapped[str] = mapped_column(String(40), primary_key=True)
    eval_run_id: Mapped[str] = mapped_column(ForeignKey("eval_runs.id", ondelete="CASCADE"))
    seq: Mapped[int] = mapped_column(Integer)
    case_id: Mapped[str] = mapped_column(String(100))
    configuration: Mapped[str] = mapped_column(String(100))
    repeat: Mapped[int] = mapped_column(Integer, default=1)
    run_id: Mapped[str | None] = mapped_column(String(40))
    agent_version: Mapped[int | None] = mapped_column(Integer)  # the version the run ran
    status: Mapped[str] = mapped_column(String(20))  # passed, failed, error
    output: Mapped[str] = mapped_column(Text, default="")
    verdicts: Mapped[list[dict[str, Any]]] = mapped_column(Json, default=list)
    latency_ms: Mapped[int | None] = mapped_column(Integer)
    prompt_tokens: Mapped[int] = mapped_column(Integer, default=0)
    completion_tokens: Mapped[int] = mapped_column(Integer, default=0)
    cost_usd: Mapped[float | None] = mapped_column(Float)
    error: Mapped[dict[str, Any] | None] = mapped_column(Json)
    created_at: Mapped[datetime] = mapped_column(UtcDateTime, default=utcnow)
