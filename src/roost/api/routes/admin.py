"""``/api/admin`` (Oqto's admin routes): users, invite codes, every user's sessions and
the server's numbers. Every route needs an admin: others get 403, no credential 401."""

from typing import Annotated

from fastapi import APIRouter, Depends, Query, Response, status

from roost.api.deps import Admin, After, Limit, Services
from roost.api.routes import admin_invites, admin_users
from roost.api.schemas.admin import AdminSessionListOut, AdminSessionOut, ServerStatsOut
from roost.services.admin import ServerAdmin

router = APIRouter(prefix="/admin", tags=["admin"])


async def server_admin(services: Services) -> ServerAdmin:
    return services.admin.server


Server = Annotated[ServerAdmin, Depends(server_admin)]


@router.get("/sessions", response_model=AdminSessionListOut)
async def admin_list_sessions(
    _admin: Admin,
    server: Server,
    user_id: Annotated[str | None, Query(max_length=64, description="Only this owner's.")] = None,
    limit: Limit = 50,
    after: After = None,
) -> AdminSessionListOut:
    """Every user's sessions, most recent activity first, each with its owner."""
    page = await server.page(limit=limit, after=after, owner_id=user_id)
    return AdminSessionListOut.of(page, AdminSessionOut.owned)


@router.delete("/sessions/{session_id}", status_code=status.HTTP_204_NO_CONTENT)
async def admin_delete_session(_admin: Admin, server: Server, session_id: str) -> Response:
    """Cancels the session's running turns, then deletes it, whoever owns it."""
    await server.delete_session(session_id)
    return Response(status_code=status.HTTP_204_NO_CONTENT)


@router.get("/stats", response_model=ServerStatsOut)
async def admin_stats(_admin: Admin, server: Server) -> ServerStatsOut:
    """Users, sessions, messages, turns by status, tokens used, the database back end."""
    return ServerStatsOut.of(await server.stats())


router.include_router(admin_users.router)
router.include_router(admin_invites.router)
