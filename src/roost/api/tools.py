"""The tools an agent can call (API.md §10): listed, and run directly (Floyd)."""

from typing import Any

from fastapi import APIRouter
from pydantic import BaseModel, Field

from roost.api.deps import Caller, Services
from roost.api.schemas import ClientModel, Metadata, ShortName
from roost.engine.tools.registry import ToolContext

router = APIRouter(prefix="/tools", tags=["tools"])


class ToolOut(BaseModel):
    name: str
    description: str
    input_schema: dict[str, Any]
    inputSchema: dict[str, Any] = Field(description="Floyd's name for input_schema.")
    source: str
    requires_approval: bool


class ToolsOut(BaseModel):
    tools: list[ToolOut]
    data: list[ToolOut]
    has_more: bool = False
    next_cursor: str | None = None


class ExecuteIn(ClientModel):
    name: ShortName
    args: Metadata = Field(default_factory=dict)
    project_id: ShortName | None = None


class ExecuteOut(BaseModel):
    success: bool
    result: Any = None
    error: str | None = None
    duration_ms: int
    truncated: bool = False


@router.get("", response_model=ToolsOut)
async def list_tools(caller: Caller, services: Services) -> ToolsOut:
    """Every tool a turn may offer the model."""
    tools = [
        ToolOut(
            name=t.name,
            description=t.description,
            input_schema=t.input_schema,
            inputSchema=t.input_schema,
            source=t.source,
            requires_approval=t.requires_approval,
        )
        for t in services.tools.tools.values()
    ]
    return ToolsOut(tools=tools, data=tools)


@router.post("/execute", response_model=ExecuteOut)
async def execute_tool(caller: Caller, services: Services, body: ExecuteIn) -> ExecuteOut:
    """Run a tool outside any turn: ``{success, result}`` or ``{success: false, error}``
    (a tool's failure is an answer, not an HTTP error)."""
    context = ToolContext(session_id="", turn_id="", owner_id=caller.user_id)
    outcome = await services.tools.execute(body.name, body.args, context)
    return ExecuteOut(
        success=outcome.success,
        result=outcome.result,
        error=outcome.error,
        duration_ms=outcome.duration_ms,
        truncated=outcome.truncated,
    )
