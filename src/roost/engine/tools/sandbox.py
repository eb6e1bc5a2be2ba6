"""The project root as a boundary: every file a tool or the file browser touches is
reached beneath it, and no link is ever followed.

A path is spelled out lexically (``..`` may not climb above the root, absolute paths must
name a place inside it, no name over 255 bytes) and checked against the policy's denied
paths; it is then opened through :mod:`beneath`, from a handle of the root taken when the
sandbox is made, one name at a time without following links. So a symlink anywhere on the
way — even one swapped in for a folder a moment before, at any depth — is refused, not
followed; what a file is (a regular file, with no other hard link that could reach a file
outside) is asked of the opened handle, so a file swapped for a hard link between a check
and a use is never read or written. Folders are made, and entries moved or deleted,
through the handle of the folder that holds them. Every refusal, and every error of the
file system on the way (a name too long, a link, a missing folder), is a
:class:`SandboxError` with a ``reason`` that says which.
"""

import errno
import os
import shutil
import stat
import weakref
from collections.abc import Callable, Iterable, Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Literal

from roost.engine.tools import beneath
from roost.engine.tools.policy import SandboxPolicy
from roost.engine.tools.registry import ToolContext, ToolError

Reason = Literal[
    "outside", "denied", "missing", "not_a_directory", "not_a_file", "exists", "not_empty",
    "read_only", "invalid", "failed",
]  # fmt: skip
Parts = tuple[str, ...]
MAX_NAME_BYTES = 255
NOT_FOLLOWED = "links are not followed (one could lead outside the project)"
_READ = os.O_RDONLY | os.O_NONBLOCK  # a FIFO must not hang the open


class SandboxError(ToolError):
    """A path outside the project root, or one that is not allowed; ``reason`` says why."""

    def __init__(self, message: str, reason: Reason = "outside", **details: str) -> None:
        super().__init__(message)
        self.reason: Reason = reason
        self.details = details


class Sandbox:
    def __init__(self, root: str | Path, policy: SandboxPolicy | None = None) -> None:
        resolved = Path(root).resolve()
        try:
            self._root = os.open(resolved, beneath.FOLDER_FLAGS)
        except OSError as error:
            raise SandboxError(f"The project root {root} is not a directory") from error
        weakref.finalize(self, os.close, self._root)
        self.root = resolved
        self.policy = policy or SandboxPolicy()

    @classmethod
    def of(cls, context: ToolContext) -> "Sandbox":
        """The sandbox of a tool call: its session's project root and policy."""
        if context.working_directory is None:
            raise SandboxError(
                "This session has no project: file tools work inside a project's folder"
            )
        return cls(context.working_directory, context.policy)

    # Paths

    def parts(self, given: str | os.PathLike[str]) -> Parts:
        """``given`` (relative to the root, or absolute inside it) as names from the root,
        allowed by the policy. Exact without looking at the disk: no link is followed."""
        given = os.fspath(given) if isinstance(given, os.PathLike) else given
        if not isinstance(given, str) or "\x00" in given:
            raise SandboxError("A path must be text without NUL characters")
        spelled = os.path.normpath(given) if os.path.isabs(given) else given
        if os.path.isabs(spelled):
            if spelled != str(self.root) and not spelled.startswith(f"{self.root}/"):
                raise SandboxError(f"{given} is outside the project")
            spelled = spelled[len(str(self.root)) :]
        names: list[str] = []
        for name in spelled.split("/"):
            if name == "..":
                if not names:
                    raise SandboxError(f"{given} is outside the project")
                names.pop()
            elif name not in ("", "."):
                _check_name(name)
                names.append(name)
        relative = "/".join(names)
        if names and self.policy.denies(relative):
            raise SandboxError(f"{relative} is denied by the project's sandbox", "denied")
        return tuple(names)

    def path(self, given: str | os.PathLike[str], *, must_exist: bool = False) -> Path:
        """``given`` as a path inside the root, for what can only work by name (a
        command's working folder); with ``must_exist``, it must be there, and reached
        without a link."""
        parts = self.parts(given)
        if must_exist:
            status = self.status(parts)
            if stat.S_ISLNK(status.st_mode):
                raise SandboxError(f"{self.relative(parts)} is a link; {NOT_FOLLOWED}")
            if stat.S_ISREG(status.st_mode):
                self._one_file(parts, status)
        return self.root.joinpath(*parts)

    def relative(self, path: Path | Parts) -> str:
        if isinstance(path, tuple):
            return "/".join(path) or "."
        return "." if path == self.root else path.relative_to(self.root).as_posix()

    def denied(self, parts: Parts) -> bool:
        """Whether the policy hides an entry (for listings)."""
        return bool(parts) and self.policy.denies("/".join(parts))

    def writable(self) -> None:
        if self.policy.read_only:
            raise SandboxError("The project is read-only", "read_only")

    # Looking

    def status(self, parts: Parts) -> os.stat_result:
        """An entry's own status (a link is itself, not what it points to)."""
        with self._failures(parts), self._folder(parts[:-1]) as folder:
            if not parts:
                return os.fstat(folder)
            return os.stat(parts[-1], dir_fd=folder, follow_symlinks=False)

    def listing(self, parts: Parts) -> list[tuple[str, os.stat_result]]:
        """A folder's entries with their own status, by name; denied ones left out."""
        with self._failures(parts), self._folder(parts) as folder:
            found = beneath.entries(folder)
        return [(name, status) for name, status in found if not self.denied((*parts, name))]

    def walk(self, parts: Parts, skip: beneath.Skip, limit: int) -> list[beneath.Found]:
        """Entries under a folder, links never followed; denied ones and those ``skip``
        names are left out (a folder with all it holds)."""

        def leave_out(found: Parts, status: os.stat_result) -> bool:
            return self.denied(found) or skip(found, status)

        with self._failures(parts):
            return beneath.walk(self._root, parts, leave_out, limit)

    # Reading and writing files

    @contextmanager
    def opened(self, given: str | os.PathLike[str], flags: int = _READ) -> Iterator[int]:
        """A handle of a regular file of one link, opened beneath the root."""
        parts = self.parts(given)
        with self._failures(parts):
            handle = beneath.open_entry(self._root, parts, flags)
        try:
            self._one_file(parts, os.fstat(handle))
            yield handle
        finally:
            os.close(handle)

    def read_bytes(self, given: str | os.PathLike[str], limit: int) -> bytes:
        with self.opened(given) as handle:
            return read_up_to(handle, limit)

    def update(self, given: str, limit: int, change: Callable[[bytes], bytes]) -> None:
        """Read a file and write back ``change`` of it, through one handle."""
        self.parts(given)
        self.writable()
        with self.opened(given, os.O_RDWR | os.O_NONBLOCK) as handle:
            data = read_up_to(handle, limit + 1)
            if len(data) > limit:  # a cut copy written back would lose the rest
                shown = self.relative(self.parts(given))
                raise SandboxError(f"{shown} is over {limit // 1024} KiB; not changed", "invalid")
            changed = change(data)
            os.lseek(handle, 0, os.SEEK_SET)
            _write(handle, [changed])

    def write(
        self,
        given: str,
        chunks: Iterable[bytes],
        *,
        parents: bool = True,
        replace: bool = True,
    ) -> os.stat_result:
        """Create or replace a file (``replace=False``: only create); with ``parents``,
        missing folders on the way are made."""
        parts = self.parts(given)
        self.writable()
        if not parts:
            raise SandboxError("The project folder is not a file", "not_a_file")
        flags = os.O_WRONLY | os.O_CREAT | os.O_NONBLOCK | os.O_NOFOLLOW | os.O_CLOEXEC
        with self._failures(parts), self._folder(parts[:-1], create=parents) as folder:
            handle = os.open(parts[-1], flags | (0 if replace else os.O_EXCL), 0o644, dir_fd=folder)
        try:
            self._one_file(parts, os.fstat(handle))
            _write(handle, chunks)  # truncated only now: never a file of other links
            return os.fstat(handle)
        finally:
            os.close(handle)

    def write_text(self, given: str, text: str) -> None:
        self.write(given, [text.encode()])

    # Changing folders

    def make_folder(self, given: str) -> os.stat_result:
        """A new folder, with any missing folders on the way."""
        parts = self.parts(given)
        self.writable()
        if not parts:
            raise SandboxError("The project folder exists", "exists")
        with self._failures(parts), self._folder(parts[:-1], create=True) as folder:
            os.mkdir(parts[-1], 0o755, dir_fd=folder)
            return os.stat(parts[-1], dir_fd=folder, follow_symlinks=False)

    def remove(self, given: str, *, recursive: bool) -> None:
        """Delete a file, a link (never what it points to) or a folder: an empty one, or
        with ``recursive`` one holding nothing the policy denies."""
        parts = self._movable(given)
        self.writable()
        with self._failures(parts), self._folder(parts[:-1]) as folder:
            status = os.stat(parts[-1], dir_fd=folder, follow_symlinks=False)
            if not stat.S_ISDIR(status.st_mode):
                if stat.S_ISREG(status.st_mode):
                    self._one_file(parts, status)  # a file shared with another place stays
                os.unlink(parts[-1], dir_fd=folder)
                return
            if not recursive:
                os.rmdir(parts[-1], dir_fd=folder)  # ENOTEMPTY unless empty
                return
            self._nothing_denied_in(parts)
            shutil.rmtree(parts[-1], dir_fd=folder)  # by handles: never through a link

    def rename(self, source: str, target: str) -> Parts:
        """Move an entry (a link as itself) to a new name, never over another entry."""
        moved, to = self._movable(source), self.parts(target)
        self.writable()
        if not to:
            raise SandboxError("The project folder exists", "exists")
        if stat.S_ISDIR(self.status(moved).st_mode):
            self._nothing_denied_in(moved)  # no denied file carried to an allowed name
        with (
            self._failures(to),
            self._folder(moved[:-1]) as origin,
            self._folder(to[:-1]) as destination,
        ):
            beneath.rename_new(origin, moved[-1], destination, to[-1])
        return to

    # Helpers

    def _movable(self, given: str) -> Parts:
        parts = self.parts(given)
        if not parts:
            raise SandboxError("The project folder itself cannot be moved or deleted", "invalid")
        return parts

    def _nothing_denied_in(self, parts: Parts) -> None:
        with self._failures(parts):
            inside = beneath.walk(self._root, parts, lambda *_: False, 100_000)
        for found, _ in inside:
            if self.denied(found):
                shown = self.relative(found)
                raise SandboxError(
                    f"{self.relative(parts)} holds {shown}, which the sandbox denies",
                    "denied",
                    denied=shown,
                )

    def _one_file(self, parts: Parts, status: os.stat_result) -> None:
        shown = self.relative(parts)
        if stat.S_ISDIR(status.st_mode):
            raise SandboxError(f"{shown} is a directory, not a file", "not_a_file")
        if not stat.S_ISREG(status.st_mode):
            raise SandboxError(f"{shown} is not a regular file", "not_a_file")
        if status.st_nlink > 1:
            raise SandboxError(f"{shown} has other hard links; not touched")

    @contextmanager
    def _folder(self, parts: Parts, *, create: bool = False) -> Iterator[int]:
        handle = beneath.open_folder(self._root, parts, create=create)
        try:
            yield handle
        finally:
            os.close(handle)

    @contextmanager
    def _failures(self, parts: Parts) -> Iterator[None]:
        """What the file system refuses, as a :class:`SandboxError` naming the path."""
        try:
            yield
        except OSError as error:
            raise refusal(error, self.relative(parts)) from error


def refusal(error: OSError, shown: str) -> SandboxError:
    reasons: dict[int, tuple[Reason, str]] = {
        errno.ELOOP: ("outside", f"goes through a link; {NOT_FOLLOWED}"),
        errno.EXDEV: ("outside", "leads out of the project"),
        errno.ENOENT: ("missing", "does not exist"),
        errno.ENOTDIR: (
            "not_a_directory",
            "is not a directory (or a folder on its way is not)",
        ),
        errno.EISDIR: ("not_a_file", "is a directory"),
        errno.ENXIO: ("not_a_file", "is not a regular file"),
        errno.EEXIST: ("exists", "exists"),
        errno.ENOTEMPTY: ("not_empty", "is a folder that is not empty"),
        errno.ENAMETOOLONG: ("invalid", "is too long"),
    }
    reason, said = reasons.get(error.errno or 0, ("failed", error.strerror or str(error)))
    return SandboxError(f"{shown} {said}" if reason != "failed" else f"{shown}: {said}", reason)


def _check_name(name: str) -> None:
    try:
        size = len(os.fsencode(name))
    except UnicodeEncodeError as error:
        raise SandboxError(f"{name!r} is not a usable file name", "invalid") from error
    if size > MAX_NAME_BYTES:
        raise SandboxError(
            f"{name[:40]}… is {size} bytes long; a name has at most {MAX_NAME_BYTES}", "invalid"
        )


def read_up_to(handle: int, limit: int) -> bytes:
    chunks, left = [], limit
    while left > 0 and (chunk := os.read(handle, min(left, 1024 * 1024))):
        chunks.append(chunk)
        left -= len(chunk)
    return b"".join(chunks)


def _write(handle: int, chunks: Iterable[bytes]) -> None:
    os.ftruncate(handle, 0)
    for chunk in chunks:
        view = memoryview(chunk)
        while view:
            view = view[os.write(handle, view) :]
