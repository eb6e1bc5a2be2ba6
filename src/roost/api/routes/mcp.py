"""``/api/mcp/servers``: the MCP servers whose tools agents may call.

They run commands on this host, so only admins change them; anyone may list them.
"""

from fastapi import APIRouter, Response, status

from roost.api.deps import Admin, After, Caller, Limit, Services
from roost.api.openapi import errors
from roost.api.schemas.mcp import (
    McpServerChange,
    McpServerIn,
    McpServerOut,
    McpServersOut,
    McpStatusOut,
)

router = APIRouter(prefix="/mcp/servers", tags=["mcp"])


@router.get("", response_model=McpServersOut)
async def list_mcp_servers(
    caller: Caller, services: Services, limit: Limit = 50, after: After = None
) -> McpServersOut:
    """Oldest first, each with its status on this server."""
    page = await services.mcp.page(limit=limit, after=after)
    shown = [McpServerOut.of(v, caller) for v in page.items]
    return McpServersOut(
        servers=shown, data=shown, has_more=page.has_more, next_cursor=page.next_cursor
    )


@router.post("", status_code=status.HTTP_201_CREATED, response_model=McpServerOut)
async def create_mcp_server(admin: Admin, services: Services, body: McpServerIn) -> McpServerOut:
    """Started on first use, not now."""
    return McpServerOut.of(await services.mcp.create(admin, body.model_dump()), admin)


@router.get("/{server_id}", response_model=McpServerOut)
async def get_mcp_server(caller: Caller, services: Services, server_id: str) -> McpServerOut:
    return McpServerOut.of(await services.mcp.get(server_id), caller)


@router.patch("/{server_id}", response_model=McpServerOut, responses=errors(409))
async def update_mcp_server(
    admin: Admin, services: Services, server_id: str, body: McpServerChange
) -> McpServerOut:
    changes = body.model_dump(exclude_unset=True)
    return McpServerOut.of(await services.mcp.update(server_id, changes), admin)


@router.delete("/{server_id}", status_code=status.HTTP_204_NO_CONTENT)
async def delete_mcp_server(admin: Admin, services: Services, server_id: str) -> Response:
    """Its process, if running, is stopped first."""
    await services.mcp.delete(server_id)
    return Response(status_code=status.HTTP_204_NO_CONTENT)


@router.get("/{server_id}/status", response_model=McpStatusOut)
async def mcp_server_status(caller: Caller, services: Services, server_id: str) -> McpStatusOut:
    return McpStatusOut.of(await services.mcp.status(server_id))


@router.post("/{server_id}/restart", response_model=McpStatusOut)
async def restart_mcp_server(admin: Admin, services: Services, server_id: str) -> McpStatusOut:
    """Stop it if it runs and start it now; the answer says how the start went."""
    return McpStatusOut.of(await services.mcp.restart(server_id))
