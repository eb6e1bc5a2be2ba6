"""Memories (Oqto's mmry): facts kept for later, in a session's, a project's or the
user's scope. Users keep them through the API; agents through the ``remember``,
``recall`` and ``forget`` tools; and at the start of a turn the memories that best
match the user's message join its context, under a token budget.
"""

import logging
from dataclasses import dataclass
from typing import Any

from sqlalchemy.ext.asyncio import AsyncSession

from roost import ids
from roost.clock import utcnow
from roost.engine.providers.base import ProviderError
from roost.engine.tools.registry import Tool, ToolContext, ToolError
from roost.errors import ApiError, InvalidRequest
from roost.services.caller import Caller
from roost.services.embedder import Embedder
from roost.services.memory_ranking import Hit, fuse, rank, words
from roost.services.projects import ProjectService
from roost.services.recently_read import RecentlyRead
from roost.store.db import Database
from roost.store.memories import MemoryRepo, Scope
from roost.store.models import Memory, Session
from roost.store.paging import Page
from roost.store.sessions import SessionRepo, UncheckedSessions
from roost.store.vectors import VectorIndex, memory_vectors

log = logging.getLogger("roost.memories")

COUNT_TTL_SECONDS = 5.0
MAX_CONTENT = 10_000
MAX_TAGS = 20
SCOPES = ("session", "project", "user")
RECALL_CANDIDATES = 50  # best-matching memories a turn's recall considers
RECALL_INTRO = "What you remember (from earlier sessions and notes) that may bear on this:"


@dataclass(frozen=True)
class Recalled:
    """The memories that joined a turn, as instructions, and how many."""

    instructions: str | None
    count: int


class MemoryService:
    def __init__(
        self,
        database: Database,
        projects: ProjectService,
        embedder: Embedder,
        vectors: VectorIndex,
    ) -> None:
        self.database = database
        self.projects = projects
        self.embedder = embedder
        self.vectors = vectors
        # Every turn asks whether its owner has memories at all: kept a few seconds, and
        # dropped on any change here, so that a user without any costs a turn no read.
        self._counts: RecentlyRead[int] = RecentlyRead(COUNT_TTL_SECONDS)

    async def session_scope(self, caller: Caller, session_id: str) -> Scope:
        async with self.database.read() as db:
            session = await SessionRepo(db, caller).get(session_id)
        return Scope("session", session_id=session.id)

    async def project_scope(self, caller: Caller, project_id: str | None) -> Scope:
        """The project named, else the caller's active one (Oqto's workspace)."""
        project = await self.projects.workspace(caller, project_id)
        return Scope("project", project_id=project.id)

    async def page(
        self, caller: Caller, scope: Scope, *, limit: int, before: str | None
    ) -> Page[Memory]:
        async with self.database.read() as db:
            items, more = await MemoryRepo(db, caller).listed(scope, limit=limit, before=before)
        return Page(items, more, items[-1].id if more and items else None)

    async def add(
        self,
        caller: Caller,
        scope: Scope,
        content: str,
        *,
        tags: list[str] | None = None,
        source: str = "user",
        importance: float = 0.5,
    ) -> Memory:
        memory = Memory(
            id=ids.new_id("mem"),
            scope=scope.kind,
            session_id=scope.session_id,
            project_id=scope.project_id,
            content=content,
            tags=_tags(tags),
            source=source,
            importance=importance,
        )
        vector = await self._vector_of(content)
        async with self.database.write() as db:
            MemoryRepo(db, caller).add(memory)
            await db.flush()
            await self._keep_vector(db, memory, vector)
        self._counts.forget(caller.user_id)
        return memory

    async def get(self, caller: Caller, scope: Scope, memory_id: str) -> Memory:
        async with self.database.read() as db:
            return await MemoryRepo(db, caller).in_scope(scope, memory_id)

    async def update(
        self, caller: Caller, scope: Scope, memory_id: str, changes: dict[str, Any]
    ) -> Memory:
        vector = await self._vector_of(changes["content"]) if changes.get("content") else None
        async with self.database.write() as db:
            memory = await MemoryRepo(db, caller).in_scope(scope, memory_id, for_update=True)
            for key in ("content", "importance"):
                if changes.get(key) is not None:
                    setattr(memory, key, changes[key])
            await self._keep_vector(db, memory, vector)
            if "tags" in changes:
                memory.tags = _tags(changes["tags"])
            memory.updated_at = utcnow()
        return memory

    async def delete(self, caller: Caller, scope: Scope, memory_id: str) -> None:
        async with self.database.write() as db:
            repo = MemoryRepo(db, caller)
            await repo.remove(await repo.in_scope(scope, memory_id, for_update=True))
        self._counts.forget(caller.user_id)

    async def search(
        self,
        caller: Caller,
        scopes: list[Scope],
        query: str,
        *,
        limit: int,
        tags: list[str] | None = None,
    ) -> list[Hit]:
        """The memories of these scopes that best match the query: by its words, and by
        its meaning when an embedding model is configured (the two fused)."""
        asked = await self._vector_of(query)
        model = self.embedder.model
        wanted = max(limit, 50)
        deep = wanted * (4 if tags else 1)  # tags are checked after
        async with self.database.read() as db:
            repo = MemoryRepo(db, caller)
            by_index = await repo.matching(scopes, words(query), limit=deep)
            similar = []
            if asked is not None and model is not None and scopes:
                found = await self.vectors.nearest(
                    db,
                    repo.with_vectors(scopes, model),
                    memory_vectors,
                    asked,
                    limit=deep,
                    newest_first=Memory.id.desc(),
                )
                similar = [(row[0], similarity) for row, similarity in found if similarity > 0]
        if tags:
            needed = set(tags)
            by_index = [m for m in by_index if needed <= set(m.tags or [])]
            similar = [(m, s) for m, s in similar if needed <= set(m.tags or [])]
        by_words = rank(query, by_index, limit=wanted)
        if asked is None:
            return by_words[:limit]
        return fuse(by_words, similar[:wanted], limit=limit)

    async def _vector_of(self, text: str) -> list[float] | None:
        """The text's vector; none without a model, or when the model fails (a memory is
        kept all the same, found by its words, and embedded at the next start)."""
        try:
            vectors = await self.embedder.vectors([text])
        except (ProviderError, ApiError) as failure:
            log.warning("embedding failed", extra={"error": str(failure)})
            return None
        return vectors[0] if vectors else None

    async def _keep_vector(
        self, db: AsyncSession, memory: Memory, vector: list[float] | None
    ) -> None:
        if vector is not None and self.embedder.model is not None:
            row = (memory.id, memory.owner_id, self.embedder.model, vector)
            await self.vectors.put(db, memory_vectors, [row])

    async def stores(self, caller: Caller, session_id: str) -> list[dict[str, Any]]:
        """The scopes a session's memories live in, with how many each holds."""
        async with self.database.read() as db:
            session = await SessionRepo(db, caller).get(session_id)
            repo = MemoryRepo(db, caller)
            scopes = _scopes_of(session)
            return [
                {
                    "name": scope.kind,
                    "scope": scope.kind,
                    "session_id": scope.session_id,
                    "project_id": scope.project_id,
                    "count": await repo.count(scope),
                }
                for scope in scopes
            ]

    async def recall_for_turn(
        self, session: Session, message: str, *, budget_tokens: int
    ) -> Recalled:
        """The memories of the session, its project and its owner that best match the
        user's message, as many as fit ``budget_tokens`` (about four characters each)."""
        owner_id = session.owner_id
        if budget_tokens <= 0 or not words(message):
            return Recalled(None, 0)
        if not await self._counts.get(owner_id, lambda: self._count(owner_id)):
            return Recalled(None, 0)
        async with self.database.read() as db:
            found = await MemoryRepo(db, owner_id).matching(
                _scopes_of(session), words(message), limit=RECALL_CANDIDATES
            )
        chosen: list[str] = []
        left = budget_tokens * 4
        for hit in rank(message, found, limit=RECALL_CANDIDATES):
            line = f"- {hit.memory.content}"
            if len(line) > left:
                break
            chosen.append(line)
            left -= len(line) + 1
        if not chosen:
            return Recalled(None, 0)
        return Recalled("\n".join([RECALL_INTRO, *chosen]), len(chosen))

    def tools(self) -> list[Tool]:
        """``remember``, ``recall`` and ``forget``, over this service."""
        return [
            Tool("remember", REMEMBER_HELP, REMEMBER_SCHEMA, self._remember),
            Tool("recall", RECALL_HELP, RECALL_SCHEMA, self._recall),
            Tool("forget", FORGET_HELP, FORGET_SCHEMA, self._forget),
        ]

    async def _remember(self, args: dict[str, Any], context: ToolContext) -> dict[str, Any]:
        content, scope_kind = args.get("content"), args.get("scope", "user")
        if not isinstance(content, str) or not content.strip() or len(content) > MAX_CONTENT:
            raise ToolError(f"content must be the fact to remember, up to {MAX_CONTENT} characters")
        if scope_kind not in SCOPES:
            raise ToolError("scope must be session, project or user")
        caller = Caller(context.owner_id)
        scope = await self._tool_scope(context, scope_kind)
        try:
            memory = await self.add(
                caller, scope, content.strip(), tags=args.get("tags"), source="agent"
            )
        except (ApiError, ValueError) as refused:
            raise ToolError(str(refused)) from None
        return {"memory_id": memory.id, "scope": memory.scope}

    async def _recall(self, args: dict[str, Any], context: ToolContext) -> list[dict[str, Any]]:
        query, limit = args.get("query"), args.get("limit", 5)
        if not isinstance(query, str) or not query.strip():
            raise ToolError("query must say what to recall")
        if not isinstance(limit, int) or not 1 <= limit <= 50:
            raise ToolError("limit must be a whole number from 1 to 50")
        async with self.database.read() as db:
            session = await UncheckedSessions(db).get(context.session_id)
        scopes = _scopes_of(session) if session is not None else [Scope("user")]
        hits = await self.search(Caller(context.owner_id), scopes, query, limit=limit)
        return [
            {
                "memory_id": hit.memory.id,
                "content": hit.memory.content,
                "tags": hit.memory.tags,
                "scope": hit.memory.scope,
                "score": hit.score,
            }
            for hit in hits
        ]

    async def _forget(self, args: dict[str, Any], context: ToolContext) -> str:
        memory_id = args.get("memory_id")
        if not isinstance(memory_id, str):
            raise ToolError("memory_id must name a memory")
        async with self.database.write() as db:
            repo = MemoryRepo(db, context.owner_id)
            found = await repo.find(memory_id, for_update=True)
            if found is None:
                raise ToolError(f"There is no memory {memory_id}")
            await repo.remove(found)
        self._counts.forget(context.owner_id)
        return f"Forgot {memory_id}"

    async def _count(self, owner_id: str) -> int:
        async with self.database.read() as db:
            return await MemoryRepo(db, owner_id).count_all()

    async def _tool_scope(self, context: ToolContext, kind: str) -> Scope:
        if kind == "user":
            return Scope("user")
        if kind == "session":
            return Scope("session", session_id=context.session_id)
        async with self.database.read() as db:
            session = await UncheckedSessions(db).get(context.session_id)
        if session is None or session.project_id is None:
            raise ToolError("this session has no project: remember it for the session or user")
        return Scope("project", project_id=session.project_id)


def _scopes_of(session: Session) -> list[Scope]:
    scopes = [Scope("session", session_id=session.id)]
    if session.project_id is not None:
        scopes.append(Scope("project", project_id=session.project_id))
    return [*scopes, Scope("user")]


def _tags(tags: Any) -> list[str]:
    if tags is None:
        return []
    if not isinstance(tags, list) or len(tags) > MAX_TAGS:
        raise InvalidRequest(f"tags is a list of at most {MAX_TAGS} strings")
    cleaned = [str(tag).strip()[:50] for tag in tags if str(tag).strip()]
    return list(dict.fromkeys(cleaned))


REMEMBER_HELP = (
    "Keep a fact for later: a preference, a decision, something learnt. scope: user (the "
    "default: every session of the user), project (this session's project) or session."
)
REMEMBER_SCHEMA = {
    "type": "object",
    "properties": {
        "content": {"type": "string", "description": "The fact, in one or two sentences."},
        "tags": {"type": "array", "items": {"type": "string"}},
        "scope": {"type": "string", "enum": list(SCOPES)},
    },
    "required": ["content"],
    "additionalProperties": False,
}
RECALL_HELP = "Search what you remember (this session's, its project's and the user's)."
RECALL_SCHEMA = {
    "type": "object",
    "properties": {
        "query": {"type": "string", "description": "Words of what to recall."},
        "limit": {"type": "integer", "minimum": 1, "maximum": 50},
    },
    "required": ["query"],
    "additionalProperties": False,
}
FORGET_HELP = "Forget a memory that is wrong or no longer true, by its memory_id."
FORGET_SCHEMA = {
    "type": "object",
    "properties": {"memory_id": {"type": "string"}},
    "required": ["memory_id"],
    "additionalProperties": False,
}
