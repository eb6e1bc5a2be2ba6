"""OpenAI's chat completions and models at ``/v1``: every agent is a model
(``roost/<agent>``), its tools run on the server, and any OpenAI client (the official SDK
included) talks to it unchanged. Each request is a turn of a session of its own (see
services/conversations.py), named in the ``X-Session-ID`` and ``X-Turn-ID`` headers."""

from collections.abc import AsyncGenerator, AsyncIterator, Sequence
from contextlib import aclosing
from dataclasses import dataclass, field
from typing import Any, Protocol

import orjson
from fastapi import APIRouter
from fastapi.responses import JSONResponse, Response, StreamingResponse
from pydantic import BaseModel

from roost import wiring
from roost.api.compat.openai_shapes import ChatCompletionCreate, agent_of, model_id
from roost.api.deps import Caller, Services
from roost.api.openapi import errors
from roost.api.sse import SESSION_HEADER, SSE_HEADERS, TURN_HEADER
from roost.domain.events import Event
from roost.errors import UpstreamError, restored
from roost.services.caller import Caller as CallerIdentity
from roost.store.models import Agent, Turn

router = APIRouter(prefix="/v1", tags=["openai"])

KEEP_ALIVE = b": keep-alive\n\n"  # an SSE comment: OpenAI's clients skip it


class OpenAIModel(BaseModel):
    id: str
    object: str = "model"
    created: int
    owned_by: str


class OpenAIModelList(BaseModel):
    object: str = "list"
    data: list[OpenAIModel]


@router.get("/models", response_model=OpenAIModelList)
async def list_models(caller: Caller, services: Services) -> OpenAIModelList:
    """The caller's agents and the server's (the first 200 by name), as models."""
    page = await services.agents.page(caller, limit=200, after=None)
    return OpenAIModelList(data=[_model_of(agent) for agent in page.items])


@router.get("/models/{model:path}", response_model=OpenAIModel, responses=errors(404))
async def get_model(caller: Caller, services: Services, model: str) -> OpenAIModel:
    return _model_of(await services.agents.get(caller, agent_of(model)))


def _model_of(agent: Agent) -> OpenAIModel:
    return OpenAIModel(
        id=model_id(agent.name),
        created=int(agent.created_at.timestamp()),
        owned_by="roost" if agent.owner_id is None else "you",
    )


@router.post(
    "/chat/completions",
    response_model=None,
    responses={
        200: {
            "description": "A chat.completion; or, with `stream: true`, chat.completion.chunk "
            "objects as Server-Sent Events ending with `data: [DONE]`.",
            "content": {"text/event-stream": {}},
        },
        **errors(400, 404, 409, 502, 503),
    },
)
async def create_chat_completion(
    caller: Caller, services: Services, body: ChatCompletionCreate
) -> Response:
    """Answer the conversation with the agent the model names; stream it or wait."""
    turn = await services.conversations.start(caller, body.conversation())
    events = services.turns.follow(turn.session_id, turn.id)
    completion = CompletionFold(turn)
    headers = {TURN_HEADER: turn.id, SESSION_HEADER: turn.session_id}
    if body.stream:
        usage = body.stream_options is not None and body.stream_options.include_usage
        chunks = _chunks(services, completion, events, include_usage=usage)
        return StreamingResponse(
            chunks, media_type="text/event-stream", headers=SSE_HEADERS | headers
        )
    await settle(completion, events)
    await raise_failure(services, caller, turn.id, completion.ended)
    finish = await finish_reason(services, turn.id, completion.ended)
    return JSONResponse(completion.body(finish), headers=headers)


@dataclass
class CompletionFold:
    """A chat completion gathered from a turn's events: its text (the answers of each
    model call, a blank line between them), its reasoning, and how it ended."""

    turn: Turn
    text: list[str] = field(default_factory=list)
    reasoning: list[str] = field(default_factory=list)
    after_tools: bool = False
    ended: str | None = None
    usage: dict[str, int] = field(default_factory=dict)
    error: dict[str, Any] | None = None
    waiting: list[dict[str, Any]] = field(default_factory=list)

    def feed_all(self, batch: Sequence[Event]) -> list[dict[str, Any]]:
        return [delta for event in batch for delta in self.feed(event)]

    def feed(self, event: Event) -> list[dict[str, Any]]:
        """The deltas an event adds to the message, as a stream sends them."""
        data = event.data
        if event.type == "text":
            gap = "\n\n" if self.after_tools and self.text else ""
            self.after_tools = False
            self.text.append(gap + data["content"])
            return [{"content": self.text[-1]}]
        if event.type == "thinking":
            self.reasoning.append(data["content"])
            return [{"reasoning_content": data["content"]}]
        if event.type == "tool_result":
            self.after_tools = True
        elif event.type == "input_required":
            self.waiting.append({k: v for k, v in data.items() if v is not None})
        elif event.type == "error":
            self.error = {"code": data["code"], "message": data["message"]}
        elif event.type == "done":
            self.ended, self.usage = data["status"], data.get("usage") or {}
        return []

    @property
    def id(self) -> str:
        return "chatcmpl-" + self.turn.id.removeprefix("turn_")

    def chunk(self, delta: dict[str, Any] | None, finish: str | None = None) -> dict[str, Any]:
        choices = [] if delta is None else [{"index": 0, "delta": delta, "finish_reason": finish}]
        return {**self._head("chat.completion.chunk"), "choices": choices}

    def body(self, finish: str) -> dict[str, Any]:
        message: dict[str, Any] = {"role": "assistant", "content": "".join(self.text)}
        if self.reasoning:
            message["reasoning_content"] = "".join(self.reasoning)
        roost: dict[str, Any] = {"session_id": self.turn.session_id, "turn_id": self.turn.id}
        if self.waiting:  # answered by POST /api/sessions/{id}/turns/{turn_id}/input
            roost |= {"status": "waiting", "input_required": self.waiting}
        return {
            **self._head("chat.completion"),
            "choices": [{"index": 0, "message": message, "finish_reason": finish}],
            "usage": self.usage_out(),
            "roost": roost,
        }

    def usage_out(self) -> dict[str, int]:
        prompt, completion = self.usage.get("input_tokens", 0), self.usage.get("output_tokens", 0)
        return {
            "prompt_tokens": prompt,
            "completion_tokens": completion,
            "total_tokens": prompt + completion,
        }

    def _head(self, kind: str) -> dict[str, Any]:
        created = int(self.turn.created_at.timestamp())
        return {"id": self.id, "object": kind, "created": created, "model": _model(self.turn)}


async def _chunks(
    services: wiring.Services,
    completion: CompletionFold,
    events: AsyncIterator[list[Event]],
    *,
    include_usage: bool,
) -> AsyncIterator[bytes]:
    yield _data(completion.chunk({"role": "assistant", "content": ""}))
    async for batch in events:
        if any(event.type == "heartbeat" for event in batch):
            yield KEEP_ALIVE
        deltas = completion.feed_all(batch)
        yield b"".join(_data(completion.chunk(delta)) for delta in deltas)
    if completion.ended in ("failed", "interrupted"):
        error = completion.error or {"code": "INTERNAL_ERROR", "message": "The turn failed"}
        yield _data({"error": error})  # the SDK raises it; no [DONE] follows
        return
    finish = await finish_reason(services, completion.turn.id, completion.ended)
    tail = _data(completion.chunk({}, finish))
    if include_usage:
        tail += _data({**completion.chunk(None), "usage": completion.usage_out()})
    yield tail + b"data: [DONE]\n\n"


def _data(chunk: dict[str, Any]) -> bytes:
    return b"data: " + orjson.dumps(chunk) + b"\n\n"


def _model(turn: Turn) -> str:
    return model_id(turn.agent or "")


async def finish_reason(services: wiring.Services, turn_id: str, ended: str | None) -> str:
    """``length`` when the answer was cut by the token limit, else ``stop``."""
    if ended != "completed":
        return "stop"
    _, _, reply = await services.turns.outcome(turn_id)
    return "length" if reply is not None and reply.status == "truncated" else "stop"


class Fold(Protocol):
    """What a waiting client gathers a turn into (a completion, a response)."""

    ended: str | None
    waiting: list[dict[str, Any]]

    def feed(self, event: Event) -> list[dict[str, Any]]: ...


async def settle(fold: Fold, events: AsyncGenerator[list[Event], None]) -> None:
    """Feed the turn's events until it ends or waits on the user (who must answer
    elsewhere), then stop following it."""
    async with aclosing(events):
        async for batch in events:
            for event in batch:
                fold.feed(event)
            if fold.ended or fold.waiting:
                return


async def raise_failure(
    services: wiring.Services, caller: CallerIdentity, turn_id: str, ended: str | None
) -> None:
    """A waiting client hears a failed turn's error as the HTTP answer, as on the native
    routes (a provider's is 502 ``UPSTREAM_ERROR``), in Roost's envelope, which OpenAI's
    SDK raises."""
    if ended not in ("failed", "interrupted"):
        return
    turn = await services.turns.find(caller, turn_id)
    if turn.error:
        failure = restored(turn.error)
        if isinstance(failure, UpstreamError):
            failure.details["turn_id"] = turn.id
        raise failure
