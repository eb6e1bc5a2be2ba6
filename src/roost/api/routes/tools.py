"""The tools an agent can call (API.md §10): listed, and run directly (Floyd)."""

from typing import Any

from fastapi import APIRouter
from pydantic import BaseModel, Field

from roost.api.deps import Caller, Services

router = APIRouter(prefix="/tools", tags=["tools"])


class ToolOut(BaseModel):
    name: str
    description: str
    input_schema: dict[str, Any]
    inputSchema: dict[str, Any] = Field(description="Floyd's name for input_schema.")
    source: str
    requires_approval: bool
    admin_only: bool = Field(
        description="Only admins may use it (run_command on a server without a sandbox)."
    )


class ToolsOut(BaseModel):
    tools: list[ToolOut]
    data: list[ToolOut]
    has_more: bool = False
    next_cursor: str | None = None


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
