"""The tools an agent can call, as listed."""

from typing import Any

from pydantic import BaseModel, Field


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
