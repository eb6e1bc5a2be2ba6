"""A user's skills (Floyd): built-in ones copied in on first use, their own, and which
are active."""

from typing import Any

from roost import ids
from roost.clock import utcnow
from roost.engine.skills import BUILTINS, SkillText
from roost.errors import InvalidRequest
from roost.services.caller import Caller
from roost.services.recently_read import RecentlyRead
from roost.store.db import Database
from roost.store.models import Skill
from roost.store.skills import SkillRepo

FIELDS = ("name", "description", "instructions", "triggers", "enabled", "category", "icon")
MAX_SKILLS = 500
TEXTS_TTL_SECONDS = 5.0  # what a turn reads; another replica's change shows within this


class SkillService:
    def __init__(self, database: Database) -> None:
        self.database = database
        self._seeded: set[str] = set()
        # Every turn reads its owner's skills: kept a few seconds, dropped on any change here.
        self._texts: RecentlyRead[list[SkillText]] = RecentlyRead(TEXTS_TTL_SECONDS)

    async def all(self, caller: Caller, *, active_only: bool = False) -> list[Skill]:
        await self._seed(caller.user_id)
        async with self.database.read() as db:
            return await SkillRepo(db, caller).listed(limit=MAX_SKILLS, active_only=active_only)

    async def create(self, caller: Caller, fields: dict[str, Any]) -> Skill:
        skill = Skill(id=ids.new_id("skill"), **{k: v for k, v in fields.items() if k in FIELDS})
        async with self.database.write() as db:
            added = SkillRepo(db, caller).add(skill)
        self._texts.forget()
        return added

    async def update(self, caller: Caller, skill_id: str, fields: dict[str, Any]) -> Skill:
        async with self.database.write() as db:
            skill = await SkillRepo(db, caller).get(skill_id)
            for key, value in fields.items():
                if key in FIELDS:
                    setattr(skill, key, value)
            skill.updated_at = utcnow()
        self._texts.forget()
        return skill

    async def set_active(self, caller: Caller, skill_id: str, active: bool) -> Skill:
        async with self.database.write() as db:
            skill = await SkillRepo(db, caller).get(skill_id)
            skill.is_active = active
            skill.updated_at = utcnow()
        self._texts.forget()
        return skill

    async def get(self, caller: Caller, skill_id: str) -> Skill:
        async with self.database.read() as db:
            return await SkillRepo(db, caller).get(skill_id)

    async def delete(self, caller: Caller, skill_id: str) -> None:
        """A user's own skill goes; a built-in one stays (it would only come back)."""
        async with self.database.write() as db:
            repo = SkillRepo(db, caller)
            skill = await repo.get(skill_id, for_update=True)
            if skill.builtin_key is not None:
                raise InvalidRequest(
                    "Built-in skills cannot be deleted; disable one with enabled: false",
                    details={"skill_id": skill_id},
                )
            await repo.remove(skill)
        self._texts.forget()

    async def texts(self, owner_id: str) -> list[SkillText]:
        """The enabled skills of a turn's owner, as the engine reads them."""
        return await self._texts.get(owner_id, lambda: self._read_texts(owner_id))

    async def _read_texts(self, owner_id: str) -> list[SkillText]:
        await self._seed(owner_id)
        async with self.database.read() as db:
            rows = await SkillRepo(db, owner_id).enabled(limit=MAX_SKILLS)
            return [
                SkillText(s.name, s.instructions, tuple(s.triggers or ()), s.is_active)
                for s in rows
            ]

    async def _seed(self, owner_id: str) -> None:
        """Copy the built-in skills into a user's list, once (safe when racing)."""
        if owner_id in self._seeded:
            return
        async with self.database.write() as db:
            repo = SkillRepo(db, owner_id)
            for builtin in BUILTINS:
                await repo.add_builtin(
                    builtin.key,
                    {
                        "id": ids.new_id("skill"),
                        "name": builtin.name,
                        "description": builtin.description,
                        "instructions": builtin.instructions,
                        "triggers": list(builtin.triggers),
                        "category": builtin.category,
                        "icon": builtin.icon,
                        "enabled": True,
                        "is_active": False,
                    },
                )
        self._seeded.add(owner_id)
