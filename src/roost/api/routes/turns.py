"""Turns over HTTP: send a message and stream, wait for or leave the answer; follow,
list and cancel turns; regenerate, continue and edit (API.md §7)."""

from contextlib import aclosing
from typing import Annotated, Any

from fastapi import APIRouter, Query, Request, Response, status
from fastapi.responses import JSONResponse

from roost.api.deps import Caller, Limit, Services
from roost.api.openapi import errors
from roost.api.schemas.sessions import MessageOut
from roost.api.schemas.turns import (
    EditOut,
    InputOut,
    MessageCreate,
    MessageEdit,
    TurnAccepted,
    TurnOptions,
    TurnOut,
    TurnResult,
)
from roost.api.sse import (
    LastEventId,
    ResumeAfter,
    event_stream,
    resume_point,
    wants_stream,
)
from roost.domain.turn_status import TurnStatus
from roost.errors import UpstreamError, restored
from roost.services.caller import Caller as CallerIdentity
from roost.services.turns import TurnRequest
from roost.store.models import Turn
from roost.store.paging import Page

router = APIRouter(tags=["turns"])

Background = Annotated[
    bool, Query(description="Answer 202 with the turn at once; follow it via its events.")
]
TURN_RESPONSES: dict[int | str, dict[str, Any]] = {
    200: {
        "description": "The finished turn; or, when streaming, its events as text/event-stream.",
        "content": {"text/event-stream": {}},
    },
    202: {"model": TurnAccepted, "description": "Started; follow its events."},
    **errors(409, 502, 503),
}


async def respond(
    request: Request,
    services: Services,
    caller: CallerIdentity,
    turn: Turn,
    *,
    stream: bool | None,
    background: bool,
) -> Response:
    """The one way a started turn is answered: 202, an event stream, or the finished turn."""
    if background:
        body = TurnAccepted(turn=TurnOut.of(turn)).model_dump(mode="json")
        return JSONResponse(body, status_code=status.HTTP_202_ACCEPTED)
    if wants_stream(request, stream):
        events = services.turns.follow(turn.session_id, turn.id)
        return event_stream(events, turn_id=turn.id, session_id=turn.session_id)
    await settled(services, turn.session_id, turn.id)
    return JSONResponse((await finished(services, turn.id)).model_dump(mode="json"))


async def settled(services: Services, session_id: str, turn_id: str) -> None:
    """Wait until the turn ends, or waits on the user (a blocking caller then hears what
    it asks, rather than waiting for an answer only it can give)."""
    events = services.turns.follow(session_id, turn_id)
    async with aclosing(events):
        async for batch in events:
            if any(event.type == "input_required" for event in batch):
                return


async def finished(services: Services, turn_id: str) -> TurnResult:
    turn, asked, reply = await services.turns.outcome(turn_id)
    failure = restored(turn.error) if turn.status == TurnStatus.FAILED and turn.error else None
    if isinstance(failure, UpstreamError):  # the provider's failure, as the HTTP answer
        failure.details["turn_id"] = turn.id
        raise failure
    waiting = (
        await services.turn_inputs.pending(turn_id) if turn.status == TurnStatus.WAITING else []
    )
    return TurnResult(
        message=MessageOut.of(asked) if asked else None,
        reply=MessageOut.of(reply) if reply else None,
        turn=TurnOut.of(turn),
        input_required=[InputOut.of(row) for row in waiting],
    )


@router.post("/sessions/{session_id}/messages", response_model=TurnResult, responses=TURN_RESPONSES)
async def send_message(
    request: Request,
    caller: Caller,
    services: Services,
    session_id: str,
    body: MessageCreate,
    background: Background = False,
) -> Response:
    """Start a turn: stream it (``Accept: text/event-stream`` or ``stream: true``), wait
    for it, or with ``?background=true`` leave it running."""
    turn = await services.turns.send(
        caller, session_id, body.request(body.content, body.attachments)
    )
    return await respond(request, services, caller, turn, stream=body.stream, background=background)


@router.post(
    "/sessions/{session_id}/regenerate", response_model=TurnResult, responses=TURN_RESPONSES
)
async def regenerate(
    request: Request,
    caller: Caller,
    services: Services,
    session_id: str,
    body: TurnOptions | None = None,
    background: Background = False,
) -> Response:
    """Replace the last answer with a new one to the same message."""
    options = body or TurnOptions()
    turn = await services.turns.regenerate(caller, session_id, options.request())
    return await respond(
        request, services, caller, turn, stream=options.stream, background=background
    )


@router.post("/sessions/{session_id}/continue", response_model=TurnResult, responses=TURN_RESPONSES)
async def continue_answer(
    request: Request,
    caller: Caller,
    services: Services,
    session_id: str,
    body: TurnOptions | None = None,
    background: Background = False,
) -> Response:
    """Continue the last answer, cut by the token limit, in the same message."""
    options = body or TurnOptions()
    turn = await services.turns.continue_answer(caller, session_id, options.request())
    return await respond(
        request, services, caller, turn, stream=options.stream, background=background
    )


@router.patch(
    "/sessions/{session_id}/messages/{message_id}",
    response_model=EditOut,
    responses=TURN_RESPONSES,
)
async def edit_message(
    request: Request,
    caller: Caller,
    services: Services,
    session_id: str,
    message_id: str,
    edit: MessageEdit,
    background: Background = False,
) -> Response:
    """Edit a user message (by id, or Floyd's index from 0) and drop what followed it;
    with ``regenerate: true`` a new turn answers it, streamed like a message."""
    turn_request: TurnRequest | None = edit.request() if edit.regenerate else None
    message, turn = await services.turns.edit(
        caller, session_id, message_id, edit.content, turn_request
    )
    if turn is None:
        return JSONResponse(EditOut(message=MessageOut.of(message)).model_dump(mode="json"))
    return await respond(request, services, caller, turn, stream=edit.stream, background=background)


@router.get("/sessions/{session_id}/turns", response_model=None)
async def list_turns(
    caller: Caller,
    services: Services,
    session_id: str,
    limit: Limit = 50,
    before: Annotated[str | None, Query(max_length=64)] = None,
) -> dict[str, Any]:
    """Newest first."""
    page: Page[Turn] = await services.turns.page(caller, session_id, limit=limit, before=before)
    return {
        "data": [TurnOut.of(t).model_dump(mode="json") for t in page.items],
        "has_more": page.has_more,
        "next_cursor": page.next_cursor,
    }


@router.get("/sessions/{session_id}/turns/{turn_id}", response_model=TurnOut)
async def get_turn(caller: Caller, services: Services, session_id: str, turn_id: str) -> TurnOut:
    return TurnOut.of(await services.turns.get(caller, session_id, turn_id))


@router.get(
    "/sessions/{session_id}/turns/{turn_id}/events",
    response_class=Response,
    responses={200: {"content": {"text/event-stream": {}}, "description": "The events."}},
)
async def turn_events(
    caller: Caller,
    services: Services,
    session_id: str,
    turn_id: str,
    after: ResumeAfter = None,
    last_event_id: LastEventId = "",
) -> Response:
    """Replay after ``Last-Event-ID`` (or ``?after=``), then follow live until ``done``;
    at the end of a finished turn the stream closes at once."""
    events = await services.turns.events(
        caller, session_id, turn_id, after=resume_point(after, last_event_id)
    )
    return event_stream(events)
