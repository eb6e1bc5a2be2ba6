"""Coqui's own paths and shapes, over the same services as the native API: its roles (the
agents, each with a description and its model) and the cancel of a session's current turn."""

from fastapi import APIRouter
from pydantic import BaseModel

from roost.api.deps import Caller, Services
from roost.api.schemas.turns import CancelledOut, TurnOut
from roost.domain.agents import DEFAULT_AGENT_NAME

router = APIRouter()


class RoleOut(BaseModel):
    name: str
    description: str
    model: str | None


class RolesOut(BaseModel):
    roles: list[RoleOut]
    default: str


@router.get("/config/roles", response_model=RolesOut, tags=["models"])
async def list_roles(caller: Caller, services: Services) -> RolesOut:
    """Coqui's roles: the caller's agents and the server's (the first 200 by name), each
    with a description and its model."""
    page = await services.agents.page(caller, limit=200, after=None)
    return RolesOut(
        roles=[
            RoleOut(name=agent.name, description=agent.description, model=agent.model)
            for agent in page.items
        ],
        default=DEFAULT_AGENT_NAME,
    )


@router.delete("/sessions/{session_id}/current-turn", response_model=CancelledOut, tags=["turns"])
async def cancel_current_turn(caller: Caller, services: Services, session_id: str) -> CancelledOut:
    """Cancel the running turn (and any queued behind it), connected clients or not."""
    cancelled = await services.turns.cancel_current(caller, session_id)
    return CancelledOut(cancelled=[TurnOut.of(t) for t in cancelled])
