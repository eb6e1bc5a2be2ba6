"""Floyd's stateless chat: one message in, the answer out; a null session makes one."""

from typing import Any

from fastapi import APIRouter, Response
from pydantic import BaseModel, Field

from roost.api.deps import Caller, Services
from roost.api.openapi import errors
from roost.api.routes.turns import TURN_RESPONSES, finished, settled
from roost.api.schemas.common import Body, either
from roost.api.schemas.turns import MAX_ATTACHMENTS, Attachment, InputOut, TurnOptions
from roost.api.sse import event_stream
from roost.services.turns import TurnRequest

router = APIRouter(tags=["chat"])


class ChatIn(TurnOptions):
    session_id: str | None = either("session_id", "session")
    message: Body = either("message", "content")
    attachments: list[Attachment] = Field(default_factory=list, max_length=MAX_ATTACHMENTS)


class ChatSession(BaseModel):
    id: str
    title: str


class ChatOut(BaseModel):
    success: bool = True
    response: str
    usage: dict[str, int]
    session: ChatSession
    turn_id: str
    input_required: list[InputOut] = Field(
        default_factory=list,
        description="What the turn asks when it waits on the user (see POST …/input).",
    )


async def _start(caller: Any, services: Services, body: ChatIn) -> tuple[str, str]:
    request = body.request(body.message, body.attachments)
    if body.session_id is not None:
        session_id = body.session_id
    else:  # a new session is named after its first exchange
        session_id = (await services.sessions.create(caller, {})).id
        request = TurnRequest(**{**vars(request), "generate_title": True})
    turn = await services.turns.send(caller, session_id, request)
    return session_id, turn.id


@router.post("/chat", response_model=ChatOut, responses=errors(404, 502, 503))
async def chat(caller: Caller, services: Services, body: ChatIn) -> ChatOut:
    """Send one message and wait for the answer."""
    session_id, turn_id = await _start(caller, services, body)
    await settled(services, session_id, turn_id)
    result = await finished(services, turn_id)
    session = await services.sessions.get(caller, session_id)
    usage = result.turn.usage
    return ChatOut(
        response=result.reply.content if result.reply else "",
        usage={"input_tokens": usage.input_tokens, "output_tokens": usage.output_tokens},
        session=ChatSession(id=session.id, title=session.custom_title or session.title or ""),
        turn_id=turn_id,
        input_required=result.input_required,
    )


@router.post(
    "/chat/stream",
    response_model=None,
    responses={200: TURN_RESPONSES[200], **errors(404, 502, 503)},
)
async def chat_stream(caller: Caller, services: Services, body: ChatIn) -> Response:
    """Send one message and stream the turn's events."""
    session_id, turn_id = await _start(caller, services, body)
    events = services.turns.follow(session_id, turn_id)
    return event_stream(events, turn_id=turn_id, session_id=session_id)
