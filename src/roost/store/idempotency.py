"""Idempotency keys, each one user's: a key is only ever looked up among its owner's."""

from datetime import datetime
from typing import Any

from sqlalchemy import delete, update
from sqlalchemy.ext.asyncio import AsyncSession

from roost.store.db import insert_or_ignore
from roost.store.models import IdempotencyKey
from roost.store.owned import Owner, owner_id_of


class IdempotencyRepo:
    def __init__(self, db: AsyncSession, owner: Owner | str) -> None:
        self.db = db
        self.owner_id = owner_id_of(owner)

    async def get(self, key: str) -> IdempotencyKey | None:
        return await self.db.get(IdempotencyKey, (self.owner_id, key))

    async def claim(self, key: str, **values: Any) -> IdempotencyKey | None:
        """Take the key with a new row of ``values``: None when it was free, else the row
        that holds it, also one another request added at the same moment."""
        row = {**values, "owner_id": self.owner_id, "key": key}
        if await insert_or_ignore(self.db, IdempotencyKey, row, conflict=["owner_id", "key"]):
            return None
        return await self.get(key)

    async def set(self, key: str, **values: Any) -> None:
        await self.db.execute(
            update(IdempotencyKey)
            .where(IdempotencyKey.owner_id == self.owner_id, IdempotencyKey.key == key)
            .values(**values)
        )

    async def forget_running(self, key: str) -> None:
        """Free a key whose request failed; a finished one stays."""
        await self.db.execute(
            delete(IdempotencyKey).where(
                IdempotencyKey.owner_id == self.owner_id,
                IdempotencyKey.key == key,
                IdempotencyKey.state == "running",
            )
        )


async def expire_idempotency_keys(db: AsyncSession, before: datetime) -> None:
    """Every user's keys made before ``before``: kept for a while, then forgotten."""
    await db.execute(delete(IdempotencyKey).where(IdempotencyKey.created_at < before))
