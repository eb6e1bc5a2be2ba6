"""Files opened beneath a folder's open handle, never through a link.

Checking a path and then opening it by name is a race: between the two, a folder on the
way can become a symlink out, or a file a hard link to one outside. So nothing here takes
a path from ``/``: every entry is reached from an open handle of the root, one name at a
time, with ``O_NOFOLLOW`` — a link anywhere on the way (not only at the end) makes the
kernel refuse with ``ELOOP``, whatever is swapped in at whatever moment. Where the kernel
has ``openat2`` (Linux 5.6+), the whole walk is one call with ``RESOLVE_BENEATH |
RESOLVE_NO_SYMLINKS``; elsewhere the walk is done here, step by step, to the same effect.
Changes act through the handle of the folder that holds the entry (``mkdir``, ``unlink``,
``rename`` with ``dir_fd``), and what a file is (its type, its link count) is asked of the
opened handle, never of its name again.

Paths are tuples of plain names (no ``.``, ``..``, ``/`` or empty parts): callers spell
them out lexically first, which is exact here since no link is ever followed.
"""

import contextlib
import ctypes
import errno
import os
import platform
import stat
from collections.abc import Callable, Sequence

Parts = Sequence[str]
Found = tuple[tuple[str, ...], os.stat_result]
Skip = Callable[[tuple[str, ...], os.stat_result], bool]

FOLDER_FLAGS = os.O_RDONLY | os.O_DIRECTORY | os.O_NOFOLLOW | os.O_CLOEXEC
_RESOLVE_NO_MAGICLINKS = 0x02
_RESOLVE_NO_SYMLINKS = 0x04
_RESOLVE_BENEATH = 0x08
_RENAME_NOREPLACE = 1
# openat2 has the same number on every architecture that came after it (the generic
# table): 437 on x86_64 and aarch64, the two Roost is built for.
_OPENAT2 = 437 if platform.machine() in ("x86_64", "aarch64", "arm64") else None


class _OpenHow(ctypes.Structure):
    _fields_ = [("flags", ctypes.c_uint64), ("mode", ctypes.c_uint64), ("resolve", ctypes.c_uint64)]


try:
    _libc: ctypes.CDLL | None = ctypes.CDLL(None, use_errno=True)
except OSError:  # pragma: no cover - no C library to call into
    _libc = None


def _openat2(folder: int, relative: str, flags: int, mode: int) -> int | None:
    """``openat2`` beneath ``folder`` with no link followed, or None where the kernel (or a
    seccomp filter) does not offer it."""
    global _OPENAT2
    if _OPENAT2 is None or _libc is None:
        return None
    mode = mode if flags & os.O_CREAT else 0  # openat2 refuses a mode it would not use
    how = _OpenHow(flags, mode, _RESOLVE_BENEATH | _RESOLVE_NO_SYMLINKS | _RESOLVE_NO_MAGICLINKS)
    result = _libc.syscall(
        ctypes.c_long(_OPENAT2),
        ctypes.c_int(folder),
        ctypes.c_char_p(os.fsencode(relative)),
        ctypes.byref(how),
        ctypes.c_size_t(ctypes.sizeof(how)),
    )
    if result >= 0:
        return int(result)
    code = ctypes.get_errno()
    if code in (errno.ENOSYS, errno.EPERM, errno.E2BIG):
        _OPENAT2 = None  # not offered here: the step-by-step walk from now on
        return None
    if code == errno.EAGAIN:
        return None  # a rename raced the lookup: the walk below answers
    raise OSError(code, os.strerror(code), relative)


def open_folder(root: int, parts: Parts, *, create: bool = False) -> int:
    """A new handle of the folder at ``parts`` beneath ``root``; with ``create``, missing
    folders on the way are made (each through its parent's handle)."""
    try:
        return _open_folder(root, parts, create)
    except NotADirectoryError:
        # The kernel says ENOTDIR for a link where a folder is asked for: say it is a link.
        entry = open_entry(root, parts, os.O_PATH)
        try:
            if stat.S_ISLNK(os.fstat(entry).st_mode):
                raise OSError(errno.ELOOP, os.strerror(errno.ELOOP), "/".join(parts)) from None
        finally:
            os.close(entry)
        raise


def _open_folder(root: int, parts: Parts, create: bool) -> int:
    if parts and not create:
        opened = _openat2(root, "/".join(parts), FOLDER_FLAGS, 0)
        if opened is not None:
            return opened
    folder = os.open(".", FOLDER_FLAGS, dir_fd=root)
    for name in parts:
        try:
            following = _step(folder, name, create)
        finally:
            os.close(folder)
        folder = following
    return folder


def _step(folder: int, name: str, create: bool) -> int:
    try:
        return os.open(name, FOLDER_FLAGS, dir_fd=folder)
    except FileNotFoundError:
        if not create:
            raise
    with contextlib.suppress(FileExistsError):  # made meanwhile: opened like any other
        os.mkdir(name, 0o755, dir_fd=folder)
    return os.open(name, FOLDER_FLAGS, dir_fd=folder)


def open_entry(root: int, parts: Parts, flags: int, mode: int = 0o644) -> int:
    """A handle of the entry at ``parts`` beneath ``root`` (``O_NOFOLLOW`` always added)."""
    flags |= os.O_NOFOLLOW | os.O_CLOEXEC
    if not parts:
        return os.open(".", flags, dir_fd=root)
    if not flags & os.O_CREAT:
        opened = _openat2(root, "/".join(parts), flags, mode)
        if opened is not None:
            return opened
    folder = open_folder(root, parts[:-1])
    try:
        return os.open(parts[-1], flags, mode, dir_fd=folder)
    finally:
        os.close(folder)


def rename_new(folder: int, name: str, into: int, new_name: str) -> None:
    """Move ``folder/name`` to ``into/new_name``, never over an entry there: atomically
    with ``renameat2(RENAME_NOREPLACE)`` where there is one, else after a check."""
    if _libc is not None and hasattr(_libc, "renameat2"):
        done = _libc.renameat2(
            folder, os.fsencode(name), into, os.fsencode(new_name), _RENAME_NOREPLACE
        )
        if done == 0:
            return
        code = ctypes.get_errno()
        if code not in (errno.ENOSYS, errno.EINVAL):
            raise OSError(code, os.strerror(code), new_name)
    try:
        os.stat(new_name, dir_fd=into, follow_symlinks=False)
    except FileNotFoundError:
        os.rename(name, new_name, src_dir_fd=folder, dst_dir_fd=into)
        return
    raise FileExistsError(errno.EEXIST, os.strerror(errno.EEXIST), new_name)


def entries(folder: int) -> list[tuple[str, os.stat_result]]:
    """A folder's entries by name, each with its own status (a link is itself); one that
    vanishes while it is listed is left out."""
    found = []
    for entry in os.scandir(folder):
        with contextlib.suppress(FileNotFoundError):
            found.append((entry.name, entry.stat(follow_symlinks=False)))
    return sorted(found, key=lambda named: named[0])


def walk(root: int, start: Parts, skip: Skip, limit: int) -> list[Found]:
    """Entries under the folder at ``start`` (parts from ``root``, with their own status),
    at most ``limit``; links are listed, never followed, and a folder for which ``skip``
    says so is neither listed nor entered. Each folder is opened afresh from the root, so
    one swapped for a link meanwhile is refused, not entered."""
    found: list[Found] = []
    waiting = [tuple(start)]
    while waiting and len(found) < limit:
        at = waiting.pop()
        try:
            folder = open_folder(root, at)
        except OSError:
            if at == tuple(start):
                raise
            continue  # gone, or swapped for a link, since it was listed
        try:
            listed = entries(folder)
        finally:
            os.close(folder)
        for name, status in listed:
            parts = (*at, name)
            if skip(parts, status):
                continue
            found.append((parts, status))
            if stat.S_ISDIR(status.st_mode):
                waiting.append(parts)
    return found[:limit]
