"""Floyd's own paths and shapes, over the same services as the native API: the stateless
chat (one message in, the answer out; a null session makes one) and the one-field session
routes (aliases of PATCH answering ``{success, session}``)."""

from typing import Any

from fastapi import APIRouter, Response
from pydantic import BaseModel, Field

from roost.api.deps import Caller, Services
from roost.api.openapi import errors
from roost.api.routes.turns import TURN_RESPONSES, finished, settled
from roost.api.schemas.common import Body, either
from roost.api.schemas.sessions import (
    ArchiveIn,
    FloydFolderIn,
    FloydRenameIn,
    FloydSessionOut,
    PinIn,
    SessionOut,
)
from roost.api.schemas.turns import MAX_ATTACHMENTS, Attachment, InputOut, TurnOptions
from roost.api.sse import event_stream
from roost.services.turns import TurnRequest

router = APIRouter()


async def _patched(
    services: Services, caller: Caller, session_id: str, changes: dict[str, object]
) -> FloydSessionOut:
    session = await services.sessions.update(caller, session_id, changes)
    return FloydSessionOut(session=SessionOut.of(session))


@router.patch("/sessions/{session_id}/rename", response_model=FloydSessionOut, tags=["sessions"])
async def rename_session(
    caller: Caller, services: Services, session_id: str, body: FloydRenameIn
) -> FloydSessionOut:
    """Set (or with null, clear) the custom title; the generated title stays."""
    return await _patched(services, caller, session_id, {"custom_title": body.custom_title})


@router.patch("/sessions/{session_id}/pin", response_model=FloydSessionOut, tags=["sessions"])
async def pin_session(
    caller: Caller, services: Services, session_id: str, body: PinIn
) -> FloydSessionOut:
    return await _patched(services, caller, session_id, {"pinned": body.pinned})


@router.patch("/sessions/{session_id}/folder", response_model=FloydSessionOut, tags=["sessions"])
async def move_session_to_folder(
    caller: Caller, services: Services, session_id: str, body: FloydFolderIn
) -> FloydSessionOut:
    """Null or an empty name takes the session out of any folder."""
    return await _patched(services, caller, session_id, {"folder": body.folder})


@router.patch("/sessions/{session_id}/archive", response_model=FloydSessionOut, tags=["sessions"])
async def archive_session(
    caller: Caller, services: Services, session_id: str, body: ArchiveIn
) -> FloydSessionOut:
    return await _patched(services, caller, session_id, {"archived": body.archived})


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


@router.post("/chat", tags=["chat"], response_model=ChatOut, responses=errors(404, 502, 503))
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
    tags=["chat"],
    response_model=None,
    responses={200: TURN_RESPONSES[200], **errors(404, 502, 503)},
)
async def chat_stream(caller: Caller, services: Services, body: ChatIn) -> Response:
    """Send one message and stream the turn's events."""
    session_id, turn_id = await _start(caller, services, body)
    events = services.turns.follow(session_id, turn_id)
    return event_stream(events, turn_id=turn_id, session_id=session_id)
