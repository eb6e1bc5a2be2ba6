"""What clients send to start turns, and what they get back."""

from typing import Any, Literal

from pydantic import BaseModel, Field, StrictBool

from roost.api.schemas import Body, ClientModel, Name, ShortName, Timestamp, either
from roost.api.session_schemas import MessageOut
from roost.services.turns import TurnRequest
from roost.store.models import Turn

MAX_ATTACHMENTS = 10


class Attachment(ClientModel):
    """An image for the model: base64 ``data`` with its ``media_type``, or a ``url``."""

    type: Literal["image"] = "image"
    data: str | None = Field(None, max_length=20_000_000)
    media_type: Literal["image/png", "image/jpeg", "image/gif", "image/webp"] | None = None
    url: str | None = Field(None, max_length=4096, pattern=r"^https?://")

    def part(self) -> dict[str, Any]:
        return self.model_dump(exclude_none=True)


class TurnOptions(ClientModel):
    agent: ShortName | None = either("agent", "model_role")
    model: Name | None = None
    stream: StrictBool | None = None
    generate_title: StrictBool = False
    on_busy: Literal["reject", "enqueue", "interrupt", "rollback"] = "reject"
    enable_tools: StrictBool = True

    def request(
        self, content: str | None = None, attachments: list[Attachment] | None = None
    ) -> TurnRequest:
        return TurnRequest(
            content=content,
            attachments=[a.part() for a in attachments or []],
            agent=self.agent,
            model=self.model,
            generate_title=self.generate_title,
            on_busy=self.on_busy,
            tools=self.enable_tools,
        )


class MessageCreate(TurnOptions):
    content: Body = either("content", "message")
    attachments: list[Attachment] = Field(default_factory=list, max_length=MAX_ATTACHMENTS)


class MessageEdit(TurnOptions):
    content: Body
    regenerate: StrictBool = False


class TurnUsage(BaseModel):
    input_tokens: int = 0
    output_tokens: int = 0
    total_tokens: int = 0


class TurnOut(BaseModel):
    id: str
    session_id: str
    kind: str
    status: str
    agent: str | None
    model: str | None
    user_message_id: str | None
    iterations: int
    usage: TurnUsage
    error: dict[str, Any] | None
    cancel_requested: bool
    last_seq: int
    created_at: Timestamp
    started_at: Timestamp | None
    finished_at: Timestamp | None

    @classmethod
    def of(cls, turn: Turn) -> "TurnOut":
        return cls(
            id=turn.id,
            session_id=turn.session_id,
            kind=turn.kind,
            status=turn.status,
            agent=turn.agent,
            model=turn.model,
            user_message_id=turn.user_message_id,
            iterations=turn.iterations,
            usage=TurnUsage(**(turn.usage or {})),
            error=turn.error,
            cancel_requested=turn.cancel_requested,
            last_seq=turn.last_seq,
            created_at=turn.created_at,
            started_at=turn.started_at,
            finished_at=turn.finished_at,
        )


class TurnAccepted(BaseModel):
    turn: TurnOut


class TurnResult(BaseModel):
    """A finished turn: the user's message, the answer, and the turn itself."""

    message: MessageOut | None
    reply: MessageOut | None
    turn: TurnOut


class CancelledOut(BaseModel):
    cancelled: list[TurnOut]


class EditOut(BaseModel):
    message: MessageOut
    turn: TurnOut | None = None
