"""Answering a waiting turn over HTTP: what it asks, and the user's answers (API.md §7)."""

from fastapi import APIRouter

from roost.api.deps import Before, Caller, Limit, Services
from roost.api.schemas.common import ListOut
from roost.api.schemas.turns import InputAnswerIn, InputAnswerOut, InputOut, TurnOut
from roost.services.turns import InputResponse

router = APIRouter(tags=["turns"])


@router.get("/inputs", response_model=ListOut[InputOut])
async def waiting_inputs(
    caller: Caller, services: Services, limit: Limit = 50, before: Before = None
) -> ListOut[InputOut]:
    """What the caller's turns wait on, in every session, newest first."""
    page = await services.turn_inputs.waiting_on(caller, limit=limit, before=before)
    return ListOut(
        data=[InputOut.of(row) for row in page.items],
        has_more=page.has_more,
        next_cursor=page.next_cursor,
    )


@router.get("/sessions/{session_id}/turns/{turn_id}/inputs", response_model=ListOut[InputOut])
async def list_inputs(
    caller: Caller, services: Services, session_id: str, turn_id: str
) -> ListOut[InputOut]:
    """Every question and approval the turn asked for, oldest first, with their answers."""
    rows = await services.turn_inputs.of_turn(caller, session_id, turn_id)
    return ListOut(data=[InputOut.of(row) for row in rows], has_more=False, next_cursor=None)


@router.post("/sessions/{session_id}/turns/{turn_id}/input", response_model=InputAnswerOut)
async def answer_input(
    caller: Caller, services: Services, session_id: str, turn_id: str, body: InputAnswerIn
) -> InputAnswerOut:
    """Answer a question or allow/decline a tool call; once nothing else is pending the
    turn goes on, and its event stream with it."""
    answered = await services.turn_inputs.answer(
        caller,
        session_id,
        turn_id,
        body.request_id,
        InputResponse(body.approve, body.deny, body.answer, body.reason, body.remember),
    )
    return InputAnswerOut(
        request=InputOut.of(answered.request),
        turn=TurnOut.of(answered.turn),
        resumed=answered.resumed,
        pending=[InputOut.of(row) for row in answered.pending],
    )
