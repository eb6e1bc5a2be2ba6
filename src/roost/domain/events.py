"""The turn's events (API.md §8): what is logged, published and streamed.

An emitter builds one payload model per event (``TextDelta(content=...)``), so an
event with a missing or misspelt field cannot be written; the log's writer adds the
envelope (``seq``, ``turn_id``, ``session_id``, ``ts``) and keeps the payload as the
plain dict it stores and sends. The same models, with the envelope, are the stream's
schema: in the OpenAPI document, in docs/api.md's table and in the tests' SSE reader.
"""

from dataclasses import dataclass
from datetime import datetime
from functools import reduce
from operator import or_
from typing import Annotated, Any, Literal

import orjson
from pydantic import BaseModel, ConfigDict, Field, TypeAdapter, create_model

from roost.clock import isoformat


@dataclass(frozen=True, slots=True)
class Event:
    """An event of a turn's log, as stored and published: the payload as a dict, so the
    token path costs one dict and one orjson call per reader."""

    turn_id: str
    session_id: str
    seq: int
    type: str
    ts: datetime
    data: dict[str, Any]

    @classmethod
    def of(
        cls, turn_id: str, session_id: str, seq: int, payload: "Payload", ts: datetime
    ) -> "Event":
        """The event that logs ``payload`` at ``seq``."""
        return cls(turn_id, session_id, seq, payload.type, ts, payload.body())

    def as_dict(self) -> dict[str, Any]:
        return {
            "type": self.type,
            "seq": self.seq,
            "turn_id": self.turn_id,
            "session_id": self.session_id,
            "ts": isoformat(self.ts),
            **self.data,
        }

    def to_json(self) -> bytes:
        return orjson.dumps(self.as_dict())


_KINDS: dict[str, type["Payload"]] = {}


class Payload(BaseModel):
    """What an event says, without its envelope. Fields are sent in the order they are
    declared; an optional field left out by its emitter is left out of the event."""

    model_config = ConfigDict(extra="forbid")
    type: str

    @classmethod
    def __pydantic_init_subclass__(cls, **kwargs: Any) -> None:
        super().__pydantic_init_subclass__(**kwargs)
        kind = cls.model_fields.get("type")
        if kind is not None and isinstance(kind.default, str):
            _KINDS[kind.default] = cls

    def body(self) -> dict[str, Any]:
        """The payload as it is stored and sent."""
        return self.model_dump(exclude_unset=True, exclude={"type"})


class TurnStart(Payload):
    type: Literal["turn_start"] = "turn_start"
    message_id: str | None
    model: str | None
    agent: str | None
    kind: str


class TextDelta(Payload):
    type: Literal["text"] = "text"
    content: str


class ThinkingDelta(Payload):
    type: Literal["thinking"] = "thinking"
    content: str


class ToolCallStarted(Payload):
    type: Literal["tool_call"] = "tool_call"
    call_id: str
    tool: str
    args: dict[str, Any]


class ToolResult(Payload):
    type: Literal["tool_result"] = "tool_result"
    call_id: str
    tool: str
    result: Any
    success: bool
    error: str | None = None
    duration_ms: int


class Image(Payload):
    type: Literal["image"] = "image"
    data: str | None = None
    url: str | None = None
    format: str


class PlanStep(BaseModel):
    model_config = ConfigDict(extra="forbid")
    id: str
    description: str
    status: Literal["pending", "in_progress", "completed", "skipped"]


class Plan(BaseModel):
    model_config = ConfigDict(extra="forbid")
    steps: list[PlanStep]


class PlanUpdate(Payload):
    type: Literal["plan_update"] = "plan_update"
    plan: Plan


class InputRequired(Payload):
    type: Literal["input_required"] = "input_required"
    request_id: str
    kind: Literal["question", "tool_approval"]
    prompt: str
    tool: str | None = None
    args: dict[str, Any] | None = None
    call_id: str | None = None
    options: list[str] | None = None


class Status(Payload):
    type: Literal["status"] = "status"
    status: Literal["compacting", "skill", "memory", "resumed", "delegated", "delegate_done"]
    message: str


class Title(Payload):
    type: Literal["title"] = "title"
    title: str


class Usage(Payload):
    type: Literal["usage"] = "usage"
    input_tokens: int
    output_tokens: int
    total_tokens: int


class Heartbeat(Payload):
    type: Literal["heartbeat"] = "heartbeat"


class Error(Payload):
    type: Literal["error"] = "error"
    code: str
    message: str
    details: dict[str, Any] | None = None


class Done(Payload):
    type: Literal["done"] = "done"
    status: Literal["completed", "cancelled", "failed", "interrupted"]
    message_id: str | None
    usage: dict[str, int]
    iterations: int


def _type_required(schema: dict[str, Any]) -> None:
    """``type`` has a default for emitters, but every event on the wire carries it."""
    schema["required"] = ["type", *schema.get("required", [])]


class Envelope(BaseModel):
    """What every event carries besides its payload."""

    model_config = ConfigDict(json_schema_extra=_type_required)

    seq: int = Field(description="From 1 in each turn, without gaps; the SSE id")
    turn_id: str
    session_id: str
    ts: str = Field(description="When the event was logged, ISO 8601 in UTC")


def _on_the_wire(kind: str, payload: type[Payload]) -> type[BaseModel]:
    """The event as a client reads it: its payload and the envelope (``tool_call`` is
    ``ToolCallEvent`` in the OpenAPI document)."""
    name = "".join(word.title() for word in kind.split("_")) + "Event"
    return create_model(name, __base__=(payload, Envelope), __module__=__name__)


# Keyed by the event's type, in the order of docs/api.md's table.
STREAMED: dict[str, type[BaseModel]] = {
    kind: _on_the_wire(kind, payload) for kind, payload in _KINDS.items()
}
TurnEvent: Any = Annotated[reduce(or_, STREAMED.values()), Field(discriminator="type")]
turn_event: TypeAdapter[Any] = TypeAdapter(TurnEvent)
