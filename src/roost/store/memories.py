"""Memories, always seen through their owner, in one scope or several."""

from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

from sqlalchemy import ColumnElement, Select, and_, func, or_, select, text

from roost.errors import MemoryNotFound
from roost.store.models import Memory
from roost.store.owned import OwnedRepo
from roost.store.paging import cut
from roost.store.search_index import fts5_query, tsquery
from roost.store.vectors import memory_vectors


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


# What a memory row is, to the model (PostgreSQL's has its words besides).
COLUMNS = ", ".join(f"memories.{column.name}" for column in Memory.__table__.columns)


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

    def with_vectors(self, scopes: Sequence[Scope], model: str) -> Select[Memory]:
        """The memories of these scopes joined to their vectors from ``model``."""
        return (
            self.owned()
            .join(memory_vectors, memory_vectors.c.memory_id == Memory.id)
            .where(or_(*(scope.where() for scope in scopes)), memory_vectors.c.model == model)
        )

    async def matching(
        self, scopes: Sequence[Scope], words: Sequence[str], *, limit: int
    ) -> list[Memory]:
        """The ``limit`` memories of these scopes that best match any of the words, by
        the word index of migration 0018 (BM25 on SQLite, ``ts_rank_cd`` on PostgreSQL):
        the few that are then ranked (services/memory_ranking.py) out of however many."""
        if not scopes or not words:
            return []
        params: dict[str, Any] = {"owner": self.owner_id, "limit": limit}
        where = []
        for scope in scopes:
            if scope.kind == "session":
                where.append("(m.scope = 'session' AND m.session_id = :session_id)")
                params["session_id"] = scope.session_id
            elif scope.kind == "project":
                where.append("(m.scope = 'project' AND m.project_id = :project_id)")
                params["project_id"] = scope.project_id
            else:
                where.append("m.scope = 'user'")
        in_scopes = " OR ".join(where)
        # Written out rather than built: this runs before a turn's first token, and the
        # statement's text is then cached by the driver, not rebuilt each time.
        if self.db.get_bind().dialect.name == "sqlite":
            params["match"] = fts5_query(list(words), every=False)
            best = f"""SELECT m.id AS id, -bm25(memories_fts) AS score
                FROM memories_fts
                JOIN memory_search_keys k ON k.key = memories_fts.rowid
                JOIN memories m ON m.id = k.memory_id
                WHERE memories_fts MATCH :match AND m.owner_id = :owner AND ({in_scopes})"""  # noqa: S608
        else:
            params["terms"] = tsquery(list(words), every=False)
            best = f"""SELECT m.id AS id,
                    ts_rank_cd(m.search_vector, to_tsquery('simple', :terms)) AS score
                FROM memories m
                WHERE m.search_vector @@ to_tsquery('simple', :terms)
                  AND m.owner_id = :owner AND ({in_scopes})"""  # noqa: S608
        query = f"""SELECT {COLUMNS} FROM (
                {best} ORDER BY score DESC, m.id DESC LIMIT :limit
            ) best JOIN memories ON memories.id = best.id
            ORDER BY best.score DESC, memories.id DESC"""  # noqa: S608 (fixed text)
        rows = (await self.db.execute(select(Memory).from_statement(text(query)), params)).all()
        return [row[0] for row in rows]


def _belongs(memory: Memory, scope: Scope) -> bool:
    if memory.scope != scope.kind:
        return False
    if scope.kind == "session":
        return memory.session_id == scope.session_id
    if scope.kind == "project":
        return memory.project_id == scope.project_id
    return True
