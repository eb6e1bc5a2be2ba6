"""A user's skills (Floyd): built-in ones copied in on first use, their own, and which
are active."""

from typing import Any

from sqlalchemy import select

from roost import ids
from roost.clock import utcnow
from roost.engine.skills import BUILTINS, SkillText
from roost.errors import InvalidRequest, SkillNotFound
from roost.services.caller import Caller
from roost.store.db import Database, insert_or_ignore, uninterrupted
from roost.store.models import Skill

FIELDS = ("name", "description", "instructions", "triggers", "enabled", "category", "icon")
MAX_SKILLS = 500


class SkillService:
    def __init__(self, database: Database) -> None:
        self.database = database
        self._seeded: set[str] = set()

    async def all(self, caller: Caller, *, active_only: bool = False) -> list[Skill]:
        await self._seed(caller.user_id)
        async with self.database.read() as db:
            query = select(Skill).where(Skill.owner_id == caller.user_id)
            if active_only:
                query = query.where(Skill.is_active.is_(True), Skill.enabled.is_(True))
            query = query.order_by(Skill.builtin_key.is_(None), Skill.name, Skill.id)
            return list((await db.execute(query.limit(MAX_SKILLS))).scalars().all())

    async def create(self, caller: Caller, fields: dict[str, Any]) -> Skill:
        skill = Skill(
            id=ids.new_id("skill"),
            owner_id=caller.user_id,
            **{k: v for k, v in fields.items() if k in FIELDS},
        )
        async with self.database.write() as db:
            db.add(skill)
        return skill

    async def update(self, caller: Caller, skill_id: str, fields: dict[str, Any]) -> Skill:
        async with self.database.write() as db:
            skill = await self._owned(db, caller, skill_id)
            for key, value in fields.items():
                if key in FIELDS:
                    setattr(skill, key, value)
            skill.updated_at = utcnow()
        return skill

    async def set_active(self, caller: Caller, skill_id: str, active: bool) -> Skill:
        async with self.database.write() as db:
            skill = await self._owned(db, caller, skill_id)
            skill.is_active = active
            skill.updated_at = utcnow()
        return skill

    async def get(self, caller: Caller, skill_id: str) -> Skill:
        async with self.database.read() as db:
            return await self._owned(db, caller, skill_id)

    async def delete(self, caller: Caller, skill_id: str) -> None:
        """A user's own skill goes; a built-in one stays (it would only come back)."""
        async with self.database.write() as db:
            skill = await self._owned(db, caller, skill_id)
            if skill.builtin_key is not None:
                raise InvalidRequest(
                    "Built-in skills cannot be deleted; disable one with enabled: false",
                    details={"skill_id": skill_id},
                )
            await db.delete(skill)

    async def texts(self, owner_id: str) -> list[SkillText]:
        """The enabled skills of a turn's owner, as the engine reads them."""
        return await uninterrupted(self._texts(owner_id))

    async def _texts(self, owner_id: str) -> list[SkillText]:
        await self._seed(owner_id)
        async with self.database.read() as db:
            query = select(Skill).where(Skill.owner_id == owner_id, Skill.enabled.is_(True))
            rows = (await db.execute(query.order_by(Skill.name).limit(MAX_SKILLS))).scalars()
            return [
                SkillText(s.name, s.instructions, tuple(s.triggers or ()), s.is_active)
                for s in rows
            ]

    async def _owned(self, db: Any, caller: Caller, skill_id: str) -> Skill:
        skill: Skill | None = (
            await db.get(Skill, skill_id) if ids.is_valid("skill", skill_id) else None
        )
        if skill is None or skill.owner_id != caller.user_id:
            raise SkillNotFound(skill_id)
        return skill

    async def _seed(self, owner_id: str) -> None:
        """Copy the built-in skills into a user's list, once (safe when racing)."""
        if owner_id in self._seeded:
            return
        async with self.database.write() as db:
            for builtin in BUILTINS:
                await insert_or_ignore(
                    db,
                    Skill,
                    {
                        "id": ids.new_id("skill"),
                        "owner_id": owner_id,
                        "builtin_key": builtin.key,
                        "name": builtin.name,
                        "description": builtin.description,
                        "instructions": builtin.instructions,
                        "triggers": list(builtin.triggers),
                        "category": builtin.category,
                        "icon": builtin.icon,
                        "enabled": True,
                        "is_active": False,
                    },
                    conflict=["owner_id", "builtin_key"],
                )
        self._seeded.add(owner_id)
