"""Reads across every owner, for the admin services alone: any user's sessions, and
totals over the whole server. Nothing here filters by owner, on purpose, so its
methods say so in their names (``all_sessions``, ``any_session``)."""

from typing import NamedTuple

from sqlalchemy import func, select, tuple_
from sqlalchemy.ext.asyncio import AsyncSession

from roost import ids
from roost.store.models import Message, Session, Turn, User
from roost.store.paging import cut


class ServerTotals(NamedTuple):
    sessions: int
    messages: int
    turns_by_status: dict[str, int]
    input_tokens: int
    output_tokens: int


class ServerRepo:
    def __init__(self, db: AsyncSession) -> None:
        self.db = db

    async def any_session(self, session_id: str, *, owner_id: str | None = None) -> Session | None:
        """The session with this id, whoever owns it (or only if ``owner_id`` does); None
        for an unknown or malformed id."""
        if not ids.is_valid("ses", session_id):
            return None
        query = select(Session).where(Session.id == session_id)
        if owner_id is not None:
            query = query.where(Session.owner_id == owner_id)
        return (await self.db.execute(query)).scalar_one_or_none()

    async def all_sessions(
        self, *, limit: int, after: Session | None, owner_id: str | None
    ) -> tuple[list[tuple[Session, str | None]], bool]:
        """Every user's sessions (or one owner's), most recent activity first, each with
        its owner's email."""
        query = select(Session, User.email).join(User, User.id == Session.owner_id)
        if owner_id is not None:
            query = query.where(Session.owner_id == owner_id)
        if after is not None:
            query = query.where(
                tuple_(Session.last_activity_at, Session.id)
                < tuple_(after.last_activity_at, after.id)
            )
        query = query.order_by(Session.last_activity_at.desc(), Session.id.desc())
        rows = (await self.db.execute(query.limit(limit + 1))).all()
        return cut([(session, email) for session, email in rows], limit)

    async def totals(self) -> ServerTotals:
        sessions, input_tokens, output_tokens = (
            await self.db.execute(
                select(
                    func.count(),
                    func.coalesce(func.sum(Session.input_tokens), 0),
                    func.coalesce(func.sum(Session.output_tokens), 0),
                ).select_from(Session)
            )
        ).one()
        messages = await self.db.scalar(select(func.count()).select_from(Message))
        by_status = (
            await self.db.execute(select(Turn.status, func.count()).group_by(Turn.status))
        ).all()
        return ServerTotals(
            sessions=int(sessions),
            messages=int(messages or 0),
            turns_by_status={status: int(count) for status, count in by_status},
            input_tokens=int(input_tokens),
            output_tokens=int(output_tokens),
        )
