"""Memories: facts an agent or a user keeps for later, scoped to a session, a project
or the user. Their vectors are in ``memory_vectors`` (store/vectors.py)."""

from datetime import datetime

from sqlalchemy import Float, ForeignKey, Index, String, Text
from sqlalchemy.orm import Mapped, mapped_column

from roost.clock import utcnow
from roost.store.models.base import Base, Json, UtcDateTime


class Memory(Base):
    """One remembered fact. ``scope`` says whose it is: a session's (``session_id``), a
    project's (``project_id``) or the user's alone; every memory is its owner's."""

    __tablename__ = "memories"
    __table_args__ = (
        Index("ix_memories_owner_scope_id", "owner_id", "scope", "id"),
        Index("ix_memories_session_id_id", "session_id", "id"),
        Index("ix_memories_project_id_id", "project_id", "id"),
    )

    id: Mapped[str] = mapped_column(String(40), primary_key=True)
    owner_id: Mapped[str] = mapped_column(ForeignKey("users.id", ondelete="CASCADE"))
    scope: Mapped[str] = mapped_column(String(20))  # session, project, user
    session_id: Mapped[str | None] = mapped_column(ForeignKey("sessions.id", ondelete="CASCADE"))
    project_id: Mapped[str | None] = mapped_column(ForeignKey("projects.id", ondelete="CASCADE"))
    content: Mapped[str] = mapped_column(Text)
    tags: Mapped[list[str]] = mapped_column(Json, default=list)
    source: Mapped[str] = mapped_column(String(20), default="user")  # user, agent
    importance: Mapped[float] = mapped_column(Float, default=0.5)
    created_at: Mapped[datetime] = mapped_column(UtcDateTime, default=utcnow)
    updated_at: Mapped[datetime] = mapped_column(UtcDateTime, default=utcnow)
