"""Sessions, seen through their owner; the turn engine alone reaches them by id."""

from dataclasses import dataclass
from typing import Any, Literal

from sqlalchemy import Select, func, or_, select, tuple_, update
from sqlalchemy.ext.asyncio import AsyncSession

from roost.clock import utcnow
from roost.errors import SessionNotFound
from roost.store.db import insert_or_ignore
from roost.store.models import Session
from roost.store.owned import OwnedRepo
from roost.store.paging import cut

SessionOrder = Literal["listing", "recent"]


@dataclass(frozen=True)
class SessionFilter:
    folder: str | None = None
    archived: bool | None = None
    pinned: bool | None = None
    project_id: str | None = None
    q: str | None = None


class SessionRepo(OwnedRepo[Session]):
    model = Session
    prefix = "ses"
    not_found = SessionNotFound

    async def page(
        self,
        where: SessionFilter,
        *,
        limit: int,
        order: SessionOrder = "listing",
        after: Session | None = None,
        before: Session | None = None,
    ) -> tuple[list[Session], bool]:
        """Up to ``limit`` sessions following ``after`` (or preceding ``before``) in ``order``,
        and whether more lie beyond them in that direction.

        Listing order is pinned first, then most recently updated; recent order is by
        last activity alone. Rows come back in that order either way.
        """
        key = self._order_key(order)
        query = self._filtered(where)
        if before is not None:
            query = query.where(tuple_(*key) > tuple_(*self._key_of(before, order)))
            query = query.order_by(*(column.asc() for column in key)).limit(limit + 1)
            nearest, more = cut((await self.db.execute(query)).scalars().all(), limit)
            return nearest[::-1], more
        if after is not None:
            query = query.where(tuple_(*key) < tuple_(*self._key_of(after, order)))
        query = query.order_by(*(column.desc() for column in key)).limit(limit + 1)
        return cut((await self.db.execute(query)).scalars().all(), limit)

    async def delegated_by(self, turn_id: str) -> int:
        """How many sessions the turn delegated to."""
        query = select(func.count()).select_from(
            self.owned().where(Session.delegated_by == turn_id).subquery()
        )
        return int((await self.db.execute(query)).scalar_one())

    async def made_by(self, turn_id: str, *, limit: int = 100) -> list[Session]:
        """The sessions the turn delegated to."""
        query = self.owned().where(Session.delegated_by == turn_id).limit(limit)
        return list((await self.db.execute(query)).scalars().all())

    async def delegated(
        self, *, limit: int, before: str | None = None
    ) -> tuple[list[Session], bool]:
        """The owner's delegated sessions, newest first."""
        query = self.owned().where(Session.delegated_by.is_not(None))
        if before is not None:
            query = query.where(Session.id < before)
        query = query.order_by(Session.id.desc()).limit(limit + 1)
        return cut((await self.db.execute(query)).scalars().all(), limit)

    async def folders(self, *, limit: int, after: str | None = None) -> tuple[list[str], bool]:
        """Folder names in use, alphabetically, after ``after``."""
        query = (
            self.owned()
            .with_only_columns(Session.folder)
            .where(Session.folder.is_not(None))
            .distinct()
            .order_by(Session.folder)
            .limit(limit + 1)
        )
        if after is not None:
            query = query.where(Session.folder > after)
        names = [name for name in (await self.db.execute(query)).scalars().all() if name]
        return cut(names, limit)

    async def find_for_workspace(self, path: str) -> Session | None:
        """The session get-or-create made for ``path``, else the latest one working there."""
        query = (
            self.owned()
            .where(
                Session.working_directory == path,
                or_(Session.workspace_key == path, Session.archived.is_(False)),
            )
            .order_by((Session.workspace_key == path).desc(), Session.last_activity_at.desc())
            .limit(1)
        )
        return (await self.db.execute(query)).scalar_one_or_none()

    async def claim_workspace(self, values: dict[str, Any], path: str) -> tuple[Session, bool]:
        """Create the session keyed to ``path`` unless a racing call already has."""
        values = {**values, "owner_id": self.owner_id, "workspace_key": path}
        created = await insert_or_ignore(
            self.db, Session, values, conflict=["owner_id", "workspace_key"]
        )
        query = self.owned().where(Session.workspace_key == path)
        return (await self.db.execute(query)).scalar_one(), created

    def _filtered(self, where: SessionFilter) -> Select[Session]:
        # The sessions of logged runs are reached through their runs, not listed.
        query = self.owned().where(Session.kind == "chat")
        if where.folder is not None:
            query = query.where(Session.folder == where.folder)
        if where.archived is not None:
            query = query.where(Session.archived.is_(where.archived))
        if where.pinned is not None:
            query = query.where(Session.pinned.is_(where.pinned))
        if where.project_id is not None:
            query = query.where(Session.project_id == where.project_id)
        if where.q:
            needle = where.q.lower()
            query = query.where(
                or_(
                    func.lower(Session.title).contains(needle, autoescape=True),
                    func.lower(Session.custom_title).contains(needle, autoescape=True),
                )
            )
        return query

    @staticmethod
    def _order_key(order: SessionOrder) -> list[Any]:
        if order == "listing":
            return [Session.pinned, Session.updated_at, Session.id]
        return [Session.last_activity_at, Session.id]

    @staticmethod
    def _key_of(session: Session, order: SessionOrder) -> list[Any]:
        if order == "listing":
            return [session.pinned, session.updated_at, session.id]
        return [session.last_activity_at, session.id]


class UncheckedSessions:
    """Sessions by id, with no owner check: for the turn engine, which updates the
    session of a turn already authorised (or found by the engine itself)."""

    def __init__(self, db: AsyncSession) -> None:
        self.db = db

    async def get(self, session_id: str) -> Session | None:
        return await self.db.get(Session, session_id)

    async def uncount_messages(self, session_id: str, removed: int) -> None:
        """Messages went in a statement of their own: the count follows in the store."""
        await self.db.execute(
            update(Session)
            .where(Session.id == session_id)
            .values(message_count=Session.message_count - removed)
        )

    async def add_usage(self, session_id: str, input_tokens: int, output_tokens: int) -> None:
        """Tokens spent elsewhere on the session's behalf (a delegated child's)."""
        await self.db.execute(
            update(Session)
            .where(Session.id == session_id)
            .values(
                input_tokens=Session.input_tokens + input_tokens,
                output_tokens=Session.output_tokens + output_tokens,
            )
        )

    async def count_tasks(self, session_id: str, change: int) -> None:
        """Tasks came or went: the session's count follows in the store."""
        await self.db.execute(
            update(Session)
            .where(Session.id == session_id)
            .values(task_count=Session.task_count + change)
        )

    async def turn_ended(self, session_id: str, input_tokens: int, output_tokens: int) -> None:
        """A turn ended: the session is idle again and counts what the turn spent."""
        now = utcnow()
        await self.db.execute(
            update(Session)
            .where(Session.id == session_id)
            .values(
                status="idle",
                input_tokens=Session.input_tokens + input_tokens,
                output_tokens=Session.output_tokens + output_tokens,
                last_activity_at=now,
                updated_at=now,
            )
        )

    async def set_idle(self, session_id: str) -> None:
        await self.db.execute(update(Session).where(Session.id == session_id).values(status="idle"))
