"""A project's file browser, and its logo (Oqto): every path stays inside the project's
folder and honours its sandbox policy (denied paths, read-only)."""

from typing import Annotated
from urllib.parse import quote

from fastapi import APIRouter, File, Form, Query, Response, UploadFile, status
from fastapi.responses import StreamingResponse

from roost.api.deps import Caller, Services
from roost.api.openapi import errors
from roost.api.schemas.projects import (
    FileInfoOut,
    FileTextOut,
    FileWrite,
    FolderIn,
    RenameIn,
    TreeOut,
    UploadedOut,
)
from roost.errors import NotAnImage

router = APIRouter(prefix="/projects", tags=["project files"])

MAX_LOGO_BYTES = 1024 * 1024
LOGO_NAMES = ["logo.svg", "logo.png", "logo.webp", "logo.jpg", "icon.svg", "icon.png"]
IMAGE_TYPES = {
    "png": "image/png",
    "jpg": "image/jpeg",
    "jpeg": "image/jpeg",
    "gif": "image/gif",
    "webp": "image/webp",
    "ico": "image/x-icon",
    "svg": "image/svg+xml",
}
# An SVG can hold scripts: served as an image in a sandbox that runs none of them.
IMAGE_HEADERS = {
    "Content-Security-Policy": "default-src 'none'; style-src 'unsafe-inline'; sandbox",
    "X-Content-Type-Options": "nosniff",
    "Cache-Control": "private, max-age=60",
}

QueryPath = Annotated[
    str, Query(max_length=1024, description="Relative to the project root (or absolute inside).")
]


@router.get(
    "/logo/{path:path}",
    response_class=Response,
    responses={
        200: {"content": {t: {} for t in sorted(set(IMAGE_TYPES.values()))}},
        **errors(400, 413),
    },
)
async def project_logo(caller: Caller, services: Services, path: str) -> Response:
    """``<project_id>/<image path>``, or just ``<project_id>`` for its ``logo.svg``,
    ``logo.png``, … ; images only, at most 1 MiB."""
    project_id, _, relative = path.partition("/")
    if not relative:
        relative = await services.project_files.first_existing(caller, project_id, LOGO_NAMES)
    kind = IMAGE_TYPES.get(relative.rsplit(".", 1)[-1].lower()) if "." in relative else None
    if kind is None:
        raise NotAnImage(relative, sorted(IMAGE_TYPES))
    data = await services.project_files.image(caller, project_id, relative, MAX_LOGO_BYTES)
    return Response(data, media_type=kind, headers=IMAGE_HEADERS)


@router.get("/{project_id}/tree", response_model=TreeOut, responses=errors(400))
async def list_folder(
    caller: Caller, services: Services, project_id: str, path: QueryPath = "."
) -> TreeOut:
    """A folder's entries, folders first; denied ones are not shown."""
    listing = await services.project_files.tree(caller, project_id, path)
    entries = [FileInfoOut.of(e) for e in listing.entries]
    return TreeOut(
        project_id=project_id,
        path=listing.path,
        entries=entries,
        data=entries,
        has_more=listing.truncated,
    )


@router.get("/{project_id}/file", response_model=FileTextOut, responses=errors(400, 413))
async def read_file(
    caller: Caller, services: Services, project_id: str, path: QueryPath = "."
) -> FileTextOut:
    """A UTF-8 text file of at most 1 MiB; anything else is for ``/download``."""
    found = await services.project_files.read_text(caller, project_id, path)
    return FileTextOut(
        **FileInfoOut.of(found.info).model_dump(), project_id=project_id, content=found.content
    )


@router.get(
    "/{project_id}/download",
    response_class=StreamingResponse,
    responses={200: {"content": {"application/octet-stream": {}}}, **errors(400, 413)},
)
async def download_file(
    caller: Caller, services: Services, project_id: str, path: QueryPath = "."
) -> StreamingResponse:
    """The file's bytes, as an attachment."""
    download = await services.project_files.download(caller, project_id, path)
    return StreamingResponse(
        download.chunks,
        media_type="application/octet-stream",
        headers={
            "Content-Disposition": f"attachment; filename*=UTF-8''{quote(download.name)}",
            "X-Content-Type-Options": "nosniff",
        },
    )


@router.put("/{project_id}/file", response_model=FileInfoOut)
async def write_file(
    caller: Caller, services: Services, project_id: str, body: FileWrite
) -> FileInfoOut:
    """Write a text file (made with its folders if missing)."""
    info = await services.project_files.write_text(caller, project_id, body.path, body.content)
    return FileInfoOut.of(info)


@router.delete("/{project_id}/file", status_code=status.HTTP_204_NO_CONTENT, responses=errors(400))
async def delete_file(
    caller: Caller,
    services: Services,
    project_id: str,
    path: QueryPath = ".",
    recursive: Annotated[bool, Query(description="Delete a folder with its contents.")] = False,
) -> Response:
    """Delete a file, a link (not what it points to), or a folder."""
    await services.project_files.delete(caller, project_id, path, recursive=recursive)
    return Response(status_code=status.HTTP_204_NO_CONTENT)


@router.post(
    "/{project_id}/upload", status_code=status.HTTP_201_CREATED, response_model=UploadedOut
)
async def upload_files(
    caller: Caller,
    services: Services,
    project_id: str,
    file: Annotated[list[UploadFile] | None, File(description="One or more files.")] = None,
    files: Annotated[
        list[UploadFile] | None, File(description="The same, by another name.")
    ] = None,
    path: Annotated[str, Form(max_length=1024, description="The folder to put them in.")] = ".",
    overwrite: Annotated[bool, Form(description="Replace files that exist.")] = False,
) -> UploadedOut:
    """Multipart upload into a folder of the project, under each file's base name."""
    uploads = [*(file or []), *(files or [])]
    written = await services.project_files.upload(
        caller,
        project_id,
        path,
        [(u.filename or "", u.file) for u in uploads],
        overwrite=overwrite,
    )
    return UploadedOut(project_id=project_id, files=[FileInfoOut.of(i) for i in written])


@router.post("/{project_id}/rename", response_model=FileInfoOut)
async def rename_file(
    caller: Caller, services: Services, project_id: str, body: RenameIn
) -> FileInfoOut:
    """Move or rename a file or folder inside the project; never over an existing one."""
    assert body.source is not None and body.target is not None
    return FileInfoOut.of(
        await services.project_files.rename(caller, project_id, body.source, body.target)
    )


@router.post("/{project_id}/mkdir", status_code=status.HTTP_201_CREATED, response_model=FileInfoOut)
async def make_folder(
    caller: Caller, services: Services, project_id: str, body: FolderIn
) -> FileInfoOut:
    """Make a folder, with any missing parents."""
    return FileInfoOut.of(await services.project_files.make_folder(caller, project_id, body.path))
