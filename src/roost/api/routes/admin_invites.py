"""``/api/admin/invite-codes``: the codes that admit registrations in invite mode."""

from typing import Annotated

from fastapi import APIRouter, Depends, Response, status

from roost.api.deps import Admin, After, Limit, Services
from roost.api.schemas.admin import (
    InviteBatchIn,
    InviteCodeIn,
    InviteCodeListOut,
    InviteCodeOut,
    InviteStatsOut,
)
from roost.services.admin_invites import InviteAdmin, InviteSpec

router = APIRouter(prefix="/invite-codes")


async def invite_admin(services: Services) -> InviteAdmin:
    return services.admin.invites


Invites = Annotated[InviteAdmin, Depends(invite_admin)]


@router.get("", response_model=InviteCodeListOut)
async def admin_list_invite_codes(
    _admin: Admin, invites: Invites, limit: Limit = 50, after: After = None
) -> InviteCodeListOut:
    """Newest first, each with its ``status``."""
    page = await invites.page(limit=limit, after=after)
    return InviteCodeListOut.of(page, InviteCodeOut.of)


@router.post("", status_code=status.HTTP_201_CREATED, response_model=InviteCodeOut)
async def admin_create_invite_code(
    admin: Admin, invites: Invites, body: InviteCodeIn | None = None
) -> InviteCodeOut:
    """A random code unless ``code`` is given (409 if it exists)."""
    body = body or InviteCodeIn()
    spec = InviteSpec(max_uses=body.max_uses, expires_at=body.expires_at, note=body.note)
    return InviteCodeOut.of(await invites.create(admin, spec, body.code))


@router.post("/batch", status_code=status.HTTP_201_CREATED, response_model=InviteCodeListOut)
async def admin_create_invite_codes(
    admin: Admin, invites: Invites, body: InviteBatchIn
) -> InviteCodeListOut:
    """``count`` (1 to 100) random codes alike."""
    spec = InviteSpec(max_uses=body.max_uses, expires_at=body.expires_at, note=body.note)
    made = await invites.batch(admin, spec, body.count)
    return InviteCodeListOut(
        data=[InviteCodeOut.of(i) for i in made], has_more=False, next_cursor=None
    )


@router.get("/stats", response_model=InviteStatsOut)
async def admin_invite_code_stats(_admin: Admin, invites: Invites) -> InviteStatsOut:
    return InviteStatsOut.of(await invites.stats())


@router.get("/{code_id}", response_model=InviteCodeOut)
async def admin_get_invite_code(_admin: Admin, invites: Invites, code_id: str) -> InviteCodeOut:
    return InviteCodeOut.of(await invites.get(code_id))


@router.delete("/{code_id}", status_code=status.HTTP_204_NO_CONTENT)
async def admin_delete_invite_code(_admin: Admin, invites: Invites, code_id: str) -> Response:
    await invites.delete(code_id)
    return Response(status_code=status.HTTP_204_NO_CONTENT)


@router.post("/{code_id}/revoke", response_model=InviteCodeOut)
async def admin_revoke_invite_code(_admin: Admin, invites: Invites, code_id: str) -> InviteCodeOut:
    """The code admits nobody more; it stays listed as ``revoked``."""
    return InviteCodeOut.of(await invites.revoke(code_id))
