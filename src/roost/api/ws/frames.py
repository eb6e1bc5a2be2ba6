"""What a client may send on the WebSocket: the frame envelope and each request's body,
checked like an HTTP body (a failure is a ``VALIDATION_ERROR`` error frame)."""

from typing import Annotated, Any, TypeVar

import orjson
from pydantic import BaseModel, Field, StrictInt, StringConstraints, ValidationError

from roost.api.schemas.common import ClientModel, Name, NoNul, ShortName, Title, Whole
from roost.api.schemas.turns import InputAnswerIn, MessageCreate
from roost.errors import InvalidRequest, ValidationFailed

M = TypeVar("M", bound=BaseModel)
SessionId = Annotated[str, StringConstraints(strict=True, min_length=1, max_length=64), NoNul]
RequestId = Annotated[str, StringConstraints(max_length=100), NoNul]


class Envelope(BaseModel):
    channel: Annotated[str, StringConstraints(strict=True, max_length=32)]
    type: Annotated[str, StringConstraints(strict=True, max_length=32)]
    id: RequestId | StrictInt | None = None


class SessionFrame(ClientModel):
    session_id: SessionId


class Subscribe(SessionFrame):
    turn_id: Annotated[str, StringConstraints(max_length=64)] | None = None
    after: Annotated[StrictInt, Field(ge=0, le=2**31 - 1), Whole] = 0


class Prompt(MessageCreate):
    session_id: SessionId


class Input(InputAnswerIn):
    session_id: SessionId
    turn_id: Annotated[str, StringConstraints(strict=True, max_length=64)]


class SetModel(SessionFrame):
    model: Name = Field(min_length=1)


class Compact(SessionFrame):
    keep_last: Annotated[StrictInt, Field(ge=0, le=1000), Whole] = 4


class Fork(SessionFrame):
    message_id: ShortName | None = None
    title: Title | None = None


class TerminalOpen(ClientModel):
    project_id: ShortName
    cols: Annotated[StrictInt, Field(ge=1, le=1000), Whole] = 80
    rows: Annotated[StrictInt, Field(ge=1, le=1000), Whole] = 24


class TerminalFrame(ClientModel):
    terminal_id: Annotated[str, StringConstraints(strict=True, max_length=64)]


class TerminalInput(TerminalFrame):
    data: Annotated[str, StringConstraints(strict=True, max_length=64 * 1024)]


class TerminalResize(TerminalFrame):
    cols: Annotated[StrictInt, Field(ge=1, le=1000), Whole]
    rows: Annotated[StrictInt, Field(ge=1, le=1000), Whole]


class Watch(ClientModel):
    project_id: ShortName


def envelope(raw: bytes) -> dict[str, Any]:
    """The frame as a dict with a ``channel`` and a ``type``; else an error to send."""
    try:
        frame = orjson.loads(raw)
    except orjson.JSONDecodeError:
        raise InvalidRequest("A frame must be a JSON object") from None
    if not isinstance(frame, dict):
        raise InvalidRequest("A frame must be a JSON object")
    checked(Envelope, frame)
    return frame


def checked(model: type[M], frame: dict[str, Any]) -> M:
    try:
        return model.model_validate(frame)
    except ValidationError as error:
        fields = [
            {
                "field": ".".join(str(part) for part in problem["loc"]) or "frame",
                "in": "frame",
                "reason": problem["msg"],
            }
            for problem in error.errors()
        ]
        raise ValidationFailed("The frame does not match its schema", fields) from None
