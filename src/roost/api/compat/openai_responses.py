"""OpenAI's Responses API at ``/v1/responses`` over Roost's durable turns: a response is
a turn (``resp_X`` is ``turn_X``), ``previous_response_id`` goes on in its session,
``background: true`` leaves it running, a stream resumes after a sequence number, and a
cancel cancels the turn. The events and the object come from response_fold.py."""

import asyncio
import contextlib
from collections.abc import AsyncIterator, Iterator
from typing import Annotated, Any

import orjson
from fastapi import APIRouter, Query
from fastapi.responses import JSONResponse, Response, StreamingResponse

from roost.api.compat.openai_chat import KEEP_ALIVE, raise_failure, settle
from roost.api.compat.openai_shapes import ResponseCreate
from roost.api.compat.response_fold import ResponseFold, turn_id_of
from roost.api.deps import Caller, Services
from roost.api.openapi import errors
from roost.api.sse import SESSION_HEADER, SSE_HEADERS, TURN_HEADER
from roost.domain.events import Event
from roost.domain.turn_status import TERMINAL
from roost.errors import ResponseNotFound, TurnNotFound
from roost.store.models import Turn

router = APIRouter(prefix="/v1/responses", tags=["openai"])

CANCEL_WAIT_SECONDS = 10.0
STREAMED: dict[int | str, dict[str, Any]] = {
    200: {
        "description": "The response; or, when streaming, its events as Server-Sent Events.",
        "content": {"text/event-stream": {}},
    }
}


@router.post("", response_model=None, responses={**STREAMED, **errors(400, 404, 409, 502, 503)})
async def create_response(caller: Caller, services: Services, body: ResponseCreate) -> Response:
    """Start a response: stream it, wait for it, or with ``background: true`` leave it
    running and retrieve it later."""
    conversation = body.conversation()
    if body.previous_response_id is not None:
        previous = turn_id_of(body.previous_response_id)
        with named(body.previous_response_id):
            turn = await services.conversations.go_on(caller, previous, conversation)
    else:
        turn = await services.conversations.start(caller, conversation)
    fold = ResponseFold(turn)
    if body.stream:
        return _stream(fold, services.turns.follow(turn.session_id, turn.id), after=-1)
    if body.background:
        return _json(fold.snapshot(), turn)
    await settle(fold, services.turns.follow(turn.session_id, turn.id))
    await raise_failure(services, caller, turn.id, fold.ended)
    return _json(fold.snapshot(), turn)


StartingAfter = Annotated[
    int | None, Query(ge=-1, le=2**31 - 1, description="Resume the stream after this event.")
]


@router.get("/{response_id}", response_model=None, responses={**STREAMED, **errors(404)})
async def get_response(
    caller: Caller,
    services: Services,
    response_id: str,
    stream: bool = False,
    starting_after: StartingAfter = None,
) -> Response:
    """The response as it stands; with ``stream=true`` its events from the start, or
    after ``starting_after``, then live until it ends."""
    if stream:
        with named(response_id):
            turn = await services.turns.find(caller, turn_id_of(response_id))
        events = await services.turns.events(caller, turn.session_id, turn.id)
        after = -1 if starting_after is None else starting_after
        return _stream(ResponseFold(turn), events, after=after)
    with named(response_id):
        turn, logged = await services.turns.logged(caller, turn_id_of(response_id))
    return _json(_folded(turn, logged).snapshot(), turn)


@router.post("/{response_id}/cancel", response_model=None, responses=errors(404))
async def cancel_response(caller: Caller, services: Services, response_id: str) -> Response:
    """Cancel the turn, if it is still going, and answer the response once it ended."""
    with named(response_id):
        turn = await services.turns.find(caller, turn_id_of(response_id))
    await services.turns.cancel(caller, turn.session_id, turn.id)
    if turn.status not in TERMINAL:
        with contextlib.suppress(TimeoutError):
            async with asyncio.timeout(CANCEL_WAIT_SECONDS):
                events = services.turns.follow(turn.session_id, turn.id)
                async for _ in events:
                    pass
    turn, logged = await services.turns.logged(caller, turn.id)
    return _json(_folded(turn, logged).snapshot(), turn)


@router.get("/{response_id}/input_items", response_model=None, responses=errors(404))
async def list_input_items(caller: Caller, services: Services, response_id: str) -> dict[str, Any]:
    """The user message the response answers."""
    with named(response_id):
        turn = await services.turns.find(caller, turn_id_of(response_id))
    _, asked, _ = await services.turns.outcome(turn.id)
    items = (
        [
            {
                "id": asked.id,
                "type": "message",
                "role": "user",
                "status": "completed",
                "content": [{"type": "input_text", "text": asked.content}],
            }
        ]
        if asked is not None
        else []
    )
    first, last = (items[0]["id"], items[-1]["id"]) if items else (None, None)
    return {"object": "list", "data": items, "first_id": first, "last_id": last, "has_more": False}


@contextlib.contextmanager
def named(response_id: str) -> Iterator[None]:
    """A turn not found is the response not found, named as the client named it."""
    try:
        yield
    except TurnNotFound:
        raise ResponseNotFound(response_id) from None


def _folded(turn: Turn, logged: list[Event]) -> ResponseFold:
    fold = ResponseFold(turn)
    for event in logged:
        fold.feed(event)
    return fold


def _json(body: dict[str, Any], turn: Turn) -> JSONResponse:
    return JSONResponse(body, headers={TURN_HEADER: turn.id, SESSION_HEADER: turn.session_id})


def _stream(fold: ResponseFold, batches: AsyncIterator[list[Event]], *, after: int) -> Response:
    headers = SSE_HEADERS | {TURN_HEADER: fold.turn.id, SESSION_HEADER: fold.turn.session_id}
    return StreamingResponse(
        _frames(fold, batches, after), media_type="text/event-stream", headers=headers
    )


async def _frames(
    fold: ResponseFold, batches: AsyncIterator[list[Event]], after: int
) -> AsyncIterator[bytes]:
    """The stream from its first event, of which those after ``after`` are sent."""
    begun = [_frame(event) for event in fold.begin() if event["sequence_number"] > after]
    if begun:
        yield b"".join(begun)
    async for batch in batches:
        out = [KEEP_ALIVE] if any(event.type == "heartbeat" for event in batch) else []
        for event in batch:
            out += [_frame(sent) for sent in fold.feed(event) if sent["sequence_number"] > after]
        if out:
            yield b"".join(out)


def _frame(event: dict[str, Any]) -> bytes:
    kind: str = event["type"]
    return b"event: " + kind.encode() + b"\ndata: " + orjson.dumps(event) + b"\n\n"
