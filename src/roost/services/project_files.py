"""The file browser of a project: list, read, write, upload, move and delete inside its
folder, through the same :class:`Sandbox` the agent's tools use, under its policy: every
entry is reached beneath the folder's handle without following a link, so a folder or
file swapped meanwhile is refused, never followed out."""

import asyncio
import os
import stat
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import BinaryIO, Concatenate, ParamSpec, TypeVar

from roost.engine.tools.sandbox import (
    MAX_NAME_BYTES,
    Parts,
    Sandbox,
    SandboxError,
    read_up_to,
)
from roost.errors import FileNotFound, FileNotText, FileTooLarge, InvalidFileName, NoFiles
from roost.services.caller import Caller
from roost.services.projects import ProjectService
from roost.services.sandbox_errors import answering

P = ParamSpec("P")
T = TypeVar("T")

MAX_TEXT_BYTES = 1024 * 1024
MAX_LISTED = 1000
CHUNK_BYTES = 64 * 1024


@dataclass(frozen=True)
class FileInfo:
    name: str
    path: str  # relative to the project root
    type: str  # file | directory | symlink | other
    size: int
    modified: datetime


@dataclass(frozen=True)
class Listing:
    path: str
    entries: list[FileInfo]
    truncated: bool


@dataclass(frozen=True)
class TextFile:
    info: FileInfo
    content: str


@dataclass(frozen=True)
class Download:
    name: str
    chunks: Iterator[bytes]


class ProjectFiles:
    """Each operation runs in a thread (file systems can be slow, the event loop must not
    wait on them); the sandbox's refusals become answers through :func:`answering`."""

    def __init__(self, projects: ProjectService) -> None:
        self.projects = projects

    async def tree(self, caller: Caller, project_id: str, given: str) -> Listing:
        return await self._run(caller, project_id, _tree, given)

    async def read_text(self, caller: Caller, project_id: str, given: str) -> TextFile:
        return await self._run(caller, project_id, _read_text, given)

    async def download(self, caller: Caller, project_id: str, given: str) -> Download:
        return await self._run(caller, project_id, _download, given)

    async def write_text(self, caller: Caller, project_id: str, given: str, text: str) -> FileInfo:
        return await self._run(caller, project_id, _write_text, given, text)

    async def upload(
        self,
        caller: Caller,
        project_id: str,
        folder: str,
        files: list[tuple[str, BinaryIO]],
        *,
        overwrite: bool,
    ) -> list[FileInfo]:
        """Write each uploaded file into the folder, under its base name."""
        return await self._run(caller, project_id, _upload, folder, files, overwrite)

    async def make_folder(self, caller: Caller, project_id: str, given: str) -> FileInfo:
        return await self._run(caller, project_id, _make_folder, given)

    async def delete(self, caller: Caller, project_id: str, given: str, *, recursive: bool) -> None:
        """Delete a file, a link (never what it points to) or, when asked, a folder."""
        await self._run(caller, project_id, _delete, given, recursive)

    async def rename(self, caller: Caller, project_id: str, source: str, target: str) -> FileInfo:
        return await self._run(caller, project_id, _rename, source, target)

    async def image(self, caller: Caller, project_id: str, given: str, limit: int) -> bytes:
        """The bytes of a file, refused when over ``limit``."""
        return await self._run(caller, project_id, _read_capped, given, limit)

    async def first_existing(self, caller: Caller, project_id: str, names: list[str]) -> str:
        return await self._run(caller, project_id, _first_existing, names)

    async def _run(
        self,
        caller: Caller,
        project_id: str,
        operation: Callable[Concatenate[Sandbox, P], T],
        *args: P.args,
        **kwargs: P.kwargs,
    ) -> T:
        sandbox = await self.projects.sandbox_for(caller.user_id, project_id)
        return await asyncio.to_thread(operation, sandbox, *args, **kwargs)


def _tree(sandbox: Sandbox, given: str) -> Listing:
    """A folder's entries, folders first; denied entries are left out."""
    with answering(given):
        parts = sandbox.parts(given)
        found = sandbox.listing(parts)
    found.sort(key=lambda entry: (not stat.S_ISDIR(entry[1].st_mode), entry[0]))
    entries = [_info(sandbox, (*parts, name), status) for name, status in found[:MAX_LISTED]]
    return Listing(sandbox.relative(parts), entries, len(found) > MAX_LISTED)


def _read_text(sandbox: Sandbox, given: str) -> TextFile:
    parts, status, data = _capped(sandbox, given, MAX_TEXT_BYTES, "; download it")
    try:
        if b"\x00" in data:
            raise UnicodeDecodeError("utf-8", data, 0, 1, "NUL byte")
        content = data.decode("utf-8")
    except UnicodeDecodeError as error:
        raise FileNotText(sandbox.relative(parts)) from error
    return TextFile(_info(sandbox, parts, status), content)


def _read_capped(sandbox: Sandbox, given: str, limit: int) -> bytes:
    return _capped(sandbox, given, limit)[2]


def _capped(
    sandbox: Sandbox, given: str, limit: int, hint: str = ""
) -> tuple[Parts, os.stat_result, bytes]:
    """A file's bytes and status, read through one handle; refused when over ``limit``."""
    with answering(given), sandbox.opened(given) as handle:
        parts, status = sandbox.parts(given), os.fstat(handle)
        data = read_up_to(handle, limit + 1) if status.st_size <= limit else b""
    if status.st_size > limit or len(data) > limit:
        raise FileTooLarge(sandbox.relative(parts), limit, hint)
    return parts, status, data


def _download(sandbox: Sandbox, given: str) -> Download:
    # Opened once, beneath the root and through no link; the response streams that handle.
    with answering(given), sandbox.opened(given) as handle:
        name = sandbox.parts(given)[-1]
        return Download(name, _chunks(os.fdopen(os.dup(handle), "rb")))


def _write_text(sandbox: Sandbox, given: str, text: str) -> FileInfo:
    with answering(given):
        status = sandbox.write(given, [text.encode()])
        return _info(sandbox, sandbox.parts(given), status)


def _upload(
    sandbox: Sandbox, folder_given: str, files: list[tuple[str, BinaryIO]], overwrite: bool
) -> list[FileInfo]:
    if not files:
        raise NoFiles()
    with answering(folder_given):
        sandbox.writable()
        folder = sandbox.parts(folder_given)
        if not stat.S_ISDIR(sandbox.status(folder).st_mode):
            raise SandboxError(f"{sandbox.relative(folder)} is not a directory", "not_a_directory")
    targets = []
    for filename, source in files:  # every name checked before anything is written
        given = sandbox.relative((*folder, _base_name(filename)))
        with answering(given):
            _may_write(sandbox, sandbox.parts(given), overwrite)
        targets.append((given, source))
    written = []
    for given, source in targets:
        with answering(given):
            status = sandbox.write(given, _pieces(source), parents=False, replace=overwrite)
            written.append(_info(sandbox, sandbox.parts(given), status))
    return written


def _may_write(sandbox: Sandbox, parts: Parts, overwrite: bool) -> None:
    try:
        status = sandbox.status(parts)
    except SandboxError as error:
        if error.reason == "missing":
            return
        raise
    if stat.S_ISDIR(status.st_mode):
        raise SandboxError(f"{sandbox.relative(parts)} is a directory", "not_a_file")
    if not overwrite:
        raise SandboxError(f"{sandbox.relative(parts)} exists", "exists")


def _make_folder(sandbox: Sandbox, given: str) -> FileInfo:
    with answering(given):
        status = sandbox.make_folder(given)
        return _info(sandbox, sandbox.parts(given), status)


def _delete(sandbox: Sandbox, given: str, recursive: bool) -> None:
    with answering(given):
        sandbox.remove(given, recursive=recursive)


def _rename(sandbox: Sandbox, source: str, target: str) -> FileInfo:
    with answering(target):
        with answering(source):
            sandbox.parts(source)
        moved = sandbox.rename(source, target)
        return _info(sandbox, moved, sandbox.status(moved))


def _first_existing(sandbox: Sandbox, names: list[str]) -> str:
    for name in names:
        try:
            if stat.S_ISREG(sandbox.status(sandbox.parts(name)).st_mode):
                return name
        except SandboxError:
            continue
    raise FileNotFound(names[0])


def _base_name(filename: str) -> str:
    name = filename.replace("\\", "/").rsplit("/", 1)[-1]
    if name in ("", ".", "..") or "\x00" in name or len(name.encode()) > MAX_NAME_BYTES:
        raise InvalidFileName(filename)
    return name


def _chunks(handle: BinaryIO) -> Iterator[bytes]:
    with handle:
        yield from _pieces(handle)


def _pieces(source: BinaryIO) -> Iterator[bytes]:
    while chunk := source.read(CHUNK_BYTES):
        yield chunk


def _info(sandbox: Sandbox, parts: Parts, status: os.stat_result) -> FileInfo:
    kind = _kind(status)
    return FileInfo(
        parts[-1] if parts else sandbox.root.name,
        sandbox.relative(parts),
        kind,
        status.st_size if kind == "file" else 0,
        datetime.fromtimestamp(status.st_mtime, UTC),
    )


def _kind(status: os.stat_result) -> str:
    if stat.S_ISLNK(status.st_mode):
        return "symlink"
    if stat.S_ISDIR(status.st_mode):
        return "directory"
    return "file" if stat.S_ISREG(status.st_mode) else "other"
