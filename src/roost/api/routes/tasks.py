"""Tasks over HTTP (API.md §12, Mini-Devin's shapes): create and start, list, stop,
delete, follow their events, and download their artifacts."""

from typing import Annotated
from urllib.parse import quote

from fastapi import APIRouter, Query, Response, status

from roost.api.deps import Before, Caller, Limit, Services
from roost.api.openapi import errors
from roost.api.schemas.tasks import (
    ArtifactListOut,
    ArtifactOut,
    ClearedOut,
    TaskCreate,
    TaskListOut,
    TaskNew,
    TaskOut,
)
from roost.api.sse import LastEventId, ResumeAfter, event_stream, resume_point
from roost.domain.task_status import TaskStatus

router = APIRouter(tags=["tasks"])

SessionFilter = Annotated[str | None, Query(max_length=64, description="Tasks of this session.")]
ProjectFilter = Annotated[str | None, Query(max_length=64, description="Tasks of this project.")]


@router.post(
    "/sessions/{session_id}/tasks",
    status_code=status.HTTP_201_CREATED,
    response_model=TaskOut,
    responses=errors(404, 502, 503),
)
async def create_session_task(
    caller: Caller, services: Services, session_id: str, body: TaskCreate
) -> TaskOut:
    """Create a task in the session and start it (queued behind a turn running there)."""
    return TaskOut.of(await services.tasks.create(caller, body.fields(), session_id=session_id))


@router.get("/sessions/{session_id}/tasks", response_model=TaskListOut)
async def list_session_tasks(
    caller: Caller, services: Services, session_id: str, limit: Limit = 50, before: Before = None
) -> TaskListOut:
    """The session's tasks, newest first."""
    page = await services.tasks.page(caller, limit=limit, before=before, session_id=session_id)
    return TaskListOut.of(page, TaskOut.of)


@router.post(
    "/tasks",
    status_code=status.HTTP_201_CREATED,
    response_model=TaskOut,
    responses=errors(404, 502, 503),
)
async def create_task(caller: Caller, services: Services, body: TaskNew) -> TaskOut:
    """A task in a new session of its own (in ``project_id``, else the caller's active
    project); started at once unless ``start`` is false."""
    created = await services.tasks.create(
        caller, body.fields(), project_id=body.project_id, start=body.start
    )
    return TaskOut.of(created)


@router.get("/tasks", response_model=TaskListOut)
async def list_tasks(
    caller: Caller,
    services: Services,
    status: TaskStatus | None = None,
    session_id: SessionFilter = None,
    project_id: ProjectFilter = None,
    limit: Limit = 50,
    before: Before = None,
) -> TaskListOut:
    """The caller's tasks, newest first; filters combine."""
    page = await services.tasks.page(
        caller,
        limit=limit,
        before=before,
        status=status,
        session_id=session_id,
        project_id=project_id,
    )
    return TaskListOut.of(page, TaskOut.of)


@router.post("/tasks/clear", response_model=ClearedOut)
async def clear_tasks(caller: Caller, services: Services) -> ClearedOut:
    """Delete every task that ran and ended (completed, failed, stopped, interrupted)."""
    return ClearedOut(cleared=await services.tasks.clear(caller))


@router.get("/tasks/{task_id}", response_model=TaskOut)
async def get_task(caller: Caller, services: Services, task_id: str) -> TaskOut:
    """The task with its plan as it stands, its iterations and, once ended, its result."""
    return TaskOut.of(await services.tasks.get(caller, task_id))


@router.post("/tasks/{task_id}/start", response_model=TaskOut, responses=errors(409, 502, 503))
async def start_task(caller: Caller, services: Services, task_id: str) -> TaskOut:
    """Run a task that is pending, or run again one that ended; 409 while it runs."""
    return TaskOut.of(await services.tasks.start(caller, task_id))


async def stop_task(caller: Caller, services: Services, task_id: str) -> TaskOut:
    """Cancel the task's run and answer once it has ended (``status: stopped``)."""
    return TaskOut.of(await services.tasks.stop(caller, task_id))


for _path, _name in (("stop", "stop_task"), ("cancel", "cancel_task")):
    router.add_api_route(
        f"/tasks/{{task_id}}/{_path}",
        stop_task,
        methods=["POST"],
        response_model=TaskOut,
        name=_name,
        summary="Stop Task" if _path == "stop" else "Cancel Task (alias of stop)",
    )


@router.delete("/tasks/{task_id}", status_code=status.HTTP_204_NO_CONTENT)
async def delete_task(caller: Caller, services: Services, task_id: str) -> Response:
    """Stop the task if it runs, then delete it with its artifacts; its session stays."""
    await services.tasks.delete(caller, task_id)
    return Response(status_code=status.HTTP_204_NO_CONTENT)


@router.get(
    "/tasks/{task_id}/events",
    response_class=Response,
    responses={
        200: {"content": {"text/event-stream": {}}, "description": "The events."},
        **errors(400),
    },
)
async def task_events(
    caller: Caller,
    services: Services,
    task_id: str,
    after: ResumeAfter = None,
    last_event_id: LastEventId = "",
) -> Response:
    """The events of the task's latest run (its turn's), with the turn's resume rules."""
    events = await services.tasks.events(caller, task_id, after=resume_point(after, last_event_id))
    return event_stream(events)


@router.get("/tasks/{task_id}/artifacts", response_model=ArtifactListOut)
async def list_artifacts(caller: Caller, services: Services, task_id: str) -> ArtifactListOut:
    """``plan.json``, ``diff.patch`` and ``log.txt`` once there is something in them,
    then the files the agent kept."""
    found = await services.task_artifacts.listed(caller, task_id)
    return ArtifactListOut(data=[ArtifactOut.of(a) for a in found])


@router.get(
    "/tasks/{task_id}/artifacts/{artifact_id:path}",
    response_class=Response,
    responses={200: {"content": {"application/octet-stream": {}}, "description": "Its content."}},
)
async def download_artifact(
    caller: Caller, services: Services, task_id: str, artifact_id: str
) -> Response:
    """An artifact by id or by name (a kept file's name is its path in the project), as
    a download with its media type."""
    artifact = await services.task_artifacts.get(caller, task_id, artifact_id)
    filename = artifact.name.rsplit("/", 1)[-1]
    return Response(
        artifact.content or b"",
        media_type=artifact.media_type,
        headers={
            "Content-Disposition": f"attachment; filename*=UTF-8''{quote(filename)}",
            "X-Content-Type-Options": "nosniff",
            # A kept file may be HTML: never run as a page of Roost's origin.
            "Content-Security-Policy": "default-src 'none'; sandbox",
        },
    )
