"""``/api/admin/users``: every account, for admins."""

from typing import Annotated

from fastapi import APIRouter, Depends, Query, Response, status

from roost.api.deps import Admin, After, Limit, Services
from roost.api.openapi import errors
from roost.api.schemas.admin import (
    AdminUserOut,
    UserCreateIn,
    UserListOut,
    UserStatsOut,
    UserUpdateIn,
)
from roost.services.admin_users import UserAdmin, UserChanges, UserFilter

router = APIRouter(prefix="/users")


async def user_admin(services: Services) -> UserAdmin:
    return services.admin.users


Users = Annotated[UserAdmin, Depends(user_admin)]


@router.get("", response_model=UserListOut)
async def admin_list_users(
    _admin: Admin,
    users: Users,
    q: Annotated[
        str | None, Query(max_length=200, description="Part of the email or name.")
    ] = None,
    active: Annotated[bool | None, Query(description="Only active, or inactive, users.")] = None,
    limit: Limit = 50,
    after: After = None,
) -> UserListOut:
    """Newest first; the local owner (``local: true``) last."""
    page = await users.page(UserFilter(q=q, active=active), limit=limit, after=after)
    return UserListOut.of(page, AdminUserOut.of)


@router.post("", status_code=status.HTTP_201_CREATED, response_model=AdminUserOut)
async def admin_create_user(_admin: Admin, users: Users, body: UserCreateIn) -> AdminUserOut:
    """A new account, whatever ``ROOST_REGISTRATION`` says; 409 if the email is taken."""
    user = await users.create(body.email, body.password, body.name, is_admin=body.is_admin)
    return AdminUserOut.of(user)


@router.get("/stats", response_model=UserStatsOut)
async def admin_user_stats(_admin: Admin, users: Users) -> UserStatsOut:
    """Counts of accounts (the local owner is not one)."""
    return UserStatsOut.of(await users.stats())


@router.get("/{user_id}", response_model=AdminUserOut)
async def admin_get_user(_admin: Admin, users: Users, user_id: str) -> AdminUserOut:
    return AdminUserOut.of(await users.get(user_id))


@router.put("/{user_id}", response_model=AdminUserOut, responses=errors(409))
async def admin_update_user(
    admin: Admin, users: Users, user_id: str, body: UserUpdateIn
) -> AdminUserOut:
    """Change name, email, role, active state or password; a new password or a
    deactivation ends every login, token and (while inactive) API key of the user."""
    changes = UserChanges(**body.model_dump(exclude_none=True))
    return AdminUserOut.of(await users.update(admin, user_id, changes))


@router.delete("/{user_id}", status_code=status.HTTP_204_NO_CONTENT, responses=errors(400))
async def admin_delete_user(admin: Admin, users: Users, user_id: str) -> Response:
    """Deletes the user with everything they own; their running turns are cancelled first."""
    await users.delete(admin, user_id)
    return Response(status_code=status.HTTP_204_NO_CONTENT)


@router.post("/{user_id}/activate", response_model=AdminUserOut)
async def admin_activate_user(admin: Admin, users: Users, user_id: str) -> AdminUserOut:
    return AdminUserOut.of(await users.set_active(admin, user_id, True))


@router.post("/{user_id}/deactivate", response_model=AdminUserOut)
async def admin_deactivate_user(admin: Admin, users: Users, user_id: str) -> AdminUserOut:
    """The user's tokens, refresh tokens and API keys stop working at once."""
    return AdminUserOut.of(await users.set_active(admin, user_id, False))
