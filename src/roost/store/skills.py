"""A user's skills, always seen through their owner."""

from typing import Any

from roost.errors import SkillNotFound
from roost.store.db import insert_or_ignore
from roost.store.models import Skill
from roost.store.owned import OwnedRepo


class SkillRepo(OwnedRepo[Skill]):
    model = Skill
    prefix = "skill"
    not_found = SkillNotFound

    async def listed(self, *, limit: int, active_only: bool = False) -> list[Skill]:
        """Built-in skills first, then by name."""
        query = self.owned()
        if active_only:
            query = query.where(Skill.is_active.is_(True), Skill.enabled.is_(True))
        query = query.order_by(Skill.builtin_key.is_(None), Skill.name, Skill.id).limit(limit)
        return list((await self.db.execute(query)).scalars().all())

    async def enabled(self, *, limit: int) -> list[Skill]:
        query = self.owned().where(Skill.enabled.is_(True)).order_by(Skill.name).limit(limit)
        return list((await self.db.execute(query)).scalars().all())

    async def add_builtin(self, key: str, values: dict[str, Any]) -> bool:
        """Copy a built-in skill in unless the owner has it already (safe when racing)."""
        values = {**values, "owner_id": self.owner_id, "builtin_key": key}
        return await insert_or_ignore(self.db, Skill, values, conflict=["owner_id", "builtin_key"])
