"""Floyd's one-field session routes: thin aliases of PATCH answering ``{success, session}``."""

from fastapi import APIRouter

from roost.api.deps import Caller, Services
from roost.api.schemas.sessions import (
    ArchiveIn,
    FloydFolderIn,
    FloydRenameIn,
    FloydSessionOut,
    PinIn,
    SessionOut,
)

router = APIRouter(tags=["sessions"])


async def _patched(
    services: Services, caller: Caller, session_id: str, changes: dict[str, object]
) -> FloydSessionOut:
    session = await services.sessions.update(caller, session_id, changes)
    return FloydSessionOut(session=SessionOut.of(session))


@router.patch("/sessions/{session_id}/rename", response_model=FloydSessionOut)
async def rename_session(
    caller: Caller, services: Services, session_id: str, body: FloydRenameIn
) -> FloydSessionOut:
    """Set (or with null, clear) the custom title; the generated title stays."""
    return await _patched(services, caller, session_id, {"custom_title": body.custom_title})


@router.patch("/sessions/{session_id}/pin", response_model=FloydSessionOut)
async def pin_session(
    caller: Caller, services: Services, session_id: str, body: PinIn
) -> FloydSessionOut:
    return await _patched(services, caller, session_id, {"pinned": body.pinned})


@router.patch("/sessions/{session_id}/folder", response_model=FloydSessionOut)
async def move_session_to_folder(
    caller: Caller, services: Services, session_id: str, body: FloydFolderIn
) -> FloydSessionOut:
    """Null or an empty name takes the session out of any folder."""
    return await _patched(services, caller, session_id, {"folder": body.folder})


@router.patch("/sessions/{session_id}/archive", response_model=FloydSessionOut)
async def archive_session(
    caller: Caller, services: Services, session_id: str, body: ArchiveIn
) -> FloydSessionOut:
    return await _patched(services, caller, session_id, {"archived": body.archived})
