"""Invite codes: the server's, not any user's; only admins and registration reach them."""

from collections.abc import Sequence
from datetime import datetime

from sqlalchemy import and_, case, delete, func, select, update
from sqlalchemy.ext.asyncio import AsyncSession

from roost import ids
from roost.errors import AlreadyExists
from roost.store.db import flush_unique
from roost.store.models import InviteCode
from roost.store.paging import cut

# status -> (codes, uses, uses left)
InviteCounts = dict[str, tuple[int, int, int]]


def code_taken() -> AlreadyExists:
    return AlreadyExists("That invite code exists", details={"field": "code"})


class InviteRepo:
    def __init__(self, db: AsyncSession) -> None:
        self.db = db

    async def get(self, code_id: str) -> InviteCode | None:
        return await self.db.get(InviteCode, code_id)

    async def find(self, code_id: str) -> InviteCode | None:
        """The code with this id; None for an unknown or malformed one."""
        return await self.get(code_id) if ids.is_valid("inv", code_id) else None

    async def all_invites(self, *, limit: int, after: str | None) -> tuple[list[InviteCode], bool]:
        """Every code, newest first, after the code ``after``."""
        query = select(InviteCode)
        if after is not None:
            query = query.where(InviteCode.id < after)
        query = query.order_by(InviteCode.id.desc()).limit(limit + 1)
        return cut((await self.db.execute(query)).scalars().all(), limit)

    async def any_taken(self, codes: Sequence[str]) -> bool:
        taken = await self.db.scalar(select(InviteCode.id).where(InviteCode.code.in_(codes)))
        return taken is not None

    async def add_all(self, invites: Sequence[InviteCode]) -> None:
        """New codes; one that exists (also made at the same moment) is a 409."""
        if await self.any_taken([invite.code for invite in invites]):
            raise code_taken()
        self.db.add_all(invites)
        await flush_unique(self.db, code_taken())

    async def delete(self, code_id: str) -> bool:
        removed = await self.db.execute(delete(InviteCode).where(InviteCode.id == code_id))
        return bool(removed.rowcount)  # type: ignore[attr-defined]

    async def use(self, code: str, now: datetime) -> bool:
        """Take one use of ``code`` if it admits anyone now; in one statement, so two
        registrations at once cannot both take its last use."""
        result = await self.db.execute(
            update(InviteCode)
            .where(
                InviteCode.code == code,
                InviteCode.uses < InviteCode.max_uses,
                InviteCode.revoked_at.is_(None),
                (InviteCode.expires_at.is_(None)) | (InviteCode.expires_at > now),
            )
            .values(uses=InviteCode.uses + 1)
        )
        return bool(result.rowcount)  # type: ignore[attr-defined]

    async def counts_by_status(self, now: datetime) -> InviteCounts:
        """Every code counted once, under its status (revoked, used up, expired, else
        active), with the uses taken and left."""
        status = case(
            (InviteCode.revoked_at.is_not(None), "revoked"),
            (InviteCode.uses >= InviteCode.max_uses, "used_up"),
            (and_(InviteCode.expires_at.is_not(None), InviteCode.expires_at <= now), "expired"),
            else_="active",
        )
        # Grouping by a column of a subquery: PostgreSQL refuses to match a CASE with
        # parameters in GROUP BY to the same CASE in the select list.
        rows = select(
            status.label("status"),
            InviteCode.uses.label("uses"),
            (InviteCode.max_uses - InviteCode.uses).label("left"),
        ).subquery()
        query = select(
            rows.c.status, func.count(), func.sum(rows.c.uses), func.sum(rows.c.left)
        ).group_by(rows.c.status)
        grouped = (await self.db.execute(query)).all()
        return {row[0]: (int(row[1]), int(row[2] or 0), int(row[3] or 0)) for row in grouped}
