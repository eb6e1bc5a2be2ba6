"""Memories, always seen through their owner, in one scope or several."""

from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

from sqlalchemy import ColumnElement, and_, column, func, literal_column, or_, select, table

from roost.errors import MemoryNotFound
from roost.store.models import Memory
from roost.store.owned import OwnedRepo
from roost.store.paging import cut
from roost.store.search_index import fts5_query, tsquery

# The word index of memories (migration 0018), outside the models.
FTS = table("memories_fts", column("rowid"))
KEYS = table("memory_search_keys", column("key"), column("memory_id"))


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

    async def matching(
        self, scopes: Sequence[Scope], words: Sequence[str], *, limit: int
    ) -> list[Memory]:
        """The ``limit`` memories of these scopes that best match any of the words, by
        the word index of migration 0018 (BM25 on SQLite, ``ts_rank_cd`` on PostgreSQL):
        the few that are then ranked (services/memory_ranking.py) out of however many."""
        if not scopes or not words:
            return []
        # The ids first (the index and a covering one), then the few rows themselves.
        ids = select(Memory.id).where(
            Memory.owner_id == self.owner_id, or_(*(scope.where() for scope in scopes))
        )
        if self.db.get_bind().dialect.name == "sqlite":
            fts: ColumnElement[Any] = literal_column("memories_fts")
            score: ColumnElement[float] = -func.bm25(fts)
            ids = (
                ids.join(KEYS, KEYS.c.memory_id == Memory.id)
                .join(FTS, FTS.c.rowid == KEYS.c.key)
                .where(fts.op("MATCH")(fts5_query(list(words), every=False)))
            )
        else:
            simple: ColumnElement[str] = literal_column("'simple'")  # as the index has it
            asked = func.to_tsquery(simple, tsquery(list(words), every=False))
            indexed = func.to_tsvector(simple, Memory.content)
            score = func.ts_rank_cd(indexed, asked)
            ids = ids.where(indexed.op("@@")(asked))
        best = (
            ids.add_columns(score.label("score"))
            .order_by(literal_column("score").desc(), Memory.id.desc())
            .limit(limit)
            .subquery()
        )
        query = (
            select(Memory)
            .join(best, best.c.id == Memory.id)
            .order_by(best.c.score.desc(), Memory.id.desc())
        )
        rows = (await self.db.execute(query)).all()
        return [row[0] for row in rows]


def _belongs(memory: Memory, scope: Scope) -> bool:
    if memory.scope != scope.kind:
        return False
    if scope.kind == "session":
        return memory.session_id == scope.session_id
    if scope.kind == "project":
        return memory.project_id == scope.project_id
    return True
