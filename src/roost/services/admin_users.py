"""Admin: every account — list, create, change, (de)activate, delete, count; and the API
keys of any user, for the command line."""

from dataclasses import dataclass
from datetime import datetime

from sqlalchemy.ext.asyncio import AsyncSession

from roost import ids
from roost.clock import utcnow
from roost.config import Settings
from roost.errors import ApiKeyNotFound, Forbidden, InvalidRequest, UserNotFound
from roost.services.auth import AuthService, normalise_email
from roost.services.caller import Caller
from roost.services.cursors import anchor
from roost.services.passwords import check_strength, hash_password
from roost.services.turns import TurnService
from roost.store.api_keys import ApiKeyLookup
from roost.store.db import Database
from roost.store.logins import LoginRepo
from roost.store.models import ApiKey, User
from roost.store.paging import Page
from roost.store.turns import TurnRepo
from roost.store.users import LOCAL_USER_ID, UserRepo, email_taken


def is_local(user: User) -> bool:
    return user.id == LOCAL_USER_ID


@dataclass(frozen=True)
class UserFilter:
    q: str | None = None
    active: bool | None = None


@dataclass(frozen=True)
class UserChanges:
    """What an admin changes; None leaves a field as it is."""

    name: str | None = None
    email: str | None = None
    is_admin: bool | None = None
    is_active: bool | None = None
    password: str | None = None


@dataclass(frozen=True)
class UserStats:
    total: int
    active: int
    inactive: int
    admins: int
    created_last_7_days: int
    created_last_30_days: int
    logged_in_last_7_days: int


class UserAdmin:
    def __init__(
        self, database: Database, settings: Settings, auth: AuthService, turns: TurnService
    ) -> None:
        self.database = database
        self.settings = settings
        self.auth = auth
        self.turns = turns

    async def page(self, where: UserFilter, *, limit: int, after: str | None) -> Page[User]:
        """Newest accounts first; the local owner (the smallest id) comes last."""
        async with self.database.read() as db:
            if after is not None:
                await anchor(UserRepo(db).find, "after", after)
            items, more = await UserRepo(db).all_users(
                q=where.q, active=where.active, limit=limit, after=after
            )
        return Page(items, more, items[-1].id if more and items else None)

    async def get(self, user_id: str) -> User:
        async with self.database.read() as db:
            return await _found(db, user_id)

    async def by_email(self, email: str) -> User:
        address = normalise_email(email)
        async with self.database.read() as db:
            user = await UserRepo(db).by_email(address)
        if user is None:
            raise UserNotFound.by_email(address)
        return user

    async def create(self, email: str, password: str, name: str, *, is_admin: bool) -> User:
        address = normalise_email(email)
        name = name.strip() or address.split("@")[0]
        check_strength(password, self.settings.password_min_length, email=address, name=name)
        hashed = await hash_password(password)
        user = User(
            id=ids.new_id("usr"),
            email=address,
            name=name,
            password_hash=hashed,
            is_admin=is_admin,
            is_active=True,
            token_version=1,
        )
        async with self.database.write() as db:
            users = UserRepo(db)
            if await users.email_taken(address):
                raise email_taken()
            await users.add(user)
        return user

    async def update(self, caller: Caller | None, user_id: str, changes: UserChanges) -> User:
        """Apply an admin's changes. ``caller`` None is the operator at the server's console.

        A new password or a deactivation ends every login and token of the user at once.
        """
        current = await self.get(user_id)
        _refuse_unsafe(caller, current, changes)
        email = normalise_email(changes.email) if changes.email is not None else None
        hashed = None
        if changes.password is not None:
            check_strength(
                changes.password,
                self.settings.password_min_length,
                email=email or current.email or "",
                name=changes.name or current.name,
            )
            hashed = await hash_password(changes.password)
        async with self.database.write() as db:
            user = await _locked(db, caller, user_id)
            if email is not None and email != user.email:
                await UserRepo(db).change_email(user, email)
            _apply(user, changes, hashed)
            if hashed is not None or changes.is_active is False:
                await _end_logins(db, user)
        return user

    async def set_active(self, caller: Caller, user_id: str, active: bool) -> User:
        return await self.update(caller, user_id, UserChanges(is_active=active))

    async def delete(self, caller: Caller, user_id: str) -> None:
        """Delete a user and all they own: sessions, turns, keys, logins, settings.

        The account is deactivated first, so no new turn starts while the running
        ones are stopped.
        """
        user = await self.get(user_id)
        if is_local(user):
            raise InvalidRequest("The local owner cannot be deleted", details={"user_id": user_id})
        if user.id == caller.user_id:
            raise InvalidRequest("You cannot delete yourself", details={"user_id": user_id})
        await self.update(caller, user_id, UserChanges(is_active=False))
        owner = Caller(user_id, principal=f"user:{user_id}")
        for session_id in await self._busy_sessions(user_id):
            await self.turns.stop_all(owner, session_id)
        async with self.database.write() as db:
            await _locked(db, caller, user_id)
            await UserRepo(db).delete_any(user_id)

    async def stats(self) -> UserStats:
        """Counts of accounts; the local owner of single-user mode is not one."""
        async with self.database.read() as db:
            counts = await UserRepo(db).all_users_counts(utcnow())
        return UserStats(
            total=counts.total,
            active=counts.active,
            inactive=counts.total - counts.active,
            admins=counts.admins,
            created_last_7_days=counts.created_last_7_days,
            created_last_30_days=counts.created_last_30_days,
            logged_in_last_7_days=counts.logged_in_last_7_days,
        )

    # --- API keys of any user (the command line) ----------------------------------------

    async def create_key(
        self, email: str, name: str, scopes: list[str] | None, expires_at: datetime | None
    ) -> tuple[ApiKey, str]:
        """A key of the user's, as if made through their login: ``None`` grants all they
        hold, and no more than that."""
        user = await self.by_email(email)
        return await self.auth.create_key(_acting_as(user), name, expires_at, scopes)

    async def keys(self, email: str) -> list[ApiKey]:
        return await self.auth.keys(_acting_as(await self.by_email(email)))

    async def revoke_key(self, key_id: str) -> None:
        async with self.database.read() as db:
            owner = await ApiKeyLookup(db).owner_of(key_id) if ids.is_valid("key", key_id) else None
        if owner is None or not await self.auth.revoke_key(Caller(owner), key_id):
            raise ApiKeyNotFound(key_id)

    async def _busy_sessions(self, user_id: str) -> list[str]:
        async with self.database.read() as db:
            return await TurnRepo(db).busy_sessions(user_id)


def _acting_as(user: User) -> Caller:
    return Caller(user.id, user.is_admin, True, f"user:{user.id}")


def _refuse_unsafe(caller: Caller | None, user: User, changes: UserChanges) -> None:
    """Keep the local owner as it is, and keep every admin from locking themselves out."""
    if is_local(user) and (
        changes.email is not None
        or changes.password is not None
        or changes.is_admin is False
        or changes.is_active is False
    ):
        raise InvalidRequest(
            "The local owner has no login and stays an active admin; only its name changes",
            details={"user_id": user.id},
        )
    if caller is not None and caller.user_id == user.id:
        if changes.is_admin is False:
            raise InvalidRequest("You cannot remove your own admin role")
        if changes.is_active is False:
            raise InvalidRequest("You cannot deactivate yourself")


def _apply(user: User, changes: UserChanges, password_hash: str | None) -> None:
    if changes.name is not None and changes.name.strip():
        user.name = changes.name.strip()
    if changes.is_admin is not None:
        user.is_admin = changes.is_admin
    if changes.is_active is not None:
        user.is_active = changes.is_active
    if password_hash is not None:
        user.password_hash = password_hash
    user.updated_at = utcnow()


async def _found(db: AsyncSession, user_id: str) -> User:
    user = await UserRepo(db).get(user_id) if ids.is_valid("usr", user_id) else None
    if user is None:
        raise UserNotFound(user_id)
    return user


async def _locked(db: AsyncSession, caller: Caller | None, user_id: str) -> User:
    """The target row, locked with the caller's (in id order, so two admins demoting each
    other cannot deadlock); the second of them finds it is no longer an admin."""
    rows = await UserRepo(db).all_users_locked({user_id} | ({caller.user_id} if caller else set()))
    if caller is not None:
        me = rows.get(caller.user_id)
        if me is None or not me.is_admin or not me.is_active:
            raise Forbidden("Only an admin may do this")
    if user_id not in rows:
        raise UserNotFound(user_id)
    return rows[user_id]


async def _end_logins(db: AsyncSession, user: User) -> None:
    """Every access token (by version) and refresh token (by login) of the user stops now."""
    user.token_version += 1
    await LoginRepo(db, user.id).end_all(utcnow())
