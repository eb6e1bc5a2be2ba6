"""Roost's tables. Every user-owned row leads back to a user through ``owner_id``.

This module holds users, sessions, turns and their messages, and the settings around
them; the tables of one larger concept each have a module here (tasks, the scheduler,
agents, evaluations, memories), all named again below so that ``roost.store.models``
is the one place to import a table from.

Designed ahead for what comes next: turns and their event log already have the
columns the turn runner and the scale-out workers need (attempt, cancel_requested).
"""

from datetime import datetime
from typing import Any

from sqlalchemy import Boolean, ForeignKey, Index, Integer, LargeBinary, String, Text, text
from sqlalchemy.orm import Mapped, mapped_column, synonym, validates

from roost.clock import utcnow
from roost.domain.turn_status import TurnStatus, transition

# Named again here (``as``): the migrations spell them ``roost.store.models.…``.
from roost.store.models.base import NAMING as NAMING
from roost.store.models.base import Base as Base
from roost.store.models.base import Json as Json
from roost.store.models.base import TurnStatusColumn as TurnStatusColumn
from roost.store.models.base import UtcDateTime as UtcDateTime


class User(Base):
    __tablename__ = "users"

    id: Mapped[str] = mapped_column(String(40), primary_key=True)
    email: Mapped[str | None] = mapped_column(String(320), unique=True)
    name: Mapped[str] = mapped_column(String(200), default="")
    password_hash: Mapped[str | None] = mapped_column(String(200))
    is_admin: Mapped[bool] = mapped_column(Boolean, default=False)
    is_active: Mapped[bool] = mapped_column(Boolean, default=True)
    # Bumped to revoke every access token at once (password change, deactivation).
    token_version: Mapped[int] = mapped_column(Integer, default=1, server_default="1")
    last_login_at: Mapped[datetime | None] = mapped_column(UtcDateTime)
    created_at: Mapped[datetime] = mapped_column(UtcDateTime, default=utcnow)
    updated_at: Mapped[datetime] = mapped_column(UtcDateTime, default=utcnow)


class Session(Base):
    __tablename__ = "sessions"
    __table_args__ = (
        Index("ix_sessions_owner_listing", "owner_id", "pinned", "updated_at", "id"),
        Index("ix_sessions_owner_recent", "owner_id", "last_activity_at", "id"),
        Index("ix_sessions_owner_folder", "owner_id", "folder"),
        Index("ix_sessions_owner_workdir", "owner_id", "working_directory"),
        Index("uq_sessions_owner_workspace_key", "owner_id", "workspace_key", unique=True),
        Index("ix_sessions_parent_id", "parent_id"),
        Index("ix_sessions_owner_delegated", "owner_id", "delegated_by", "id"),
    )

    id: Mapped[str] = mapped_column(String(40), primary_key=True)
    owner_id: Mapped[str] = mapped_column(ForeignKey("users.id", ondelete="CASCADE"))
    title: Mapped[str | None] = mapped_column(String(500))
    custom_title: Mapped[str | None] = mapped_column(String(500))
    agent: Mapped[str | None] = mapped_column(String(100))
    model: Mapped[str | None] = mapped_column(String(200))
    project_id: Mapped[str | None] = mapped_column(String(40))
    working_directory: Mapped[str | None] = mapped_column(String(4096))
    # Set only on sessions made by get-or-create; unique per owner, so two racing
    # get-or-create calls for one workspace end with one session.
    workspace_key: Mapped[str | None] = mapped_column(String(4096))
    folder: Mapped[str | None] = mapped_column(String(200))
    pinned: Mapped[bool] = mapped_column(Boolean, default=False)
    archived: Mapped[bool] = mapped_column(Boolean, default=False)
    status: Mapped[str] = mapped_column(String(20), default="idle")
    message_count: Mapped[int] = mapped_column(Integer, default=0)
    task_count: Mapped[int] = mapped_column(Integer, default=0, server_default="0")
    input_tokens: Mapped[int] = mapped_column(Integer, default=0)
    output_tokens: Mapped[int] = mapped_column(Integer, default=0)
    parent_id: Mapped[str | None] = mapped_column(ForeignKey("sessions.id", ondelete="SET NULL"))
    # A delegated session: the turn that delegated to it, or "api" (/api/delegate/start).
    delegated_by: Mapped[str | None] = mapped_column(String(40))
    # "chat", or "run": the session of one logged run, which session lists leave out.
    kind: Mapped[str] = mapped_column(String(20), default="chat", server_default="chat")
    meta: Mapped[dict[str, Any]] = mapped_column("metadata", Json, default=dict)
    # Tools the user allowed for the rest of the session: their calls no longer wait.
    approved_tools: Mapped[list[str]] = mapped_column(
        Json, default=list, server_default=text("'[]'")
    )
    created_at: Mapped[datetime] = mapped_column(UtcDateTime, default=utcnow)
    updated_at: Mapped[datetime] = mapped_column(UtcDateTime, default=utcnow)
    last_activity_at: Mapped[datetime] = mapped_column(UtcDateTime, default=utcnow)


class Turn(Base):
    __tablename__ = "turns"
    __table_args__ = (Index("ix_turns_session_id_id", "session_id", "id"),)

    id: Mapped[str] = mapped_column(String(40), primary_key=True)
    session_id: Mapped[str] = mapped_column(ForeignKey("sessions.id", ondelete="CASCADE"))
    status: Mapped[TurnStatus] = mapped_column(TurnStatusColumn, default=TurnStatus.QUEUED)
    kind: Mapped[str] = mapped_column(String(20), default="message")
    attempt: Mapped[int] = mapped_column(Integer, default=1)
    cancel_requested: Mapped[bool] = mapped_column(Boolean, default=False)
    agent: Mapped[str | None] = mapped_column(String(100))
    # The agent's version the turn runs (see roost.store.models.agents).
    agent_id: Mapped[str | None] = mapped_column(String(40))
    agent_version: Mapped[int | None] = mapped_column(Integer)
    model: Mapped[str | None] = mapped_column(String(200))
    user_message_id: Mapped[str | None] = mapped_column(String(40))
    # How the turn was asked to run: generate_title, tools on or off, …
    options: Mapped[dict[str, Any]] = mapped_column(Json, default=dict)
    iterations: Mapped[int] = mapped_column(Integer, default=0)
    usage: Mapped[dict[str, Any] | None] = mapped_column(Json)
    error: Mapped[dict[str, Any] | None] = mapped_column(Json)
    last_seq: Mapped[int] = mapped_column(Integer, default=0)
    created_at: Mapped[datetime] = mapped_column(UtcDateTime, default=utcnow)
    started_at: Mapped[datetime | None] = mapped_column(UtcDateTime)
    finished_at: Mapped[datetime | None] = mapped_column(UtcDateTime)

    @validates("status")
    def _move(self, _key: str, to: str) -> TurnStatus:
        """Every status set on a turn row is a move the table allows."""
        return transition(self.status, to)


class Message(Base):
    __tablename__ = "messages"
    __table_args__ = (
        Index("ix_messages_session_id_id", "session_id", "id"),
        Index("ix_messages_turn_id", "turn_id"),
    )

    id: Mapped[str] = mapped_column(String(40), primary_key=True)
    session_id: Mapped[str] = mapped_column(ForeignKey("sessions.id", ondelete="CASCADE"))
    turn_id: Mapped[str | None] = mapped_column(ForeignKey("turns.id", ondelete="SET NULL"))
    role: Mapped[str] = mapped_column(String(20))
    content: Mapped[str] = mapped_column(Text, default="")
    parts: Mapped[list[dict[str, Any]]] = mapped_column(Json, default=list)
    status: Mapped[str] = mapped_column(String(20), default="completed")
    usage: Mapped[dict[str, Any] | None] = mapped_column(Json)
    created_at: Mapped[datetime] = mapped_column(UtcDateTime, default=utcnow)


class TurnEvent(Base):
    __tablename__ = "turn_events"

    turn_id: Mapped[str] = mapped_column(
        ForeignKey("turns.id", ondelete="CASCADE"), primary_key=True
    )
    seq: Mapped[int] = mapped_column(Integer, primary_key=True)
    type: Mapped[str] = mapped_column(String(30))
    data: Mapped[dict[str, Any]] = mapped_column(Json)
    ts: Mapped[datetime] = mapped_column(UtcDateTime, default=utcnow)


class UserSettings(Base):
    """A user's own defaults (Floyd's settings): model, instructions, and a provider key."""

    __tablename__ = "user_settings"

    owner_id: Mapped[str] = mapped_column(
        ForeignKey("users.id", ondelete="CASCADE"), primary_key=True
    )
    provider: Mapped[str | None] = mapped_column(String(100))
    model: Mapped[str | None] = mapped_column(String(200))
    system_prompt: Mapped[str | None] = mapped_column(Text)
    max_tokens: Mapped[int | None] = mapped_column(Integer)
    base_url: Mapped[str | None] = mapped_column(String(2048))
    api_key_sealed: Mapped[str | None] = mapped_column(Text)
    updated_at: Mapped[datetime] = mapped_column(UtcDateTime, default=utcnow)


class LoginSession(Base):
    """One login on one device: its access tokens name it, its refresh tokens chain in it.
    Logging out (or a refresh token used twice) revokes it, and every token with it."""

    __tablename__ = "login_sessions"

    id: Mapped[str] = mapped_column(String(40), primary_key=True)
    user_id: Mapped[str] = mapped_column(ForeignKey("users.id", ondelete="CASCADE"), index=True)
    # The name every owned row's owner goes by (roost.store.owned); the column keeps its name.
    owner_id: Mapped[str] = synonym("user_id")
    user_agent: Mapped[str] = mapped_column(String(300), default="")
    revoked_at: Mapped[datetime | None] = mapped_column(UtcDateTime)
    created_at: Mapped[datetime] = mapped_column(UtcDateTime, default=utcnow)


class RefreshToken(Base):
    """One link of a rotating chain: using it once replaces it; using it twice revokes
    its whole login session (someone copied it)."""

    __tablename__ = "refresh_tokens"

    id: Mapped[str] = mapped_column(String(40), primary_key=True)
    login_id: Mapped[str] = mapped_column(
        ForeignKey("login_sessions.id", ondelete="CASCADE"), index=True
    )
    token_hash: Mapped[str] = mapped_column(String(64), unique=True)
    expires_at: Mapped[datetime] = mapped_column(UtcDateTime)
    used_at: Mapped[datetime | None] = mapped_column(UtcDateTime)
    created_at: Mapped[datetime] = mapped_column(UtcDateTime, default=utcnow)


class ApiKey(Base):
    __tablename__ = "api_keys"

    id: Mapped[str] = mapped_column(String(40), primary_key=True)
    user_id: Mapped[str] = mapped_column(ForeignKey("users.id", ondelete="CASCADE"), index=True)
    # The name every owned row's owner goes by (roost.store.owned); the column keeps its name.
    owner_id: Mapped[str] = synonym("user_id")
    name: Mapped[str] = mapped_column(String(200))
    prefix: Mapped[str] = mapped_column(String(16))
    key_hash: Mapped[str] = mapped_column(String(64), unique=True)
    scopes: Mapped[list[str]] = mapped_column(Json, default=list)
    expires_at: Mapped[datetime | None] = mapped_column(UtcDateTime)
    last_used_at: Mapped[datetime | None] = mapped_column(UtcDateTime)
    revoked_at: Mapped[datetime | None] = mapped_column(UtcDateTime)
    created_at: Mapped[datetime] = mapped_column(UtcDateTime, default=utcnow)


class InviteCode(Base):
    __tablename__ = "invite_codes"

    id: Mapped[str] = mapped_column(String(40), primary_key=True)
    code: Mapped[str] = mapped_column(String(64), unique=True)
    note: Mapped[str] = mapped_column(String(500), default="")
    max_uses: Mapped[int] = mapped_column(Integer, default=1)
    uses: Mapped[int] = mapped_column(Integer, default=0)
    expires_at: Mapped[datetime | None] = mapped_column(UtcDateTime)
    revoked_at: Mapped[datetime | None] = mapped_column(UtcDateTime)
    created_by: Mapped[str | None] = mapped_column(ForeignKey("users.id", ondelete="SET NULL"))
    created_at: Mapped[datetime] = mapped_column(UtcDateTime, default=utcnow)


class Skill(Base):
    """Instructions a user can switch on for every turn, or that a trigger word brings in.

    Built-in skills are copied into each user's list on first use (``builtin_key``), so
    users can change or delete their copy like any other.
    """

    __tablename__ = "skills"
    __table_args__ = (
        Index("uq_skills_owner_builtin", "owner_id", "builtin_key", unique=True),
        Index("ix_skills_owner_name", "owner_id", "name"),
    )

    id: Mapped[str] = mapped_column(String(40), primary_key=True)
    owner_id: Mapped[str] = mapped_column(ForeignKey("users.id", ondelete="CASCADE"))
    builtin_key: Mapped[str | None] = mapped_column(String(100))
    name: Mapped[str] = mapped_column(String(200))
    description: Mapped[str] = mapped_column(Text, default="")
    instructions: Mapped[str] = mapped_column(Text, default="")
    triggers: Mapped[list[str]] = mapped_column(Json, default=list)
    enabled: Mapped[bool] = mapped_column(Boolean, default=True)
    is_active: Mapped[bool] = mapped_column(Boolean, default=False)
    category: Mapped[str] = mapped_column(String(100), default="custom")
    icon: Mapped[str] = mapped_column(String(32), default="")
    created_at: Mapped[datetime] = mapped_column(UtcDateTime, default=utcnow)
    updated_at: Mapped[datetime] = mapped_column(UtcDateTime, default=utcnow)


class ProjectLocation(Base):
    """A root that project folders must live under: the sandbox boundary, set by admins."""

    __tablename__ = "project_locations"

    id: Mapped[str] = mapped_column(String(40), primary_key=True)
    name: Mapped[str] = mapped_column(String(200))
    path: Mapped[str] = mapped_column(String(4096), unique=True)
    is_active: Mapped[bool] = mapped_column(Boolean, default=False)
    created_at: Mapped[datetime] = mapped_column(UtcDateTime, default=utcnow)
    updated_at: Mapped[datetime] = mapped_column(UtcDateTime, default=utcnow)


class Project(Base):
    """A folder under a location where a session's tools work, with what joins its context.

    ``files`` holds file references and named snippets; ``meta`` is the workspace's
    free-form metadata; ``sandbox`` the restrictions its owner added.
    """

    __tablename__ = "projects"
    __table_args__ = (
        Index("uq_projects_owner_path", "owner_id", "path", unique=True),
        Index("ix_projects_owner_updated", "owner_id", "updated_at"),
    )

    id: Mapped[str] = mapped_column(String(40), primary_key=True)
    owner_id: Mapped[str] = mapped_column(ForeignKey("users.id", ondelete="CASCADE"))
    location_id: Mapped[str | None] = mapped_column(
        ForeignKey("project_locations.id", ondelete="SET NULL")
    )
    name: Mapped[str] = mapped_column(String(200))
    description: Mapped[str] = mapped_column(Text, default="")
    path: Mapped[str] = mapped_column(String(4096))
    files: Mapped[list[dict[str, Any]]] = mapped_column(Json, default=list)
    meta: Mapped[dict[str, Any]] = mapped_column(Json, default=dict)
    sandbox: Mapped[dict[str, Any]] = mapped_column(Json, default=dict)
    is_active: Mapped[bool] = mapped_column(Boolean, default=False)
    created_at: Mapped[datetime] = mapped_column(UtcDateTime, default=utcnow)
    updated_at: Mapped[datetime] = mapped_column(UtcDateTime, default=utcnow)


class McpServer(Base):
    """An MCP server whose tools agents may call: a stdio command or a streamable HTTP URL.

    Its environment and headers hold secrets, so they are stored encrypted.
    """

    __tablename__ = "mcp_servers"

    id: Mapped[str] = mapped_column(String(40), primary_key=True)
    name: Mapped[str] = mapped_column(String(100), unique=True)
    transport: Mapped[str] = mapped_column(String(20))
    command: Mapped[str | None] = mapped_column(String(4096))
    args: Mapped[list[str]] = mapped_column(Json, default=list)
    env_encrypted: Mapped[str | None] = mapped_column(Text)
    url: Mapped[str | None] = mapped_column(String(4096))
    headers_encrypted: Mapped[str | None] = mapped_column(Text)
    enabled: Mapped[bool] = mapped_column(Boolean, default=True)
    requires_approval: Mapped[bool] = mapped_column(Boolean, default=False)
    created_by: Mapped[str | None] = mapped_column(ForeignKey("users.id", ondelete="SET NULL"))
    created_at: Mapped[datetime] = mapped_column(UtcDateTime, default=utcnow)
    updated_at: Mapped[datetime] = mapped_column(UtcDateTime, default=utcnow)


class TurnInput(Base):
    """A question or a tool approval a turn waits on; kept so the wait survives a restart."""

    __tablename__ = "turn_inputs"
    __table_args__ = (Index("ix_turn_inputs_turn_id_status", "turn_id", "status"),)

    id: Mapped[str] = mapped_column(String(40), primary_key=True)
    turn_id: Mapped[str] = mapped_column(ForeignKey("turns.id", ondelete="CASCADE"))
    session_id: Mapped[str] = mapped_column(ForeignKey("sessions.id", ondelete="CASCADE"))
    call_id: Mapped[str] = mapped_column(String(200))
    kind: Mapped[str] = mapped_column(String(20))
    prompt: Mapped[str] = mapped_column(Text, default="")
    tool: Mapped[str | None] = mapped_column(String(200))
    args: Mapped[dict[str, Any]] = mapped_column(Json, default=dict)
    status: Mapped[str] = mapped_column(String(20), default="pending")
    response: Mapped[dict[str, Any] | None] = mapped_column(Json)
    created_at: Mapped[datetime] = mapped_column(UtcDateTime, default=utcnow)
    answered_at: Mapped[datetime | None] = mapped_column(UtcDateTime)


class IdempotencyKey(Base):
    """What a POST sent with an ``Idempotency-Key`` answered, so that a retry gets the
    same answer instead of doing the work again. Kept for a day."""

    __tablename__ = "idempotency_keys"
    __table_args__ = (Index("ix_idempotency_keys_created_at", "created_at"),)

    owner_id: Mapped[str] = mapped_column(
        ForeignKey("users.id", ondelete="CASCADE"), primary_key=True
    )
    key: Mapped[str] = mapped_column(String(255), primary_key=True)
    # The credential that asked ("user:<id>" for the user's logins, "key:<id>" for one
    # API key) and whether it acted as an admin: only the same may be answered again.
    principal: Mapped[str] = mapped_column(String(80))
    as_admin: Mapped[bool] = mapped_column(Boolean)
    method: Mapped[str] = mapped_column(String(10))
    path: Mapped[str] = mapped_column(String(2048))
    body_hash: Mapped[str] = mapped_column(String(64))
    # running, done, or withheld: done, but its answer held a secret and is not kept.
    state: Mapped[str] = mapped_column(String(20), default="running")
    status_code: Mapped[int | None] = mapped_column(Integer)
    content_type: Mapped[str | None] = mapped_column(String(200))
    body: Mapped[bytes | None] = mapped_column(LargeBinary)
    # A streamed answer is replayed from its turn's event log, not from stored bytes.
    turn: Mapped[dict[str, Any] | None] = mapped_column(Json)
    created_at: Mapped[datetime] = mapped_column(UtcDateTime, default=utcnow)


# The tables of the larger concepts, after Base and the tables they refer to.
from roost.store.models.agents import Agent as Agent  # noqa: E402
from roost.store.models.agents import AgentVersion as AgentVersion  # noqa: E402
from roost.store.models.evals import EvalResult as EvalResult  # noqa: E402
from roost.store.models.evals import EvalRun as EvalRun  # noqa: E402
from roost.store.models.evals import Run as Run  # noqa: E402
from roost.store.models.evals import TestCase as TestCase  # noqa: E402
from roost.store.models.evals import TestSet as TestSet  # noqa: E402
from roost.store.models.memories import Memory as Memory  # noqa: E402
from roost.store.models.scheduler import ScheduledJob as ScheduledJob  # noqa: E402
from roost.store.models.scheduler import ScheduledRun as ScheduledRun  # noqa: E402
from roost.store.models.tasks import Task as Task  # noqa: E402
from roost.store.models.tasks import TaskArtifact as TaskArtifact  # noqa: E402
