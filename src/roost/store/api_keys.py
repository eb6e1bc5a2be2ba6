"""API keys: a user's, reached through their owner; and, to authenticate one, by the
hash of its secret before anyone is known."""

from datetime import datetime

from sqlalchemy import select, update
from sqlalchemy.ext.asyncio import AsyncSession

from roost import ids
from roost.errors import ApiKeyNotFound
from roost.store.models import ApiKey
from roost.store.owned import OwnedRepo

LIST_LIMIT = 500


class ApiKeyRepo(OwnedRepo[ApiKey]):
    model = ApiKey
    prefix = "key"
    not_found = ApiKeyNotFound

    async def live(self) -> list[ApiKey]:
        """The owner's keys not revoked, newest first."""
        query = self.owned().where(ApiKey.revoked_at.is_(None))
        query = query.order_by(ApiKey.id.desc()).limit(LIST_LIMIT)
        return list((await self.db.execute(query)).scalars().all())

    async def revoke(self, key_id: str, now: datetime) -> bool:
        """Revoke the owner's key; False when there is no such live key of theirs. One
        statement, so of two revokes at once the second finds it revoked."""
        if not ids.is_valid(self.prefix, key_id):
            return False
        result = await self.db.execute(
            update(ApiKey)
            .where(
                ApiKey.id == key_id,
                ApiKey.owner_id == self.owner_id,
                ApiKey.revoked_at.is_(None),
            )
            .values(revoked_at=now)
        )
        return bool(result.rowcount)  # type: ignore[attr-defined]


class ApiKeyLookup:
    """Keys by their secret's hash, whoever owns them: the step from a presented key to
    its owner, so it knows nobody yet."""

    def __init__(self, db: AsyncSession) -> None:
        self.db = db

    async def by_hash(self, key_hash: str) -> ApiKey | None:
        query = select(ApiKey).where(ApiKey.key_hash == key_hash)
        return (await self.db.execute(query)).scalar_one_or_none()

    async def touch(self, key_id: str, now: datetime) -> None:
        """Note when a key was last used."""
        await self.db.execute(update(ApiKey).where(ApiKey.id == key_id).values(last_used_at=now))

    async def owner_of(self, key_id: str) -> str | None:
        """The id of the key's owner, for the admin's command line that names only a key."""
        return await self.db.scalar(select(ApiKey.user_id).where(ApiKey.id == key_id))
