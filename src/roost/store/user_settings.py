"""A user's own settings: one row per user, keyed by its owner."""

from sqlalchemy.ext.asyncio import AsyncSession

from roost.store.models import UserSettings
from roost.store.owned import Owner, owner_id_of


class UserSettingsRepo:
    def __init__(self, db: AsyncSession, owner: Owner | str) -> None:
        self.db = db
        self.owner_id = owner_id_of(owner)

    async def get(self) -> UserSettings | None:
        """The owner's settings, or None while they have changed nothing."""
        return await self.db.get(UserSettings, self.owner_id)

    async def get_or_add(self) -> UserSettings:
        row = await self.get()
        if row is None:
            row = UserSettings(owner_id=self.owner_id)
            self.db.add(row)
        return row
