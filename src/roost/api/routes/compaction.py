"""Compacting a session's history and forking it into a new session."""

from fastapi import APIRouter, status

from roost.api.deps import Caller, Services
from roost.api.openapi import errors
from roost.api.schemas.sessions import CompactIn, CompactOut, ForkIn, MessageOut, SessionOut

router = APIRouter(tags=["sessions"])


@router.post(
    "/sessions/{session_id}/compact", response_model=CompactOut, responses=errors(502, 503)
)
async def compact_session(
    caller: Caller, services: Services, session_id: str, body: CompactIn | None = None
) -> CompactOut:
    """Summarise all but the newest messages into one summary message, which the model
    then reads in place of them. Nothing is deleted."""
    keep_last = (body or CompactIn()).keep_last
    done = await services.turns.compact(caller, session_id, keep_last=keep_last)
    if done is None:
        return CompactOut(compacted=False, summarised_messages=0, summary=None)
    summary, count = done
    return CompactOut(compacted=True, summarised_messages=count, summary=MessageOut.of(summary))


@router.post(
    "/sessions/{session_id}/fork", status_code=status.HTTP_201_CREATED, response_model=SessionOut
)
async def fork_session(
    caller: Caller, services: Services, session_id: str, body: ForkIn | None = None
) -> SessionOut:
    """A new session (``parent_id`` = this one) with a copy of the history, up to
    ``message_id`` when given."""
    request = body or ForkIn()
    copy = await services.turns.fork(
        caller, session_id, until=request.message_id, title=request.title
    )
    return SessionOut.of(copy)
