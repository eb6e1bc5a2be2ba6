"""What clients send to start turns, and what they get back."""

from typing import Annotated, Any, Literal, Self

from pydantic import (
    BaseModel,
    ConfigDict,
    Field,
    StrictBool,
    StringConstraints,
    model_validator,
)

from roost.api.schemas.common import (
    SPACE,
    Body,
    ClientModel,
    Name,
    NoNul,
    ShortName,
    Timestamp,
    Title,
    WebUrl,
    either,
)
from roost.api.schemas.sessions import MessageOut
from roost.domain.turn_status import TurnStatus
from roost.services.turns import TurnRequest
from roost.store.models import Turn, TurnInput

MAX_ATTACHMENTS = 10


# Standard base64 with its padding: what every provider decodes.
BASE64 = r"^(?:[A-Za-z0-9+/]{4})*(?:[A-Za-z0-9+/]{2}==|[A-Za-z0-9+/]{3}=)?$"
# Text with something in it besides white space (and, as all text, no NUL).
NOT_BLANK = rf"^[^\x00]*[^{SPACE}\x00][^\x00]*$"
NotBlank = Annotated[
    str, StringConstraints(strict=True, max_length=1_000_000, pattern=NOT_BLANK), NoNul
]


class Attachment(ClientModel):
    """An image for the model: base64 ``data`` with its ``media_type``, or a ``url``.

    Exactly one of the two: the message is stored and sent again with every later turn,
    so what no provider can read is refused here rather than failing each of them."""

    # Exactly one source, in the document too: data (not null) or url (not null).
    model_config = ConfigDict(
        json_schema_extra={
            "oneOf": [
                {"required": ["data"], "properties": {"data": {"type": "string"}}},
                {"required": ["url"], "properties": {"url": {"type": "string"}}},
            ]
        }
    )

    type: Literal["image"] = "image"
    data: str | None = Field(None, min_length=1, max_length=20_000_000, pattern=BASE64)
    media_type: Literal["image/png", "image/jpeg", "image/gif", "image/webp"] | None = None
    url: WebUrl | None = None

    @model_validator(mode="after")
    def _one_source(self) -> Self:
        if (self.data is None) == (self.url is None):
            raise ValueError("an image needs either data (base64) or url, and not both")
        return self

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
    content: NotBlank
    regenerate: StrictBool = False


class TurnUsage(BaseModel):
    input_tokens: int = 0
    output_tokens: int = 0
    total_tokens: int = 0


class TurnOut(BaseModel):
    id: str
    session_id: str
    kind: str
    status: TurnStatus
    agent: str | None
    agent_version: int | None = Field(description="The version of the agent the turn ran.")
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
            agent_version=turn.agent_version,
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


class InputOut(BaseModel):
    """A question or a tool approval a turn waits on (or waited on)."""

    id: str
    request_id: str = Field(description="The same as id: the name input_required events use.")
    turn_id: str
    session_id: str
    call_id: str
    kind: str = Field(description="question or tool_approval")
    prompt: str
    tool: str | None
    args: dict[str, Any]
    status: str = Field(description="pending, answered, or closed (the turn ended first)")
    response: dict[str, Any] | None
    created_at: Timestamp
    answered_at: Timestamp | None

    @classmethod
    def of(cls, row: TurnInput) -> "InputOut":
        return cls(
            id=row.id,
            request_id=row.id,
            turn_id=row.turn_id,
            session_id=row.session_id,
            call_id=row.call_id,
            kind=row.kind,
            prompt=row.prompt,
            tool=row.tool,
            args=row.args or {},
            status=row.status,
            response=row.response,
            created_at=row.created_at,
            answered_at=row.answered_at,
        )


class InputAnswerIn(ClientModel):
    """Exactly one of approve, deny or answer."""

    request_id: ShortName
    approve: StrictBool = False
    deny: StrictBool = False
    answer: Body | None = None
    reason: Title | None = Field(None, description="Why a call was declined; the model sees it.")
    remember: StrictBool = Field(
        False,
        description="With approve: the tool runs without asking for the rest of the session.",
    )


class InputAnswerOut(BaseModel):
    request: InputOut
    turn: TurnOut
    resumed: bool = Field(description="True when nothing else was pending: the turn goes on.")
    pending: list[InputOut]


class TurnResult(BaseModel):
    """A finished turn: the user's message, the answer, and the turn itself; or, for a
    turn that now waits on the user, what it asks in ``input_required``."""

    message: MessageOut | None
    reply: MessageOut | None
    turn: TurnOut
    input_required: list[InputOut] = Field(default_factory=list)


class CancelledOut(BaseModel):
    cancelled: list[TurnOut]


class EditOut(BaseModel):
    message: MessageOut
    turn: TurnOut | None = None
