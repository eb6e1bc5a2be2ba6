"""What turns wait on: questions for the user and tool calls to allow.

A request is reached through its turn, which the caller has already been allowed to
see, or through its owner (the inbox, which spans sessions).
"""

from collections.abc import Sequence
from datetime import datetime
from typing import Any

from sqlalchemy import ColumnElement, func, select, update
from sqlalchemy.ext.asyncio import AsyncSession

from roost import ids
from roost.store.models import Session, TurnInput
from roost.store.owned import Owner
from roost.store.paging import cut

PENDING = "pending"


class TurnInputRepo:
    def __init__(self, db: AsyncSession) -> None:
        self.db = db

    def add_all(self, rows: Sequence[TurnInput]) -> None:
        self.db.add_all(rows)

    async def get_unchecked(self, request_id: str) -> TurnInput | None:
        """A request by id with no owner check: the caller checks it is its turn's."""
        return await self.db.get(TurnInput, request_id)

    async def of_turn(self, turn_id: str) -> list[TurnInput]:
        query = select(TurnInput).where(TurnInput.turn_id == turn_id).order_by(TurnInput.id)
        return list((await self.db.execute(query)).scalars().all())

    async def pending(self, turn_id: str) -> list[TurnInput]:
        query = (
            select(TurnInput)
            .where(TurnInput.turn_id == turn_id, TurnInput.status == PENDING)
            .order_by(TurnInput.id)
        )
        return list((await self.db.execute(query)).scalars().all())

    async def count_pending(self, turn_id: str) -> int:
        query = (
            select(func.count())
            .select_from(TurnInput)
            .where(TurnInput.turn_id == turn_id, TurnInput.status == PENDING)
        )
        return int(await self.db.scalar(query) or 0)

    async def answered(self, turn_id: str) -> list[TurnInput]:
        query = (
            select(TurnInput)
            .where(TurnInput.turn_id == turn_id, TurnInput.status == "answered")
            .order_by(TurnInput.id)
        )
        return list((await self.db.execute(query)).scalars())

    async def approve_pending_calls(
        self, turn_id: str, tool: str, response: dict[str, Any], at: datetime
    ) -> None:
        """Allow the tool's other calls that wait in this turn, with the same response."""
        await self.db.execute(
            update(TurnInput)
            .where(
                TurnInput.turn_id == turn_id,
                TurnInput.status == PENDING,
                TurnInput.kind == "tool_approval",
                TurnInput.tool == tool,
            )
            .values(status="answered", response=response, answered_at=at)
        )

    async def close_pending(self, turn_id: str) -> None:
        """The turn ended: what it waited on can no longer be answered."""
        await self.db.execute(
            update(TurnInput)
            .where(TurnInput.turn_id == turn_id, TurnInput.status == PENDING)
            .values(status="closed")
        )

    async def find_owned(self, owner: Owner, request_id: str) -> TurnInput | None:
        """The owner's request with this id (a cursor's anchor), or None (also for a
        malformed id)."""
        if not ids.is_valid("inp", request_id):
            return None
        query = select(TurnInput).where(TurnInput.id == request_id, _owned_by(owner))
        return (await self.db.execute(query)).scalar_one_or_none()

    async def waiting_on(
        self, owner: Owner, *, limit: int, before: str | None = None
    ) -> tuple[list[TurnInput], bool]:
        """What the owner's turns wait on, newest first."""
        query = (
            select(TurnInput)
            .join(Session, Session.id == TurnInput.session_id)
            .where(Session.owner_id == owner.user_id, TurnInput.status == PENDING)
        )
        if before is not None:
            query = query.where(TurnInput.id < before)
        rows = (
            await self.db.execute(query.order_by(TurnInput.id.desc()).limit(limit + 1))
        ).scalars()
        return cut(list(rows), limit)


def _owned_by(owner: Owner) -> ColumnElement[bool]:
    return TurnInput.session_id.in_(select(Session.id).where(Session.owner_id == owner.user_id))
