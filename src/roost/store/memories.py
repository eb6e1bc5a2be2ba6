"""Memories, always seen through their owner, in one scope or several."""

from collections.abc import Sequence
from dataclasses import dataclass

from sqlalchemy import ColumnElement, and_, func, or_, select

from roost.errors import MemoryNotFound
from roost.store.models import Memory
from roost.store.owned import OwnedRepo
from roost.store.paging import cut

MAX_CANDIDATES = 1_000  # memories a keyword search scores, newest first


@dataclass(frozen=True)
class Scope:
    """Whose memories: a session's, a project's, or the user's own."""

    kind: str  # session, project, user
    session_id: str | None = None
    project_id: str | None = None

    def where(self) -> ColumnElement[bool]:
        if self.kind == "session":
            return and_(Memory.scope == "session", Memory.session_id == self.session_id)
        if self.kind == "project":
            return and_(Memory.scope == "project", Memory.project_id == self.project_id)
        return Memory.scope == "user"


class MemoryRepo(OwnedRepo[Memory]):
    model = Memory
    prefix = "mem"
    not_found = MemoryNotFound

    async def in_scope(self, scope: Scope, memory_id: str, *, for_update: bool = False) -> Memory:
        found = await self.find(memory_id, for_update=for_update)
        if found is None or not _belongs(found, scope):
            raise MemoryNotFound(memory_id)
        return found

    async def listed(
        self, scope: Scope, *, limit: int, before: str | None
    ) -> tuple[list[Memory], bool]:
        """Newest first."""
        query = self.owned().where(scope.where())
        if before is not None:
            query = query.where(Memory.id < before)
        query = query.order_by(Memory.id.desc()).limit(limit + 1)
        return cut((await self.db.execute(query)).scalars().all(), limit)

    async def count(self, scope: Scope) -> int:
        query = (
            select(func.count())
            .select_from(Memory)
            .where(Memory.owner_id == self.owner_id, scope.where())
        )
        return int(await self.db.scalar(query) or 0)

    async def count_all(self) -> int:
        """The owner's memories, in every scope."""
        query = select(func.count()).select_from(Memory).where(Memory.owner_id == self.owner_id)
        return int(await self.db.scalar(query) or 0)

    async def containing(self, scopes: Sequence[Scope], words: Sequence[str]) -> list[Memory]:
        """The newest memories of these scopes that contain any of the words."""
        if not scopes or not words:
            return []
        text = func.lower(Memory.content)
        query = (
            self.owned()
            .where(or_(*(scope.where() for scope in scopes)))
            .where(or_(*(text.contains(word, autoescape=True) for word in words)))
            .order_by(Memory.id.desc())
            .limit(MAX_CANDIDATES)
        )
        return list((await self.db.execute(query)).scalars().all())


def _belongs(memory: Memory, scope: Scope) -> bool:
    if memory.scope != scope.kind:
        return False
    if scope.kind == "session":
        return memory.session_id == scope.session_id
    if scope.kind == "project":
        return memory.project_id == scope.project_id
    return True
