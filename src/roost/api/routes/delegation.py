"""Oqto's delegation API: child sessions where another agent works on a prompt, started,
prompted, checked, read and stopped by their parent's user (API.md §14). Unlike Oqto's
(localhost only, no auth), every route is authenticated and owner-scoped."""

from fastapi import APIRouter, status
from pydantic import BaseModel, Field

from roost.api.deps import Before, Caller, Limit, Services
from roost.api.openapi import errors
from roost.api.schemas.common import ClientModel, ListOut, ShortName
from roost.api.schemas.sessions import MessageOut, SessionOut
from roost.api.schemas.turns import NotBlank, TurnOut

router = APIRouter(prefix="/delegate", tags=["delegation"])


class DelegateIn(ClientModel):
    prompt: NotBlank = Field(description="What the child's agent is to do.")
    agent: ShortName | None = Field(None, description="The agent; the assistant by default.")
    session_id: ShortName | None = Field(
        None, description="The parent session; without it the child has none."
    )


class PromptIn(ClientModel):
    prompt: NotBlank


class DelegatedOut(BaseModel):
    session: SessionOut
    turn: TurnOut


class StatusOut(BaseModel):
    session: SessionOut
    status: str = Field(description="The latest turn's status, or idle.")
    turn: TurnOut | None
    answer: str | None = Field(description="The latest turn's answer, once it completed.")


class MessagesOut(BaseModel):
    session_id: str
    data: list[MessageOut]


class DelegatedListOut(ListOut[SessionOut]):
    pass


@router.post(
    "/start",
    status_code=status.HTTP_201_CREATED,
    response_model=DelegatedOut,
    responses=errors(404, 409, 503),
)
async def start(caller: Caller, services: Services, body: DelegateIn) -> DelegatedOut:
    """A child session (of ``session_id``, if given) whose agent answers ``prompt``."""
    child, turn = await services.delegation.start(
        caller, body.prompt, agent=body.agent, parent_id=body.session_id
    )
    return DelegatedOut(session=SessionOut.of(child), turn=TurnOut.of(turn))


@router.post(
    "/prompt/{session_id}",
    status_code=status.HTTP_202_ACCEPTED,
    response_model=TurnOut,
    responses=errors(404, 503),
)
async def prompt(caller: Caller, services: Services, session_id: str, body: PromptIn) -> TurnOut:
    """Another prompt for a child, queued behind what it is doing."""
    return TurnOut.of(await services.delegation.prompt(caller, session_id, body.prompt))


@router.get("/status/{session_id}", response_model=StatusOut)
async def child_status(caller: Caller, services: Services, session_id: str) -> StatusOut:
    child, turn = await services.delegation.status(caller, session_id)
    state, answer = await services.delegation.result(caller, session_id)
    return StatusOut(
        session=SessionOut.of(child),
        status=state,
        turn=TurnOut.of(turn) if turn is not None else None,
        answer=answer,
    )


@router.get("/messages/{session_id}", response_model=MessagesOut)
async def child_messages(
    caller: Caller, services: Services, session_id: str, limit: Limit = 50
) -> MessagesOut:
    """The child's newest messages, oldest first."""
    found = await services.delegation.messages(caller, session_id, limit=limit)
    return MessagesOut(session_id=session_id, data=[MessageOut.of(m) for m in found])


@router.post("/stop/{session_id}", response_model=StatusOut)
async def stop(caller: Caller, services: Services, session_id: str) -> StatusOut:
    """Cancel what the child is doing."""
    await services.delegation.stop(caller, session_id)
    return await child_status(caller, services, session_id)


@router.get("/sessions", response_model=DelegatedListOut)
async def sessions(
    caller: Caller, services: Services, limit: Limit = 50, before: Before = None
) -> DelegatedListOut:
    """Your delegated sessions, newest first."""
    page = await services.delegation.listed(caller, limit=limit, before=before)
    return DelegatedListOut.of(page, SessionOut.of)
