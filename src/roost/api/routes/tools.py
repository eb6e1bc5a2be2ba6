"""The tools an agent can call (API.md §10): listed, and run directly (Floyd)."""

from dataclasses import replace
from typing import Any

from fastapi import APIRouter
from pydantic import BaseModel, Field

from roost.api.deps import Caller, Services
from roost.api.openapi import errors
from roost.api.schemas.common import ClientModel, Metadata, ShortName
from roost.engine.tools.approval import needs_approval
from roost.engine.tools.registry import ToolContext, ToolError
from roost.errors import ApprovalRequired

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


@router.post(
    "/execute",
    response_model=ExecuteOut,
    responses=errors(
        404, codes={403: "`APPROVAL_REQUIRED`: the tool's calls need approval, so only in a turn"}
    ),
)
async def execute_tool(caller: Caller, services: Services, body: ExecuteIn) -> ExecuteOut:
    """Run a tool outside any turn: ``{success, result}`` or ``{success: false, error}``
    (a tool's failure is an answer, not an HTTP error). File tools work in the project
    named, else the caller's active one. A tool whose calls need approval runs only in
    a turn, where the call waits for it (403 APPROVAL_REQUIRED), except for admins."""
    admin = caller.acts_as_admin
    if not admin:
        await _refuse_if_approval_needed(services, body.name)
    context = ToolContext(session_id="", turn_id="", owner_id=caller.user_id, admin=admin)
    project_id = body.project_id
    if project_id is None:
        active = await services.projects.active_of(caller.user_id)
        project_id = active.id if active is not None else None
    if project_id is not None:
        sandbox = await services.projects.sandbox_for(caller.user_id, project_id)
        context = replace(context, working_directory=str(sandbox.root), policy=sandbox.policy)
    outcome = await services.tools.execute(body.name, body.args, context)
    return ExecuteOut(
        success=outcome.success,
        result=outcome.result,
        error=outcome.error,
        duration_ms=outcome.duration_ms,
        truncated=outcome.truncated,
    )


async def _refuse_if_approval_needed(services: Services, name: str) -> None:
    try:
        tool = await services.tools.find(name)
    except ToolError:
        return  # its source is unreachable: running it fails with the reason
    requiring = services.settings.tools_requiring_approval
    if tool is not None and needs_approval(tool, requiring=requiring):
        raise ApprovalRequired(name)
