"""Logins: a user's, one per device, and the rotating refresh tokens chained in each.

A login is reached through its owner (an access token names both); a refresh token is
looked up by the hash of its secret before anyone is known, and brings its login."""

from datetime import datetime

from sqlalchemy import select, update
from sqlalchemy.ext.asyncio import AsyncSession

from roost.errors import NotFound
from roost.store.models import LoginSession, RefreshToken
from roost.store.owned import OwnedRepo


class LoginRepo(OwnedRepo[LoginSession]):
    model = LoginSession
    prefix = "lgn"
    # A login's id comes from a signed token, never from a path: services answer a
    # missing one with 401, so this is only the repository's contract.
    not_found = NotFound

    async def end(self, login_id: str, now: datetime) -> None:
        """End the owner's login: every token of it stops working."""
        await self.db.execute(
            update(LoginSession)
            .where(LoginSession.id == login_id, LoginSession.owner_id == self.owner_id)
            .values(revoked_at=now)
        )

    async def end_all(self, now: datetime) -> None:
        """End every login of the owner that is still going."""
        await self.db.execute(
            update(LoginSession)
            .where(LoginSession.owner_id == self.owner_id, LoginSession.revoked_at.is_(None))
            .values(revoked_at=now)
        )


class RefreshTokens:
    def __init__(self, db: AsyncSession) -> None:
        self.db = db

    async def by_hash(
        self, token_hash: str, *, for_update: bool = False
    ) -> tuple[RefreshToken, LoginSession] | None:
        """The refresh token with this hash, and the login it belongs to; ``for_update``
        locks both, so that two uses of one token at once are one use and one reuse."""
        query = (
            select(RefreshToken, LoginSession)
            .join(LoginSession, LoginSession.id == RefreshToken.login_id)
            .where(RefreshToken.token_hash == token_hash)
        )
        if for_update:
            query = query.with_for_update()
        row = (await self.db.execute(query)).one_or_none()
        return None if row is None else (row[0], row[1])

    def add(self, token: RefreshToken) -> None:
        self.db.add(token)
