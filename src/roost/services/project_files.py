"""The file browser of a project: list, read, write, upload, move and delete inside its
folder, through the same :class:`Sandbox` the agent's tools use, under its policy."""

import asyncio
import os
import shutil
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path
from typing import BinaryIO, Concatenate, ParamSpec, TypeVar

from roost.engine.tools.sandbox import Sandbox, SandboxError
from roost.errors import Conflict, Forbidden, InvalidRequest, PayloadTooLarge
from roost.services.caller import Caller
from roost.services.projects import ProjectService
from roost.services.sandbox_errors import checked, existing, file_not_found

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
    """Each operation checks its paths through the project's sandbox, then runs in a
    thread: file systems can be slow, the event loop must not wait on them."""

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
    folder = existing(sandbox, given)
    if not folder.is_dir():
        raise _not_a("directory", sandbox, folder)
    entries = []
    for child in sorted(folder.iterdir(), key=lambda p: (not _is_dir(p), p.name)):
        if not sandbox.policy.denies(sandbox.relative(child)):
            entries.append(_info(sandbox, child))
    return Listing(sandbox.relative(folder), entries[:MAX_LISTED], len(entries) > MAX_LISTED)


def _read_text(sandbox: Sandbox, given: str) -> TextFile:
    path = _file(sandbox, given)
    data = _capped(sandbox, path, MAX_TEXT_BYTES, "; download it")
    try:
        if b"\x00" in data:
            raise UnicodeDecodeError("utf-8", data, 0, 1, "NUL byte")
        content = data.decode("utf-8")
    except UnicodeDecodeError as error:
        raise InvalidRequest(
            f"{sandbox.relative(path)} is not UTF-8 text; download it",
            code="FILE_NOT_TEXT",
            details={"path": sandbox.relative(path)},
        ) from error
    return TextFile(_info(sandbox, path), content)


def _read_capped(sandbox: Sandbox, given: str, limit: int) -> bytes:
    return _capped(sandbox, _file(sandbox, given), limit)


def _capped(sandbox: Sandbox, path: Path, limit: int, hint: str = "") -> bytes:
    data = sandbox.read_bytes(path, limit + 1)
    if len(data) > limit:
        raise PayloadTooLarge(
            f"{sandbox.relative(path)} is over {limit // 1024} KiB{hint}",
            code="FILE_TOO_LARGE",
            details={"path": sandbox.relative(path), "max_bytes": limit},
        )
    return data


def _download(sandbox: Sandbox, given: str) -> Download:
    path = _file(sandbox, given)
    # Opened once, without following a final link; the response streams that handle.
    handle = os.fdopen(os.open(path, os.O_RDONLY | os.O_NOFOLLOW), "rb")
    return Download(path.name, _chunks(handle))


def _write_text(sandbox: Sandbox, given: str, text: str) -> FileInfo:
    path = checked(sandbox, given)
    _writable(sandbox)
    if path.is_dir():
        raise _not_a("file", sandbox, path)
    _guarded(lambda: sandbox.write_text(path, text), given)
    return _info(sandbox, path)


def _upload(
    sandbox: Sandbox, folder_given: str, files: list[tuple[str, BinaryIO]], overwrite: bool
) -> list[FileInfo]:
    if not files:
        raise InvalidRequest("Send at least one file (form field file)", code="NO_FILES")
    _writable(sandbox)
    folder = existing(sandbox, folder_given)
    if not folder.is_dir():
        raise _not_a("directory", sandbox, folder)
    targets = []
    for filename, source in files:  # every name checked before anything is written
        path = checked(sandbox, sandbox.relative(folder / _base_name(filename)))
        if path.is_dir():
            raise _not_a("file", sandbox, path)
        if path.exists() and not overwrite:
            raise _exists(sandbox, path)
        targets.append((path, source))
    written = []
    for path, source in targets:
        _write_bytes(sandbox, path, source, overwrite=overwrite)
        written.append(_info(sandbox, path))
    return written


def _make_folder(sandbox: Sandbox, given: str) -> FileInfo:
    path = checked(sandbox, given)
    _writable(sandbox)
    if path.exists():
        raise _exists(sandbox, path)
    _guarded(lambda: path.mkdir(parents=True), given)
    return _info(sandbox, path)


def _delete(sandbox: Sandbox, given: str, recursive: bool) -> None:
    entry = _entry(sandbox, given)
    _writable(sandbox)
    if entry.is_dir() and not entry.is_symlink():
        if not recursive and any(entry.iterdir()):
            raise InvalidRequest(
                f"{sandbox.relative(entry)} is a folder that is not empty; "
                "send recursive=true to delete it with its contents",
                code="DIRECTORY_NOT_EMPTY",
                details={"path": sandbox.relative(entry)},
            )
        _no_denied_inside(sandbox, entry)
        _guarded(lambda: shutil.rmtree(entry), given)
    else:
        _guarded(entry.unlink, given)


def _rename(sandbox: Sandbox, source: str, target: str) -> FileInfo:
    entry = _entry(sandbox, source)
    destination = checked(sandbox, target)
    _writable(sandbox)
    if os.path.lexists(destination):
        raise _exists(sandbox, destination)
    if not destination.parent.is_dir():
        raise _not_a("directory", sandbox, destination.parent)
    if entry.is_dir() and not entry.is_symlink():
        # Moving a folder must not carry a denied file to a name that is not denied.
        _no_denied_inside(sandbox, entry)
    _guarded(lambda: os.rename(entry, destination), source)
    return _info(sandbox, destination)


def _first_existing(sandbox: Sandbox, names: list[str]) -> str:
    for name in names:
        try:
            if sandbox.path(name, must_exist=True).is_file():
                return name
        except SandboxError:
            continue
    raise file_not_found(names[0])


def _file(sandbox: Sandbox, given: str) -> Path:
    path = existing(sandbox, given)
    if not path.is_file():
        raise _not_a("file", sandbox, path)
    return path


def _entry(sandbox: Sandbox, given: str) -> Path:
    """The entry ``given`` names, itself: a link is not followed to what it points to."""
    folder, name = os.path.split(given.rstrip("/"))
    if name in ("", ".", ".."):
        raise InvalidRequest(
            "Name a file or folder inside the project",
            code="PATH_OUTSIDE_PROJECT",
            details={"path": given},
        )
    parent = existing(sandbox, folder or ".")
    entry = parent / name
    if entry.is_symlink():
        if sandbox.policy.denies(sandbox.relative(entry)):
            raise Forbidden(
                f"{sandbox.relative(entry)} is denied by the project's sandbox",
                code="PATH_DENIED",
                details={"path": given},
            )
        return entry
    path = existing(sandbox, given)
    if path == sandbox.root:
        raise InvalidRequest(
            "The project folder itself cannot be moved or deleted",
            code="PATH_OUTSIDE_PROJECT",
            details={"path": given},
        )
    return path


def _writable(sandbox: Sandbox) -> None:
    if sandbox.policy.read_only:
        raise Forbidden("The project is read-only", code="PROJECT_READ_ONLY")


def _no_denied_inside(sandbox: Sandbox, folder: Path) -> None:
    for dirpath, dirnames, filenames in os.walk(folder):
        for name in [*dirnames, *filenames]:
            relative = sandbox.relative(Path(dirpath) / name)
            if sandbox.policy.denies(relative):
                raise Forbidden(
                    f"{sandbox.relative(folder)} holds {relative}, which the sandbox denies",
                    code="PATH_DENIED",
                    details={"path": sandbox.relative(folder), "denied": relative},
                )


def _guarded(action: Callable[[], object], given: str) -> None:
    """Run a file system change; what the system refuses is the client's error, not ours."""
    try:
        action()
    except SandboxError as error:
        raise InvalidRequest(
            str(error), code="PATH_OUTSIDE_PROJECT", details={"path": given}
        ) from error
    except OSError as error:
        raise InvalidRequest(
            f"{given}: {error.strerror or error}",
            code="FILE_OPERATION_FAILED",
            details={"path": given},
        ) from error


def _base_name(filename: str) -> str:
    name = filename.replace("\\", "/").rsplit("/", 1)[-1]
    if name in ("", ".", "..") or "\x00" in name or len(name.encode()) > 255:
        raise InvalidRequest(
            f"{filename!r} is not a usable file name",
            code="INVALID_FILE_NAME",
            details={"filename": filename},
        )
    return name


def _write_bytes(sandbox: Sandbox, path: Path, source: BinaryIO, *, overwrite: bool) -> None:
    """Like :meth:`Sandbox.write_text`, for bytes: never through a final link."""
    flags = os.O_WRONLY | os.O_CREAT | os.O_NOFOLLOW | (os.O_TRUNC if overwrite else os.O_EXCL)
    try:
        descriptor = os.open(path, flags, 0o644)
    except FileExistsError as error:
        raise _exists(sandbox, path) from error
    except OSError as error:
        raise InvalidRequest(
            f"{sandbox.relative(path)}: {error.strerror}",
            code="FILE_OPERATION_FAILED",
            details={"path": sandbox.relative(path)},
        ) from error
    with os.fdopen(descriptor, "wb") as handle:
        shutil.copyfileobj(source, handle, CHUNK_BYTES)


def _chunks(handle: BinaryIO) -> Iterator[bytes]:
    with handle:
        while chunk := handle.read(CHUNK_BYTES):
            yield chunk


def _info(sandbox: Sandbox, path: Path) -> FileInfo:
    stat = path.lstat()
    kind = _kind(path)
    return FileInfo(
        path.name,
        sandbox.relative(path),
        kind,
        stat.st_size if kind == "file" else 0,
        datetime.fromtimestamp(stat.st_mtime, UTC),
    )


def _kind(path: Path) -> str:
    if path.is_symlink():
        return "symlink"
    if path.is_dir():
        return "directory"
    return "file" if path.is_file() else "other"


def _is_dir(path: Path) -> bool:
    return path.is_dir() and not path.is_symlink()


def _not_a(kind: str, sandbox: Sandbox, path: Path) -> InvalidRequest:
    code = "NOT_A_DIRECTORY" if kind == "directory" else "NOT_A_FILE"
    relative = sandbox.relative(path) if path.is_relative_to(sandbox.root) else str(path)
    return InvalidRequest(f"{relative} is not a {kind}", code=code, details={"path": relative})


def _exists(sandbox: Sandbox, path: Path) -> Conflict:
    relative = sandbox.relative(path)
    return Conflict(f"{relative} exists", code="ALREADY_EXISTS", details={"path": relative})
