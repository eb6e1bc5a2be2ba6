"""Agents as a user sees them: their own and the server's (``owner_id`` NULL), their
own first where both have a name; and the versions every change leaves."""

from collections.abc import Sequence

from sqlalchemy import Select, or_, select
from sqlalchemy.ext.asyncio import AsyncSession

from roost import ids
from roost.store.models import Agent, AgentVersion
from roost.store.paging import cut


class AgentRepo:
    def __init__(self, db: AsyncSession, owner_id: str) -> None:
        self.db = db
        self.owner_id = owner_id

    def visible(self) -> Select[Agent]:
        """The user's agents and the server's: the start of every query for a user."""
        return select(Agent).where(or_(Agent.owner_id == self.owner_id, Agent.owner_id.is_(None)))

    async def find(self, ref: str, *, for_update: bool = False) -> Agent | None:
        """By id, else by name (the user's own before the server's)."""
        if ids.is_valid("agent", ref):
            query = self.visible().where(Agent.id == ref)
        else:
            query = (
                self.visible()
                .where(Agent.name == ref)
                .order_by(Agent.owner_id.is_(None))  # own first
                .limit(1)
            )
        if for_update:
            query = query.with_for_update()
        return (await self.db.execute(query)).scalars().first()

    async def names(self) -> list[str]:
        query = select(Agent.name).where(
            or_(Agent.owner_id == self.owner_id, Agent.owner_id.is_(None))
        )
        return sorted(set((await self.db.execute(query)).scalars()))

    async def taken(self, name: str, *, shared: bool, besides: str | None = None) -> bool:
        """Whether the user's (or, ``shared``, the server's) agents have this name."""
        owner = Agent.owner_id.is_(None) if shared else Agent.owner_id == self.owner_id
        query = select(Agent.id).where(owner, Agent.name == name)
        if besides is not None:
            query = query.where(Agent.id != besides)
        return (await self.db.execute(query.limit(1))).first() is not None

    async def listed(self, *, limit: int, after: str | None = None) -> tuple[list[Agent], bool]:
        """By name, then id (the user's and the server's may share a name)."""
        query = self.visible()
        if after is not None:
            anchor = await self.db.get(Agent, after) if ids.is_valid("agent", after) else None
            if anchor is not None:
                query = query.where(
                    or_(
                        Agent.name > anchor.name,
                        (Agent.name == anchor.name) & (Agent.id > anchor.id),
                    )
                )
        query = query.order_by(Agent.name, Agent.id).limit(limit + 1)
        return cut((await self.db.execute(query)).scalars().all(), limit)

    async def versions(
        self, agent_id: str, *, limit: int, before: int | None = None
    ) -> tuple[Sequence[AgentVersion], bool]:
        """Newest first."""
        query = select(AgentVersion).where(AgentVersion.agent_id == agent_id)
        if before is not None:
            query = query.where(AgentVersion.version < before)
        query = query.order_by(AgentVersion.version.desc()).limit(limit + 1)
        return cut((await self.db.execute(query)).scalars().all(), limit)


async def version_of(db: AsyncSession, agent_id: str, version: int) -> AgentVersion | None:
    return await db.get(AgentVersion, (agent_id, version))


async def shared_agents(db: AsyncSession) -> list[Agent]:
    query = select(Agent).where(Agent.owner_id.is_(None))
    return list((await db.execute(query)).scalars().all())
