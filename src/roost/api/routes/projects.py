"""Projects (Floyd, Oqto): a user's folders where sessions work, the active one, and the
files and snippets that join every turn's context."""

from typing import Annotated

from fastapi import APIRouter, Query, Response, status

from roost.api.deps import After, Before, Caller, Limit, Services
from roost.api.openapi import errors
from roost.api.schemas.projects import (
    DeactivatedOut,
    FileEntryIn,
    FileEntryRemove,
    ProjectChange,
    ProjectIn,
    ProjectOut,
    ProjectsOut,
)

# A project folder is refused where it would hold Roost's own data.
RESERVED = errors(codes={409: "`PATH_RESERVED`: the folder would hold Roost's own data"})

router = APIRouter(prefix="/projects", tags=["projects"])

QueryPath = Annotated[str | None, Query(max_length=1024, description="A file reference's path.")]
QueryName = Annotated[str | None, Query(max_length=200, description="A snippet's name.")]
QueryId = Annotated[str | None, Query(max_length=64, description="An entry's id.")]


@router.get("", response_model=ProjectsOut)
async def list_projects(
    caller: Caller,
    services: Services,
    limit: Limit = 50,
    before: Before = None,
    after: After = None,
) -> ProjectsOut:
    """The caller's projects in the order they were made, and which one is active."""
    page, active_id = await services.projects.page(caller, limit=limit, before=before, after=after)
    shown = [ProjectOut.of(p) for p in page.items]
    return ProjectsOut(
        projects=shown,
        data=shown,
        has_more=page.has_more,
        next_cursor=page.next_cursor,
        active_id=active_id,
        activeId=active_id,
    )


@router.post(
    "",
    status_code=status.HTTP_201_CREATED,
    response_model=ProjectOut,
    responses=RESERVED,
)
async def create_project(caller: Caller, services: Services, body: ProjectIn) -> ProjectOut:
    """A project in an existing folder, or a new one, inside a location."""
    return ProjectOut.of(await services.projects.create(caller, body.model_dump()))


@router.get("/active", response_model=ProjectOut | None)
async def active_project(caller: Caller, services: Services) -> ProjectOut | None:
    """The active project, or null."""
    project = await services.projects.active(caller)
    return ProjectOut.of(project) if project is not None else None


@router.post("/deactivate", response_model=DeactivatedOut)
async def deactivate_projects(caller: Caller, services: Services) -> DeactivatedOut:
    await services.projects.deactivate(caller)
    return DeactivatedOut()


@router.get("/{project_id}", response_model=ProjectOut)
async def get_project(caller: Caller, services: Services, project_id: str) -> ProjectOut:
    return ProjectOut.of(await services.projects.get(caller, project_id))


@router.patch(
    "/{project_id}",
    response_model=ProjectOut,
    responses=RESERVED,
)
async def update_project(
    caller: Caller, services: Services, project_id: str, body: ProjectChange
) -> ProjectOut:
    changes = body.model_dump(exclude_none=True)
    return ProjectOut.of(await services.projects.update(caller, project_id, changes))


@router.delete("/{project_id}", status_code=status.HTTP_204_NO_CONTENT)
async def delete_project(caller: Caller, services: Services, project_id: str) -> Response:
    """Forget the project; its folder and files stay. Its sessions lose their project."""
    await services.projects.delete(caller, project_id)
    return Response(status_code=status.HTTP_204_NO_CONTENT)


@router.post("/{project_id}/activate", response_model=ProjectOut)
async def activate_project(caller: Caller, services: Services, project_id: str) -> ProjectOut:
    """Make it the caller's one active project: new sessions join it."""
    return ProjectOut.of(await services.projects.activate(caller, project_id))


@router.post("/{project_id}/files", status_code=status.HTTP_201_CREATED, response_model=ProjectOut)
async def add_project_file(
    caller: Caller, services: Services, project_id: str, body: FileEntryIn
) -> ProjectOut:
    """Add a file reference (read at each turn) or a snippet; answers the project."""
    fields = body.model_dump()
    return ProjectOut.of(await services.projects.add_entry(caller, project_id, fields))


@router.delete("/{project_id}/files", status_code=status.HTTP_204_NO_CONTENT, responses=errors(400))
async def remove_project_file(
    caller: Caller,
    services: Services,
    project_id: str,
    body: FileEntryRemove | None = None,
    path: QueryPath = None,
    name: QueryName = None,
    id: QueryId = None,
) -> Response:
    """Remove a file reference (by ``path``) or a snippet (by ``name``), or either by ``id``:
    in the body or the query."""
    chosen = body or FileEntryRemove()
    path, name, entry_id = chosen.path or path, chosen.name or name, chosen.id or id
    await services.projects.remove_entry(
        caller, project_id, path=path, name=name, entry_id=entry_id
    )
    return Response(status_code=status.HTTP_204_NO_CONTENT)
