"""Admin (Oqto's ``/api/admin``): one service over users, invite codes, every user's
sessions and the server's numbers. The only place that sees past ``owner_id``."""

from dataclasses import dataclass

from sqlalchemy import func, select, tuple_

from roost import __version__, ids
from roost.errors import SessionNotFound
from roost.services.admin_invites import InviteAdmin
from roost.services.admin_users import UserAdmin, UserStats
from roost.services.caller import Caller
from roost.services.cursors import anchor
from roost.services.sessions import SessionService
from roost.store.db import Database
from roost.store.models import Message, Session, Turn, User
from roost.store.paging import Page, cut


@dataclass(frozen=True)
class OwnedSession:
    session: Session
    owner_email: str | None


@dataclass(frozen=True)
class ServerStats:
    users: UserStats
    sessions: int
    messages: int
    turns_by_status: dict[str, int]
    input_tokens: int
    output_tokens: int
    database_backend: str
    version: str


class ServerAdmin:
    """Every user's sessions, and counts over the whole server."""

    def __init__(self, database: Database, sessions: SessionService, users: UserAdmin) -> None:
        self.database = database
        self.sessions = sessions
        self.users = users

    async def page(
        self, *, limit: int, after: str | None, owner_id: str | None
    ) -> Page[OwnedSession]:
        """Most recent activity first, with each session's owner."""
        query = select(Session, User.email).join(User, User.id == Session.owner_id)
        if owner_id is not None:
            query = query.where(Session.owner_id == owner_id)
        async with self.database.read() as db:
            if after is not None:
                owned = [] if owner_id is None else [Session.owner_id == owner_id]
                start = await anchor(db, Session, "ses", "after", after, *owned)
                query = query.where(
                    tuple_(Session.last_activity_at, Session.id)
                    < tuple_(start.last_activity_at, start.id)
                )
            query = query.order_by(Session.last_activity_at.desc(), Session.id.desc())
            rows, more = cut((await db.execute(query.limit(limit + 1))).all(), limit)
        items = [OwnedSession(session, email) for session, email in rows]
        return Page(items, more, items[-1].session.id if more and items else None)

    async def delete_session(self, session_id: str) -> None:
        """Cancel the session's running turns, then delete it, whoever owns it."""
        async with self.database.read() as db:
            found = await db.get(Session, session_id) if ids.is_valid("ses", session_id) else None
        if found is None:
            raise SessionNotFound(session_id)
        owner = Caller(found.owner_id, principal=f"user:{found.owner_id}")
        await self.sessions.delete(owner, session_id)

    async def stats(self) -> ServerStats:
        users = await self.users.stats()
        async with self.database.read() as db:
            sessions, input_tokens, output_tokens = (
                await db.execute(
                    select(
                        func.count(),
                        func.coalesce(func.sum(Session.input_tokens), 0),
                        func.coalesce(func.sum(Session.output_tokens), 0),
                    ).select_from(Session)
                )
            ).one()
            messages = await db.scalar(select(func.count()).select_from(Message))
            by_status = (
                await db.execute(select(Turn.status, func.count()).group_by(Turn.status))
            ).all()
        return ServerStats(
            users=users,
            sessions=int(sessions),
            messages=int(messages or 0),
            turns_by_status={status: int(count) for status, count in by_status},
            input_tokens=int(input_tokens),
            output_tokens=int(output_tokens),
            database_backend=self.database.backend,
            version=__version__,
        )


@dataclass(frozen=True)
class AdminService:
    """Built once at start-up (``roost.wiring``), like every service."""

    users: UserAdmin
    invites: InviteAdmin
    server: ServerAdmin
