"""Sessions: the conversations of API.md §6 (Floyd, Mini-Devin and Oqto shapes in one)."""

from typing import Annotated
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

from fastapi import APIRouter, Query, Response, status

from roost.api.deps import After, Before, Caller, Limit, Services
from roost.api.openapi import errors
from roost.api.schemas.sessions import (
    FoldersOut,
    GetOrCreateIn,
    GroupedSessionsOut,
    MessageOut,
    SessionCreate,
    SessionDetailOut,
    SessionGroupOut,
    SessionListOut,
    SessionOut,
    SessionTaskOut,
    SessionUpdate,
)
from roost.errors import ValidationFailed
from roost.store.sessions import SessionFilter

router = APIRouter(tags=["sessions"])
SESSION_TASKS = 50  # tasks a session's detail lists

Zone = Annotated[
    str, Query(max_length=64, description="IANA time zone for day boundaries, e.g. Europe/Paris.")
]


@router.get("/sessions", response_model=SessionListOut)
async def list_sessions(
    caller: Caller,
    services: Services,
    folder: Annotated[str | None, Query(max_length=200)] = None,
    archived: bool | None = None,
    pinned: bool | None = None,
    project_id: Annotated[str | None, Query(max_length=40)] = None,
    q: Annotated[str | None, Query(max_length=200, description="Words in the title.")] = None,
    limit: Limit = 50,
    before: Before = None,
    after: After = None,
) -> SessionListOut:
    """Pinned first, then most recently updated; filters combine."""
    page = await services.sessions.page(
        caller,
        SessionFilter(folder=folder, archived=archived, pinned=pinned, project_id=project_id, q=q),
        limit=limit,
        before=before,
        after=after,
    )
    return SessionListOut(
        data=[SessionOut.of(s) for s in page.items],
        has_more=page.has_more,
        next_cursor=page.next_cursor,
    )


@router.post(
    "/sessions",
    status_code=status.HTTP_201_CREATED,
    response_model=SessionOut,
    responses=errors(404),
)
async def create_session(
    caller: Caller, services: Services, body: SessionCreate | None = None
) -> SessionOut:
    fields = body.model_dump(exclude_none=True) if body else {}
    if body is not None and "project_id" in body.model_fields_set and body.project_id is None:
        fields["project_id"] = None  # an explicit null: no project, not the active one
    return SessionOut.of(await services.sessions.create(caller, fields))


@router.get("/sessions/grouped", response_model=GroupedSessionsOut)
async def grouped_sessions(
    caller: Caller, services: Services, tz: Zone = "UTC", limit: Limit = 50, after: After = None
) -> GroupedSessionsOut:
    """Today, yesterday, last 7 days, last 30 days, older — by last activity."""
    groups, page = await services.sessions.grouped(caller, parse_zone(tz), limit=limit, after=after)
    return GroupedSessionsOut(
        groups=[
            SessionGroupOut(
                key=g.key, label=g.label, sessions=[SessionOut.of(s) for s in g.sessions]
            )
            for g in groups
        ],
        has_more=page.has_more,
        next_cursor=page.next_cursor,
    )


@router.post(
    "/sessions/get-or-create",
    response_model=SessionOut,
    responses={201: {"model": SessionOut, "description": "Created"}, **errors(404)},
)
async def get_or_create_session(
    caller: Caller, services: Services, body: GetOrCreateIn, response: Response
) -> SessionOut:
    """The caller's session for a working directory: 200 if found, 201 if made now."""
    fields = body.model_dump(exclude_none=True, exclude={"working_directory"})
    session, created = await services.sessions.get_or_create(caller, body.working_directory, fields)
    response.status_code = status.HTTP_201_CREATED if created else status.HTTP_200_OK
    return SessionOut.of(session)


router.add_api_route(
    "/sessions/get-or-create-for-workspace",
    get_or_create_session,
    methods=["POST"],
    response_model=SessionOut,
    responses={201: {"model": SessionOut, "description": "Created"}, **errors(404)},
    name="get_or_create_session_for_workspace",
    summary="Get Or Create Session For Workspace",
    description="Oqto's name for get-or-create; the workspace path is the working directory.",
)


@router.get("/sessions/{session_id}", response_model=SessionDetailOut)
async def get_session(
    caller: Caller, services: Services, session_id: str, limit: Limit = 50
) -> SessionDetailOut:
    """The session with its newest ``limit`` messages, oldest first, and its newest
    tasks, newest first."""
    found = await services.sessions.get_with_messages(caller, session_id, limit=limit)
    tasks = await services.tasks.page(caller, limit=SESSION_TASKS, session_id=session_id)
    return SessionDetailOut(
        **SessionOut.of(found.session).model_dump(),
        messages=[MessageOut.of(m) for m in found.messages.items],
        tasks=[SessionTaskOut.of(t) for t in tasks.items],
        has_more=found.messages.has_more,
        next_cursor=found.messages.next_cursor,
    )


@router.patch("/sessions/{session_id}", response_model=SessionOut)
async def update_session(
    caller: Caller, services: Services, session_id: str, body: SessionUpdate
) -> SessionOut:
    return SessionOut.of(
        await services.sessions.update(caller, session_id, body.model_dump(exclude_unset=True))
    )


@router.delete("/sessions/{session_id}", status_code=status.HTTP_204_NO_CONTENT)
async def delete_session(caller: Caller, services: Services, session_id: str) -> Response:
    """Deletes the session with its messages, turns and events."""
    await services.sessions.delete(caller, session_id)
    return Response(status_code=status.HTTP_204_NO_CONTENT)


@router.get("/folders", response_model=FoldersOut)
async def list_folders(
    caller: Caller,
    services: Services,
    limit: Limit = 200,
    after: Annotated[str | None, Query(max_length=200, description="A folder name.")] = None,
) -> FoldersOut:
    """Folder names that hold at least one session, alphabetically."""
    page = await services.sessions.folders(caller, limit=limit, after=after)
    return FoldersOut(data=page.items, has_more=page.has_more, next_cursor=page.next_cursor)


def parse_zone(name: str) -> ZoneInfo:
    try:
        return ZoneInfo(name)
    except (ZoneInfoNotFoundError, ValueError) as unknown:
        raise ValidationFailed(
            f"Unknown time zone {name!r}",
            [{"field": "tz", "in": "query", "reason": "not an IANA time zone name"}],
        ) from unknown
