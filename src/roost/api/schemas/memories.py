"""Memories: what a client sends and what it is shown."""

from typing import Annotated, Any

from pydantic import BaseModel, Field, StrictInt, StringConstraints, computed_field

from roost.api.schemas.common import ClientModel, ListOut, NoNul, Timestamp, Whole
from roost.services.memory_ranking import Hit
from roost.store.models import Memory

Content = Annotated[
    str,
    StringConstraints(strict=True, min_length=1, max_length=10_000, strip_whitespace=True),
    NoNul,
]
Tag = Annotated[
    str, StringConstraints(strict=True, min_length=1, max_length=50, strip_whitespace=True), NoNul
]
Tags = Annotated[list[Tag], Field(max_length=20)]
Importance = Annotated[float, Field(ge=0, le=1)]
Query = Annotated[
    str, StringConstraints(strict=True, min_length=1, max_length=1000, strip_whitespace=True), NoNul
]


class MemoryIn(ClientModel):
    content: Content
    tags: Tags = Field(default_factory=list)
    importance: Importance = Field(0.5, description="0 to 1: weighs it in searches.")


class MemoryChange(ClientModel):
    """PUT (Oqto's) and PATCH alike: the fields sent change."""

    content: Content | None = None
    tags: Tags | None = None
    importance: Importance | None = None

    def changes(self) -> dict[str, Any]:
        return self.model_dump(exclude_unset=True)


class MemorySearchIn(ClientModel):
    query: Query
    limit: Annotated[StrictInt, Field(ge=1, le=100), Whole] = 10
    tags: Tags | None = Field(None, description="Only memories with every one of these tags.")


class MemoryOut(BaseModel):
    id: str
    content: str
    tags: list[str]
    source: str = Field(description="user or agent")
    importance: float
    scope: str = Field(description="session, project or user")
    session_id: str | None
    project_id: str | None
    created_at: Timestamp
    updated_at: Timestamp

    @classmethod
    def of(cls, memory: Memory) -> "MemoryOut":
        return cls(
            id=memory.id,
            content=memory.content,
            tags=memory.tags or [],
            source=memory.source,
            importance=memory.importance,
            scope=memory.scope,
            session_id=memory.session_id,
            project_id=memory.project_id,
            created_at=memory.created_at,
            updated_at=memory.updated_at,
        )


class MemoryListOut(ListOut[MemoryOut]):
    @computed_field  # type: ignore[prop-decorator]
    @property
    def memories(self) -> list[MemoryOut]:
        """The same list as `data`."""
        return self.data


class MemoryHit(BaseModel):
    memory: MemoryOut
    score: float
    score_parts: dict[str, float] = Field(description="keyword (BM25) and importance.")

    @classmethod
    def of(cls, hit: Hit) -> "MemoryHit":
        return cls(memory=MemoryOut.of(hit.memory), score=hit.score, score_parts=hit.parts)


class MemorySearchOut(BaseModel):
    results: list[MemoryHit]

    @computed_field  # type: ignore[prop-decorator]
    @property
    def data(self) -> list[MemoryHit]:
        """The same list as `results`."""
        return self.results


class MemoryStore(BaseModel):
    name: str
    scope: str
    session_id: str | None
    project_id: str | None
    count: int


class MemoryStoresOut(BaseModel):
    stores: list[MemoryStore]
