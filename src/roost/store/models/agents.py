"""Agents: named, versioned configurations that turns, runs and evaluations use."""

from datetime import datetime
from typing import Any

from sqlalchemy import Boolean, Float, ForeignKey, Index, Integer, String, Text, text
from sqlalchemy.orm import Mapped, mapped_column

from roost.clock import utcnow
from roost.store.models.base import Base, Json, UtcDateTime


class Agent(Base):
    """An agent's current definition: its preamble, model, tools and skills.

    A user's own (``owner_id``), or the server's, which every user may use (``owner_id``
    NULL): the agents of roost.toml are seeded as the server's, ``config_digest``
    remembering which definition of the file was last applied. Every change is a new
    :class:`AgentVersion`; turns, runs and evaluation results name the version they used.
    """

    __tablename__ = "agents"
    __table_args__ = (
        Index("uq_agents_owner_name", "owner_id", "name", unique=True),
        # NULLs are distinct in a unique index: the server's names need one of their own.
        Index(
            "uq_agents_shared_name",
            "name",
            unique=True,
            sqlite_where=text("owner_id IS NULL"),
            postgresql_where=text("owner_id IS NULL"),
        ),
    )

    id: Mapped[str] = mapped_column(String(40), primary_key=True)
    owner_id: Mapped[str | None] = mapped_column(ForeignKey("users.id", ondelete="CASCADE"))
    name: Mapped[str] = mapped_column(String(100))
    description: Mapped[str] = mapped_column(Text, default="")
    preamble: Mapped[str] = mapped_column(Text, default="")
    model: Mapped[str | None] = mapped_column(String(200))  # "provider/model"
    tools: Mapped[list[str] | None] = mapped_column(Json)  # None: every tool
    skills: Mapped[list[str]] = mapped_column(Json, default=list)
    max_iterations: Mapped[int | None] = mapped_column(Integer)
    requires_approval: Mapped[bool] = mapped_column(Boolean, default=False)
    temperature: Mapped[float | None] = mapped_column(Float)
    recall_memories: Mapped[bool] = mapped_column(Boolean, default=True, server_default="1")
    version: Mapped[int] = mapped_column(Integer, default=1)
    config_digest: Mapped[str | None] = mapped_column(String(64))
    created_at: Mapped[datetime] = mapped_column(UtcDateTime, default=utcnow)
    updated_at: Mapped[datetime] = mapped_column(UtcDateTime, default=utcnow)


class AgentVersion(Base):
    """One version of an agent, as it was: never changed once written."""

    __tablename__ = "agent_versions"

    agent_id: Mapped[str] = mapped_column(
        ForeignKey("agents.id", ondelete="CASCADE"), primary_key=True
    )
    version: Mapped[int] = mapped_column(Integer, primary_key=True)
    definition: Mapped[dict[str, Any]] = mapped_column(Json)
    created_at: Mapped[datetime] = mapped_column(UtcDateTime, default=utcnow)
