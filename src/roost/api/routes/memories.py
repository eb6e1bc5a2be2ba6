"""Memories over HTTP (Oqto's mmry, API.md §14): the same routes for a session's
memories (``/api/session/{id}/memories``, Oqto's singular path, and
``/api/sessions/{id}/memories``), a project's (Oqto's ``/api/workspace/memories``,
``?project_id=`` or the active project) and the user's own (``/api/memories``)."""

from collections.abc import Awaitable, Callable
from typing import Annotated, Any

from fastapi import APIRouter, Depends, Path, Query, Response, status

from roost.api.deps import Before, Caller, Limit, Services
from roost.api.openapi import errors
from roost.api.schemas.memories import (
    MemoryChange,
    MemoryHit,
    MemoryIn,
    MemoryListOut,
    MemoryOut,
    MemorySearchIn,
    MemorySearchOut,
    MemoryStoresOut,
)
from roost.store.memories import Scope

router = APIRouter(tags=["memories"])

MemoryId = Annotated[str, Path(max_length=64)]


async def session_scope(caller: Caller, services: Services, session_id: str) -> Scope:
    return await services.memories.session_scope(caller, session_id)


async def workspace_scope(
    caller: Caller,
    services: Services,
    project_id: Annotated[
        str | None, Query(max_length=64, description="The project; else the active one.")
    ] = None,
) -> Scope:
    return await services.memories.project_scope(caller, project_id)


async def user_scope() -> Scope:
    return Scope("user")


def _routes(base: str, resolve: Callable[..., Awaitable[Scope]], *, documented: bool) -> None:
    """The memory routes under ``base``, in the scope ``resolve`` names."""
    InScope = Annotated[Scope, Depends(resolve)]
    made = APIRouter(tags=["memories"], include_in_schema=documented)

    @made.get(base, response_model=MemoryListOut)
    async def list_memories(
        caller: Caller, services: Services, scope: InScope, limit: Limit = 50, before: Before = None
    ) -> MemoryListOut:
        """Newest first."""
        page = await services.memories.page(caller, scope, limit=limit, before=before)
        return MemoryListOut.of(page, MemoryOut.of)

    @made.post(base, status_code=status.HTTP_201_CREATED, response_model=MemoryOut)
    async def add_memory(
        caller: Caller, services: Services, scope: InScope, body: MemoryIn
    ) -> MemoryOut:
        memory = await services.memories.add(
            caller, scope, body.content, tags=body.tags, importance=body.importance
        )
        return MemoryOut.of(memory)

    @made.post(f"{base}/search", response_model=MemorySearchOut)
    async def search_memories(
        caller: Caller, services: Services, scope: InScope, body: MemorySearchIn
    ) -> MemorySearchOut:
        """Ranked by the query's words (BM25), weighed by importance."""
        hits = await services.memories.search(
            caller, [scope], body.query, limit=body.limit, tags=body.tags
        )
        return MemorySearchOut(results=[MemoryHit.of(hit) for hit in hits])

    @made.get(f"{base}/{{memory_id}}", response_model=MemoryOut)
    async def get_memory(
        caller: Caller, services: Services, scope: InScope, memory_id: MemoryId
    ) -> MemoryOut:
        return MemoryOut.of(await services.memories.get(caller, scope, memory_id))

    async def change(
        caller: Any, services: Any, scope: Scope, memory_id: str, body: MemoryChange
    ) -> MemoryOut:
        updated = await services.memories.update(caller, scope, memory_id, body.changes())
        return MemoryOut.of(updated)

    @made.put(f"{base}/{{memory_id}}", response_model=MemoryOut)
    async def replace_memory(
        caller: Caller, services: Services, scope: InScope, memory_id: MemoryId, body: MemoryChange
    ) -> MemoryOut:
        """Oqto's update: the fields sent change."""
        return await change(caller, services, scope, memory_id, body)

    @made.patch(f"{base}/{{memory_id}}", response_model=MemoryOut)
    async def update_memory(
        caller: Caller, services: Services, scope: InScope, memory_id: MemoryId, body: MemoryChange
    ) -> MemoryOut:
        return await change(caller, services, scope, memory_id, body)

    @made.delete(f"{base}/{{memory_id}}", status_code=status.HTTP_204_NO_CONTENT)
    async def delete_memory(
        caller: Caller, services: Services, scope: InScope, memory_id: MemoryId
    ) -> Response:
        await services.memories.delete(caller, scope, memory_id)
        return Response(status_code=status.HTTP_204_NO_CONTENT)

    router.include_router(made)


@router.get(
    "/sessions/{session_id}/memories/stores", response_model=MemoryStoresOut, responses=errors(404)
)
async def memory_stores(caller: Caller, services: Services, session_id: str) -> MemoryStoresOut:
    """Where a session's memories live: the session, its project (if any) and the
    user, with how many each holds."""
    stores = await services.memories.stores(caller, session_id)
    return MemoryStoresOut.model_validate({"stores": stores})


@router.get(
    "/session/{session_id}/memories/stores",
    response_model=MemoryStoresOut,
    include_in_schema=False,
)
async def memory_stores_oqto(
    caller: Caller, services: Services, session_id: str
) -> MemoryStoresOut:
    return await memory_stores(caller, services, session_id)


_routes("/sessions/{session_id}/memories", session_scope, documented=True)
_routes("/session/{session_id}/memories", session_scope, documented=False)
_routes("/workspace/memories", workspace_scope, documented=True)
_routes("/memories", user_scope, documented=True)
