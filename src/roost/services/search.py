"""Search over every message a user may read (Oqto's ``/api/search``), by words (all
must appear; ranked by BM25 on SQLite, ``ts_rank_cd`` on PostgreSQL), by meaning (the
cosine of the message's vector and the query's) or both, fused by reciprocal rank:
hybrid is the default where an embedding model is configured. Each hit has a
highlighted snippet, where it was said, and its score's parts."""

import html
from dataclasses import dataclass

from roost.engine.providers.base import ProviderError
from roost.errors import ApiError, InvalidRequest, UpstreamError
from roost.services.caller import Caller
from roost.services.embedder import Embedder
from roost.services.memory_ranking import words
from roost.services.projects import ProjectService
from roost.store.db import Database
from roost.store.message_search import CLOSE, OPEN, Found, MessageFilter, fused, search, similar
from roost.store.sessions import SessionRepo
from roost.store.vectors import VectorIndex

MAX_OFFSET = 1_000  # how deep a ranked list may be paged
MAX_WORDS = 20
MODES = ("keyword", "semantic", "hybrid")
DEPTH = 50  # hits of each ranking that hybrid search fuses, at least


@dataclass(frozen=True)
class SearchPage:
    hits: list[Found]
    has_more: bool
    next_cursor: str | None
    mode: str


class SearchService:
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

    async def messages(
        self,
        caller: Caller,
        query: str,
        where: MessageFilter,
        *,
        limit: int,
        cursor: str | None,
        mode: str | None = None,
    ) -> SearchPage:
        offset = _offset(cursor)
        mode = mode or ("hybrid" if self.embedder.model else "keyword")
        wanted = list(dict.fromkeys(words(query)))[:MAX_WORDS]
        if mode == "keyword" and not wanted:
            raise _no_words()
        if mode != "keyword" and not self.embedder.model:
            raise InvalidRequest(
                f"Search by meaning ({mode}) needs an embedding model: set ROOST_EMBEDDING_MODEL",
                details={"field": "mode", "reason": "no embedding model"},
            )
        if where.project_id is not None:
            await self.projects.owned(caller.user_id, where.project_id)
        vector = None
        if mode != "keyword":
            vector = await self._vector_of(query, required=mode == "semantic")
            mode = mode if vector is not None else "keyword"  # hybrid without the model
        if mode == "keyword" and not wanted:
            raise _no_words()
        model = self.embedder.model
        async with self.database.read() as db:
            if where.session_id is not None:
                await SessionRepo(db, caller).get(where.session_id)
            if mode == "keyword":
                ranked = await search(
                    db, caller.user_id, wanted, where, limit=limit + 1, offset=offset
                )
            else:
                assert vector is not None and model is not None
                deep = offset + limit + 1 if mode == "semantic" else max(offset + limit + 1, DEPTH)
                by_meaning = await similar(
                    db, self.vectors, caller.user_id, model, vector, wanted, where, limit=deep
                )
                by_words = []
                if mode == "hybrid" and wanted:
                    by_words = await search(db, caller.user_id, wanted, where, limit=deep, offset=0)
                ranked = by_meaning if mode == "semantic" else fused(by_words, by_meaning)
                ranked = ranked[offset : offset + limit + 1]
        more = len(ranked) > limit and offset + limit < MAX_OFFSET
        return SearchPage(ranked[:limit], more, f"o{offset + limit}" if more else None, mode)

    async def _vector_of(self, query: str, *, required: bool) -> list[float] | None:
        """The query's vector. When the model fails, a search by meaning alone fails
        with it; a hybrid one goes on by words."""
        try:
            vectors = await self.embedder.vectors([query])
        except ProviderError as failure:
            if required:
                message = f"The embedding model failed: {failure}"
                status = failure.status
                raise UpstreamError(message, provider=failure.provider, status=status) from None
            return None
        except ApiError:
            if required:
                raise
            return None
        if not vectors and required:
            raise InvalidRequest(
                f"The embedding model {self.embedder.model} gives no vectors",
                details={"field": "mode", "reason": "no embedding model"},
            )
        return vectors[0] if vectors else None


def _no_words() -> InvalidRequest:
    return InvalidRequest(
        "The query has no word to search for", details={"field": "q", "reason": "no words"}
    )


def highlighted(snippet: str) -> str:
    """The snippet as HTML: its text escaped, its matches in ``<mark>``."""
    return html.escape(snippet).replace(OPEN, "<mark>").replace(CLOSE, "</mark>")


def _offset(cursor: str | None) -> int:
    if cursor is None:
        return 0
    digits = cursor[1:]
    if not cursor.startswith("o") or not digits.isdigit() or int(digits) > MAX_OFFSET:
        raise InvalidRequest("The cursor is not one this search gave", details={"field": "cursor"})
    return int(digits)
