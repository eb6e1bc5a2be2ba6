"""The turn's event vocabulary (API.md §8): one model per type, discriminated by ``type``.

At run time an :class:`Event` carries the type and its payload as a plain dict, so the
token path costs one dict and one orjson call per event; the Pydantic models below
are the schema that documentation, clients and tests check events against.
"""

from dataclasses import dataclass
from datetime import datetime
from typing import Annotated, Any, Literal

import orjson
from pydantic import BaseModel, ConfigDict, Field

from roost.clock import isoformat

TERMINAL_STATUSES = ("completed", "cancelled", "failed", "interrupted")
# Deltas are group-committed; every other event is committed before the runner goes on.
DELTA_TYPES = frozenset({"text", "thinking"})


@dataclass(frozen=True, slots=True)
class Event:
    turn_id: str
    session_id: str
    seq: int
    type: str
    ts: datetime
    data: dict[str, Any]

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


class _Base(BaseModel):
    model_config = ConfigDict(extra="forbid")

    seq: int
    turn_id: str
    session_id: str
    ts: str


class TurnStart(_Base):
    type: Literal["turn_start"]
    message_id: str | None
    model: str | None
    agent: str | None
    kind: str


class Text(_Base):
    type: Literal["text"]
    content: str


class Thinking(_Base):
    type: Literal["thinking"]
    content: str


class ToolCallEvent(_Base):
    type: Literal["tool_call"]
    call_id: str
    tool: str
    args: dict[str, Any]


class ToolResultEvent(_Base):
    type: Literal["tool_result"]
    call_id: str
    tool: str
    result: Any
    success: bool
    error: str | None = None
    duration_ms: int


class Image(_Base):
    type: Literal["image"]
    data: str | None = None
    url: str | None = None
    format: str


class PlanStep(BaseModel):
    id: str
    description: str
    status: str


class Plan(BaseModel):
    steps: list[PlanStep]


class PlanUpdate(_Base):
    type: Literal["plan_update"]
    plan: Plan


class InputRequired(_Base):
    type: Literal["input_required"]
    request_id: str
    kind: Literal["question", "tool_approval"]
    prompt: str
    tool: str | None = None
    args: dict[str, Any] | None = None
    call_id: str | None = None
    options: list[str] | None = None


class Status(_Base):
    type: Literal["status"]
    status: str
    message: str


class Title(_Base):
    type: Literal["title"]
    title: str


class Usage(_Base):
    type: Literal["usage"]
    input_tokens: int
    output_tokens: int
    total_tokens: int


class Heartbeat(_Base):
    type: Literal["heartbeat"]


class Error(_Base):
    type: Literal["error"]
    code: str
    message: str
    details: dict[str, Any] | None = None


class Done(_Base):
    type: Literal["done"]
    status: Literal["completed", "cancelled", "failed", "interrupted"]
    message_id: str | None
    usage: dict[str, int]
    iterations: int


StreamEvent = Annotated[
    TurnStart
    | Text
    | Thinking
    | ToolCallEvent
    | ToolResultEvent
    | Image
    | PlanUpdate
    | InputRequired
    | Status
    | Title
    | Usage
    | Heartbeat
    | Error
    | Done,
    Field(discriminator="type"),
]
