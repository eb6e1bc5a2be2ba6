"""The tools an agent can call (API.md §10), listed (Floyd runs one directly: compat)."""

from fastapi import APIRouter

from roost.api.deps import Caller, Services
from roost.api.schemas.tools import ToolOut, ToolsOut

router = APIRouter(prefix="/tools", tags=["tools"])


@router.get("", response_model=ToolsOut)
async def list_tools(caller: Caller, services: Services) -> ToolsOut:
    """Every tool a turn may offer the model: built-in ones, then MCP servers' (which
    start now if they have not yet)."""
    tools = [
        ToolOut(
            name=t.name,
            description=t.description,
            input_schema=t.input_schema,
            inputSchema=t.input_schema,
            source=t.source,
            requires_approval=t.requires_approval,
            admin_only=t.admin_only,
        )
        for t in await services.tools.available()
    ]
    return ToolsOut(tools=tools, data=tools)
