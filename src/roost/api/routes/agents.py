"""Agents over HTTP (CoAgent, API.md §13): your agents and the server's, by id or by
name, and the versions every change leaves."""

from typing import Annotated

from fastapi import APIRouter, Path, Query, Response, status

from roost.api.deps import After, Caller, Limit, Services
from roost.api.openapi import errors
from roost.api.schemas.agents import (
    AgentChange,
    AgentIn,
    AgentListOut,
    AgentOut,
    AgentReplace,
    AgentVersionListOut,
    AgentVersionOut,
)

router = APIRouter(tags=["agents"])

AgentRef = Annotated[str, Path(max_length=100, description="An agent's id or name.")]
VersionNumber = Annotated[int, Path(ge=1, le=2**31 - 1)]
BeforeVersion = Annotated[
    int | None, Query(ge=1, le=2**31 - 1, description="A version: those before it.")
]


@router.get("/agents", response_model=AgentListOut)
async def list_agents(
    caller: Caller, services: Services, limit: Limit = 50, after: After = None
) -> AgentListOut:
    """Your agents and the server's, by name."""
    page = await services.agents.page(caller, limit=limit, after=after)
    return AgentListOut.of(page, AgentOut.of)


@router.post(
    "/agents",
    status_code=status.HTTP_201_CREATED,
    response_model=AgentOut,
    responses=errors(403, 409),
)
async def create_agent(caller: Caller, services: Services, body: AgentIn) -> AgentOut:
    """A new agent, at version 1. ``shared: true`` makes it the server's (admins only)."""
    fields = body.definition(body.model_fields_set | {"name", "preamble"})
    return AgentOut.of(await services.agents.create(caller, fields, shared=body.shared))


@router.get("/agents/{agent_ref}", response_model=AgentOut)
async def get_agent(caller: Caller, services: Services, agent_ref: AgentRef) -> AgentOut:
    return AgentOut.of(await services.agents.get(caller, agent_ref))


@router.put("/agents/{agent_ref}", response_model=AgentOut, responses=errors(403, 409))
async def replace_agent(
    caller: Caller, services: Services, agent_ref: AgentRef, body: AgentReplace
) -> AgentOut:
    """Set every field (those left out return to their defaults): a new version, unless
    nothing changed."""
    fields = body.definition(set(AgentReplace.model_fields))
    agent = await services.agents.update(caller, agent_ref, fields, replacing=True)
    return AgentOut.of(agent)


@router.patch("/agents/{agent_ref}", response_model=AgentOut, responses=errors(403, 409))
async def update_agent(
    caller: Caller, services: Services, agent_ref: AgentRef, body: AgentChange
) -> AgentOut:
    """Change the fields sent: a new version, unless nothing changed."""
    fields = body.definition(body.model_fields_set)
    agent = await services.agents.update(caller, agent_ref, fields, replacing=False)
    return AgentOut.of(agent)


@router.delete("/agents/{agent_ref}", status_code=status.HTTP_204_NO_CONTENT, responses=errors(403))
async def delete_agent(caller: Caller, services: Services, agent_ref: AgentRef) -> Response:
    """The agent and its versions; turns and runs keep its name and version number."""
    await services.agents.delete(caller, agent_ref)
    return Response(status_code=status.HTTP_204_NO_CONTENT)


@router.get("/agents/{agent_ref}/versions", response_model=AgentVersionListOut)
async def list_versions(
    caller: Caller,
    services: Services,
    agent_ref: AgentRef,
    limit: Limit = 50,
    before: BeforeVersion = None,
) -> AgentVersionListOut:
    """Newest first; ``next_cursor`` is a version number for ``before``."""
    _agent, items, more = await services.agents.versions(
        caller, agent_ref, limit=limit, before=before
    )
    return AgentVersionListOut(
        data=[AgentVersionOut.of(v) for v in items],
        has_more=more,
        next_cursor=str(items[-1].version) if more and items else None,
    )


@router.get("/agents/{agent_ref}/versions/{number}", response_model=AgentVersionOut)
async def get_version(
    caller: Caller, services: Services, agent_ref: AgentRef, number: VersionNumber
) -> AgentVersionOut:
    _agent, version = await services.agents.version(caller, agent_ref, number)
    return AgentVersionOut.of(version)
