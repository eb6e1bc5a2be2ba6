"""Logged runs, always seen through their owner: by id or the client's ``run_id``, and
filtered by agent, by ``log_meta`` entries and by time."""

from dataclasses import dataclass, field
from datetime import datetime

from sqlalchemy import or_

from roost import ids
from roost.errors import RunNotFound
from roost.store.models import Run
from roost.store.owned import OwnedRepo
from roost.store.paging import cut


@dataclass(frozen=True)
class RunFilter:
    agent: str | None = None  # a name or an agent id
    meta: dict[str, str] = field(default_factory=dict)  # log_meta entries, all must match
    since: datetime | None = None
    until: datetime | None = None


class RunRepo(OwnedRepo[Run]):
    model = Run
    prefix = "run"
    not_found = RunNotFound

    async def by_ref(self, ref: str) -> Run:
        """By the client's ``run_id`` (which is the id when the client gave none)."""
        query = self.owned().where(or_(Run.run_id == ref, Run.id == ref)).limit(1)
        found = (await self.db.execute(query)).scalars().first()
        if found is None:
            raise RunNotFound(ref)
        return found

    async def taken(self, run_id: str) -> bool:
        query = self.owned().where(Run.run_id == run_id).limit(1)
        return (await self.db.execute(query)).first() is not None

    async def listed(
        self, where: RunFilter, *, limit: int, before: str | None
    ) -> tuple[list[Run], bool]:
        """Newest first."""
        query = self.owned()
        if where.agent is not None:
            column = Run.agent_id if ids.is_valid("agent", where.agent) else Run.agent
            query = query.where(column == where.agent)
        for key, value in where.meta.items():
            query = query.where(Run.log_meta[key].as_string() == value)
        if where.since is not None:
            query = query.where(Run.created_at >= where.since)
        if where.until is not None:
            query = query.where(Run.created_at < where.until)
        if before is not None:
            query = query.where(Run.id < before)
        query = query.order_by(Run.id.desc()).limit(limit + 1)
        return cut((await self.db.execute(query)).scalars().all(), limit)
