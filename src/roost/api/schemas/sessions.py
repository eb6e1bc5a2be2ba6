"""What clients send and receive about sessions and their messages."""

from datetime import UTC, datetime
from typing import Annotated, Any, Literal

from pydantic import BaseModel, Field, StrictBool, StrictInt, WithJsonSchema, computed_field

from roost.api.schemas.common import (
    Body,
    ClientModel,
    DateTimeIn,
    ListOut,
    Metadata,
    Name,
    NotNull,
    Path,
    ShortName,
    Timestamp,
    Title,
    Whole,
    either,
)
from roost.domain.task_status import TaskStatus
from roost.services.tasks import TaskView
from roost.store.models import Message, Session

MAX_IMPORTED_MESSAGES = 10_000
# A change to a true-or-false column: left out means unchanged, null is refused (422).
Flag = Annotated[StrictBool | None, NotNull, WithJsonSchema({"type": "boolean"})]

Agent = ShortName
Model = Name
Folder = Name
ProjectId = ShortName


class SessionCreate(ClientModel):
    title: Title | None = either("title", "name")
    agent: Agent | None = either("agent", "model_role")
    model: Model | None = None
    working_directory: Path | None = None
    folder: Folder | None = None
    project_id: ProjectId | None = None
    pinned: StrictBool | None = None
    archived: StrictBool | None = None
    metadata: Metadata | None = None


class SessionUpdate(ClientModel):
    """Only the keys sent are changed; ``null`` clears a field, except ``pinned`` and
    ``archived``, which are true or false."""

    title: Title | None = either("title", "name")
    custom_title: Title | None = None
    agent: Agent | None = either("agent", "model_role")
    model: Model | None = None
    folder: Folder | None = None
    project_id: ProjectId | None = Field(
        None,
        description="Binds the session to a project (its folder becomes the working "
        "directory); null unbinds it.",
    )
    pinned: Flag = None
    archived: Flag = None
    metadata: Metadata | None = Field(
        None,
        description="Merged into the stored metadata; a key set to null is removed, "
        "and null removes them all.",
    )
    approved_tools: list[ShortName] | None = Field(
        None,
        max_length=200,
        description="Tools whose calls run without asking in this session; [] asks again.",
    )


class ImportedMessageIn(ClientModel):
    role: Literal["user", "assistant", "system", "tool"]
    content: Body
    created_at: DateTimeIn | None = None
    timestamp: Annotated[StrictInt, Field(ge=0, le=253_402_300_799_999), Whole] | None = Field(
        None, description="Floyd's epoch milliseconds."
    )

    def moment(self) -> datetime | None:
        if self.created_at is not None:
            aware = self.created_at
            return aware if aware.tzinfo else aware.replace(tzinfo=UTC)
        if self.timestamp is not None:
            return datetime.fromtimestamp(self.timestamp / 1000, UTC)
        return None


class SessionReplace(SessionUpdate):
    """Floyd's import: the fields of PATCH, and the whole message list when given."""

    messages: list[ImportedMessageIn] | None = Field(None, max_length=MAX_IMPORTED_MESSAGES)


class GetOrCreateIn(ClientModel):
    working_directory: Path = either(
        "working_directory", "workspace_path", "project_path", "path", required=True, min_length=1
    )
    title: Title | None = either("title", "name")
    agent: Agent | None = either("agent", "model_role")
    model: Model | None = None
    folder: Folder | None = None
    metadata: Metadata | None = None


class FloydRenameIn(ClientModel):
    custom_title: Title | None = either("custom_title", "title", "name")


class PinIn(ClientModel):
    pinned: StrictBool


class FloydFolderIn(ClientModel):
    folder: Folder | None


class ArchiveIn(ClientModel):
    archived: StrictBool


class UsageOut(BaseModel):
    input_tokens: int
    output_tokens: int
    total_tokens: int


class SessionOut(BaseModel):
    id: str
    title: str | None
    custom_title: str | None
    display_title: str
    agent: str | None
    model: str | None
    project_id: str | None
    working_directory: str | None
    folder: str | None
    pinned: bool
    archived: bool
    status: str
    message_count: int
    task_count: int
    parent_id: str | None
    delegated_by: str | None = Field(
        description="For a delegated session: the turn that delegated to it, or `api`."
    )
    usage: UsageOut
    metadata: dict[str, Any]
    approved_tools: list[str] = Field(
        description="Tools the user allowed for the rest of the session (no approval asked)."
    )
    created_at: Timestamp
    updated_at: Timestamp
    last_activity_at: Timestamp

    @classmethod
    def of(cls, session: Session) -> "SessionOut":
        return cls(
            id=session.id,
            title=session.title,
            custom_title=session.custom_title,
            display_title=session.custom_title or session.title or "New Chat",
            agent=session.agent,
            model=session.model,
            project_id=session.project_id,
            working_directory=session.working_directory,
            folder=session.folder,
            pinned=session.pinned,
            archived=session.archived,
            status=session.status,
            message_count=session.message_count,
            task_count=session.task_count,
            parent_id=session.parent_id,
            delegated_by=session.delegated_by,
            usage=UsageOut(
                input_tokens=session.input_tokens,
                output_tokens=session.output_tokens,
                total_tokens=session.input_tokens + session.output_tokens,
            ),
            metadata=session.meta or {},
            approved_tools=list(session.approved_tools or []),
            created_at=session.created_at,
            updated_at=session.updated_at,
            last_activity_at=session.last_activity_at,
        )


class MessageOut(BaseModel):
    id: str
    session_id: str
    turn_id: str | None
    role: str
    content: str
    parts: list[dict[str, Any]]
    status: str
    usage: dict[str, Any] | None
    created_at: Timestamp

    @classmethod
    def of(cls, message: Message) -> "MessageOut":
        return cls(
            id=message.id,
            session_id=message.session_id,
            turn_id=message.turn_id,
            role=message.role,
            content=message.content,
            parts=message.parts or [],
            status=message.status,
            usage=message.usage,
            created_at=message.created_at,
        )


class SessionTaskOut(BaseModel):
    """A task of the session, as its detail lists it (Mini-Devin); ``GET
    /api/tasks/{task_id}`` has the rest."""

    id: str
    name: str
    description: str
    status: TaskStatus
    iterations: int
    created_at: Timestamp
    completed_at: Timestamp | None

    @classmethod
    def of(cls, shown: TaskView) -> "SessionTaskOut":
        return cls(
            id=shown.task.id,
            name=shown.task.name,
            description=shown.task.description,
            status=shown.status,
            iterations=shown.iterations,
            created_at=shown.task.created_at,
            completed_at=shown.completed_at,
        )


class SessionDetailOut(SessionOut):
    """A session with its newest page of messages, oldest first, and its newest tasks."""

    messages: list[MessageOut]
    tasks: list[SessionTaskOut] = Field(description="The newest 50 of the session's tasks.")
    has_more: bool = Field(description="Whether older messages remain.")
    next_cursor: str | None = Field(description="`before` cursor for the older messages.")


class FloydSessionOut(BaseModel):
    success: bool = True
    session: SessionOut


class SessionGroupOut(BaseModel):
    key: str
    label: str
    sessions: list[SessionOut]


class GroupedSessionsOut(BaseModel):
    groups: list[SessionGroupOut]
    has_more: bool
    next_cursor: str | None


class FoldersOut(ListOut[str]):
    @computed_field  # type: ignore[prop-decorator]
    @property
    def folders(self) -> list[str]:
        """Floyd's key for the same list."""
        return self.data


SessionListOut = ListOut[SessionOut]
MessageListOut = ListOut[MessageOut]


class CompactIn(ClientModel):
    keep_last: Annotated[StrictInt, Field(ge=0, le=1000), Whole] = Field(
        6, description="Newest messages kept as they are."
    )


class CompactOut(BaseModel):
    compacted: bool
    summarised_messages: int
    summary: MessageOut | None


class ForkIn(ClientModel):
    message_id: str | None = Field(None, max_length=64, description="Copy up to this message.")
    title: Title | None = None
