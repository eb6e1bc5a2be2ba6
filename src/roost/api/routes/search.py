"""Search over HTTP (Oqto's ``/api/search``, API.md §14): every message the caller may
read, by its words, its meaning, or both."""

from typing import Annotated

from fastapi import APIRouter, Query
from pydantic import BaseModel, Field, computed_field

from roost.api.deps import Caller, Services
from roost.api.openapi import errors
from roost.api.schemas.common import DateTimeIn, Timestamp
from roost.services.search import highlighted
from roost.store.message_search import Found, MessageFilter

router = APIRouter(tags=["search"])


class SearchHit(BaseModel):
    message_id: str
    session_id: str
    session_title: str | None
    turn_id: str | None
    role: str
    created_at: Timestamp
    snippet: str = Field(description="HTML: the text escaped, the matches in <mark>.")
    score: float
    score_parts: dict[str, float] = Field(
        description="keyword: the full-text rank; semantic: the cosine similarity; fused: "
        "the reciprocal-rank sum (hybrid)."
    )

    @classmethod
    def of(cls, found: Found) -> "SearchHit":
        return cls(
            message_id=found.message_id,
            session_id=found.session_id,
            session_title=found.session_title,
            turn_id=found.turn_id,
            role=found.role,
            created_at=found.created_at,
            snippet=highlighted(found.snippet),
            score=found.score,
            score_parts=found.parts,
        )


class SearchOut(BaseModel):
    query: str
    mode: str = Field(description="keyword, semantic or hybrid: how the hits were found.")
    results: list[SearchHit]
    has_more: bool
    next_cursor: str | None

    @computed_field  # type: ignore[prop-decorator]
    @property
    def data(self) -> list[SearchHit]:
        """The same list as `results`."""
        return self.results


@router.get("/search", response_model=SearchOut, responses=errors(400, 404))
async def search_messages(
    caller: Caller,
    services: Services,
    q: Annotated[str, Query(min_length=1, max_length=500, description="What to look for.")],
    mode: Annotated[
        str | None,
        Query(
            pattern="^(keyword|semantic|hybrid)$",
            description="keyword: every word must appear; semantic: by meaning; hybrid: both, "
            "fused. Default: hybrid with an embedding model, else keyword.",
        ),
    ] = None,
    session_id: Annotated[str | None, Query(max_length=64)] = None,
    project_id: Annotated[str | None, Query(max_length=64)] = None,
    role: Annotated[str | None, Query(pattern="^(user|assistant)$")] = None,
    since: Annotated[DateTimeIn | None, Query(alias="from")] = None,
    until: Annotated[DateTimeIn | None, Query(alias="to")] = None,
    limit: Annotated[int, Query(ge=1, le=50)] = 20,
    cursor: Annotated[str | None, Query(max_length=20)] = None,
) -> SearchOut:
    """What you and your agents said, best match first, with a highlighted snippet and
    the session and turn of each hit. Sessions of logged runs only when named."""
    where = MessageFilter(session_id, project_id, role, since, until)
    page = await services.search.messages(caller, q, where, limit=limit, cursor=cursor, mode=mode)
    return SearchOut(
        query=q,
        mode=page.mode,
        results=[SearchHit.of(found) for found in page.hits],
        has_more=page.has_more,
        next_cursor=page.next_cursor,
    )
