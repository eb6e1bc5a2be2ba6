"""What the client returns, typed after the schemas of the served OpenAPI document.

Each model declares the fields its schema requires (``Session`` is ``SessionOut``,
``Turn`` is ``TurnOut``, …) and keeps any other field the server sends: a newer server
adds fields without breaking an older client. Status and kind values are plain strings
for the same reason.
"""

from datetime import datetime
from typing import Any, Generic, TypeVar

from pydantic import BaseModel, ConfigDict, Field

T = TypeVar("T")


class RoostModel(BaseModel):
    """A response model: unknown fields are kept (``model_extra``), never refused."""

    model_config = ConfigDict(extra="allow")


class Page(RoostModel, Generic[T]):
    """One page of a list; pass ``next_cursor`` back to get the next one."""

    data: list[T]
    has_more: bool
    next_cursor: str | None


class Usage(RoostModel):
    input_tokens: int
    output_tokens: int
    total_tokens: int


class Session(RoostModel):
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
    delegated_by: str | None
    usage: Usage
    metadata: dict[str, Any]
    approved_tools: list[str]
    created_at: datetime
    updated_at: datetime
    last_activity_at: datetime


class Message(RoostModel):
    id: str
    session_id: str
    turn_id: str | None
    role: str
    content: str
    parts: list[dict[str, Any]]
    status: str
    usage: dict[str, Any] | None
    created_at: datetime


class SessionDetail(Session):
    """A session with its newest messages (oldest first) and newest tasks."""

    messages: list[Message]
    tasks: list[dict[str, Any]]
    has_more: bool
    next_cursor: str | None


class Turn(RoostModel):
    id: str
    session_id: str
    kind: str
    status: str = Field(description="queued, running, waiting, completed, cancelled, …")
    agent: str | None
    agent_version: int | None
    model: str | None
    user_message_id: str | None
    iterations: int
    usage: Usage
    error: dict[str, Any] | None
    cancel_requested: bool
    last_seq: int
    created_at: datetime
    started_at: datetime | None
    finished_at: datetime | None

    @property
    def finished(self) -> bool:
        return self.status in ("completed", "cancelled", "failed", "interrupted")


class InputRequest(RoostModel):
    """A question or tool approval a turn waits on (or waited on)."""

    id: str
    request_id: str
    turn_id: str
    session_id: str
    call_id: str
    kind: str = Field(description="question or tool_approval")
    prompt: str
    tool: str | None
    args: dict[str, Any]
    status: str = Field(description="pending, answered or closed")
    response: dict[str, Any] | None
    created_at: datetime
    answered_at: datetime | None


class InputAnswer(RoostModel):
    """The answer to ``turns.answer``: ``resumed`` once nothing else is pending."""

    request: InputRequest
    turn: Turn
    resumed: bool
    pending: list[InputRequest]


class TurnResult(RoostModel):
    """A finished turn with the user's message and the reply; or a turn that waits on
    the user (``turn.status == "waiting"``), with what it asks in ``input_required``."""

    message: Message | None
    reply: Message | None
    turn: Turn
    input_required: list[InputRequest] = Field(default_factory=list)

    @property
    def text(self) -> str:
        """The reply's text ("" while the turn waits, or when it failed)."""
        return self.reply.content if self.reply else ""


class ModelRef(RoostModel):
    provider_id: str
    model_name: str


class Agent(RoostModel):
    id: str
    name: str
    description: str
    preamble: str
    model_ref: ModelRef | None
    model: str | None
    tools: list[str] | None
    skills: list[str]
    max_iterations: int | None
    requires_approval: bool
    temperature: float | None
    recall_memories: bool
    version: int
    shared: bool
    created_at: datetime
    updated_at: datetime


class Model(RoostModel):
    id: str
    name: str
    provider: str
    context_window: int | None
    supports_vision: bool
    supports_function_calling: bool


class Health(RoostModel):
    status: str
    version: str
    api_version: int
    min_client_version: str
    authenticated: bool
    provider: str | None
    model: str | None
    has_api_key: bool
    database: dict[str, Any]
    redis: dict[str, Any] | None


class Event(RoostModel):
    """One event of a turn's log. ``seq`` counts from 1 in each turn without gaps; what
    the event says besides its envelope (``content`` of a ``text`` event, ``status`` of
    ``done``) is in ``payload``."""

    model_config = ConfigDict(extra="allow", frozen=True)

    type: str
    seq: int
    turn_id: str
    session_id: str
    ts: datetime

    @property
    def payload(self) -> dict[str, Any]:
        return dict(self.model_extra or {})

    @property
    def text(self) -> str:
        """The piece of the answer a ``text`` event carries; "" for any other event."""
        content = (self.model_extra or {}).get("content") if self.type == "text" else None
        return content if isinstance(content, str) else ""
