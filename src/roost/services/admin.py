"""Admin (Oqto's ``/api/admin``): one service over users, invite codes, every user's
sessions and the server's numbers. The only place that sees past ``owner_id``."""

from dataclasses import dataclass
from functools import partial

from roost import __version__
from roost.errors import SessionNotFound
from roost.services.admin_invites import InviteAdmin
from roost.services.admin_users import UserAdmin, UserStats
from roost.services.caller import Caller
from roost.services.cursors import anchor
from roost.services.sessions import SessionService
from roost.store.db import Database
from roost.store.models import Session
from roost.store.paging import Page
from roost.store.server import ServerRepo


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
        async with self.database.read() as db:
            server = ServerRepo(db)
            start = None
            if after is not None:
                # A cursor outside the list (another owner's, when one is asked for) is
                # the same 400 as an unknown id.
                find = partial(server.any_session, owner_id=owner_id)
                start = await anchor(find, "after", after)
            rows, more = await server.all_sessions(limit=limit, after=start, owner_id=owner_id)
        items = [OwnedSession(session, email) for session, email in rows]
        return Page(items, more, items[-1].session.id if more and items else None)

    async def delete_session(self, session_id: str) -> None:
        """Cancel the session's running turns, then delete it, whoever owns it."""
        async with self.database.read() as db:
            found = await ServerRepo(db).any_session(session_id)
        if found is None:
            raise SessionNotFound(session_id)
        owner = Caller(found.owner_id, principal=f"user:{found.owner_id}")
        await self.sessions.delete(owner, session_id)

    async def stats(self) -> ServerStats:
        users = await self.users.stats()
        async with self.database.read() as db:
            totals = await ServerRepo(db).totals()
        return ServerStats(
            users=users,
            sessions=totals.sessions,
            messages=totals.messages,
            turns_by_status=totals.turns_by_status,
            input_tokens=totals.input_tokens,
            output_tokens=totals.output_tokens,
            database_backend=self.database.backend,
            version=__version__,
        )


@dataclass(frozen=True)
class AdminService:
    """Built once at start-up (``roost.wiring``), like every service."""

    users: UserAdmin
    invites: InviteAdmin
    server: ServerAdmin
