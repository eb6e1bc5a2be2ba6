"""Users: the owners of everything else.

An account is not a row someone owns: a service reaches its caller's own account with
``UserRepo.get(caller.user_id)``. The methods named ``all_users…`` reach every account,
and only the admin services call them.
"""

from collections.abc import Collection
from datetime import datetime, timedelta
from typing import Any, NamedTuple

from sqlalchemy import case, delete, func, or_, select, text
from sqlalchemy.ext.asyncio import AsyncSession

from roost import ids
from roost.errors import AlreadyExists
from roost.store.db import flush_unique, insert_or_ignore
from roost.store.models import User
from roost.store.paging import cut

# The owner of everything in single-user mode: the zero id sorts before all others.
LOCAL_USER_ID = "usr_00000000000000000000000000"
# Registrations queue on this PostgreSQL advisory lock, so that of two at once on an
# empty server only one becomes the first user, the admin.
REGISTRATION_LOCK = 7_401_163_002


class UserCounts(NamedTuple):
    total: int
    active: int
    admins: int
    created_last_7_days: int
    created_last_30_days: int
    logged_in_last_7_days: int


async def ensure_local_user(db: AsyncSession) -> None:
    """Create the single-user mode owner once, even with replicas starting together."""
    await insert_or_ignore(
        db,
        User,
        {"id": LOCAL_USER_ID, "name": "local", "is_admin": True, "is_active": True},
        conflict=["id"],
    )


def email_taken() -> AlreadyExists:
    return AlreadyExists("An account with that email exists", details={"field": "email"})


class UserRepo:
    def __init__(self, db: AsyncSession) -> None:
        self.db = db

    async def get(self, user_id: str) -> User | None:
        return (await self.db.execute(select(User).where(User.id == user_id))).scalar_one_or_none()

    async def find(self, user_id: str) -> User | None:
        """The account with this id; None for an unknown or malformed one (a cursor)."""
        return await self.get(user_id) if ids.is_valid("usr", user_id) else None

    async def by_email(self, email: str) -> User | None:
        query = select(User).where(User.email == email)
        return (await self.db.execute(query)).scalar_one_or_none()

    async def email_taken(self, email: str) -> bool:
        return await self.db.scalar(select(User.id).where(User.email == email)) is not None

    async def add(self, user: User) -> None:
        """A new account; its email taken (also at the same moment) is a 409."""
        self.db.add(user)
        await flush_unique(self.db, email_taken())

    async def change_email(self, user: User, email: str) -> None:
        """Give the account another email; one another account has is a 409."""
        if await self.email_taken(email):
            raise email_taken()
        user.email = email
        await flush_unique(self.db, email_taken())

    async def lock_registrations(self) -> None:
        """Hold the registration lock to the end of the transaction (PostgreSQL; SQLite's
        writers queue already)."""
        if self.db.get_bind().dialect.name == "postgresql":
            await self.db.execute(text(f"SELECT pg_advisory_xact_lock({REGISTRATION_LOCK})"))

    async def any_account(self) -> bool:
        """Whether anyone has registered (the local owner has no email, and does not count)."""
        return bool(await self.db.scalar(select(func.count()).where(User.email.is_not(None))))

    # --- every account: the admin services only ----------------------------------------

    async def all_users(
        self, *, q: str | None, active: bool | None, limit: int, after: str | None
    ) -> tuple[list[User], bool]:
        """Every account whose email or name holds ``q``, newest first, after ``after``."""
        query = select(User)
        if q:
            needle = q.lower()
            query = query.where(
                or_(
                    func.lower(User.email).contains(needle, autoescape=True),
                    func.lower(User.name).contains(needle, autoescape=True),
                )
            )
        if active is not None:
            query = query.where(User.is_active.is_(active))
        if after is not None:
            query = query.where(User.id < after)
        rows = await self.db.execute(query.order_by(User.id.desc()).limit(limit + 1))
        return cut(rows.scalars().all(), limit)

    async def all_users_locked(self, user_ids: Collection[str]) -> dict[str, User]:
        """These accounts, locked for update in id order (so two transactions locking
        overlapping sets cannot deadlock)."""
        query = select(User).where(User.id.in_(sorted(user_ids))).order_by(User.id)
        rows = await self.db.execute(query.with_for_update())
        return {user.id: user for user in rows.scalars().all()}

    async def delete_any(self, user_id: str) -> None:
        """Delete an account; what it owns goes with it (foreign keys cascade)."""
        await self.db.execute(delete(User).where(User.id == user_id))

    async def all_users_counts(self, now: datetime) -> UserCounts:
        """Counts over every account but the local owner of single-user mode."""

        def count(condition: Any) -> Any:
            return func.coalesce(func.sum(case((condition, 1), else_=0)), 0)

        query = select(
            func.count(),
            count(User.is_active.is_(True)),
            count(User.is_admin.is_(True)),
            count(User.created_at >= now - timedelta(days=7)),
            count(User.created_at >= now - timedelta(days=30)),
            count(User.last_login_at >= now - timedelta(days=7)),
        ).where(User.id != LOCAL_USER_ID)
        row = (await self.db.execute(query)).one()
        return UserCounts(*(int(value) for value in row))
