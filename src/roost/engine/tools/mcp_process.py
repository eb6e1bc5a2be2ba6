"""A stdio MCP server as a child process: where its stderr goes, and which pid is its.

The SDK's ``stdio_client`` does not say which process it started, so spawns happen one
at a time and the pid is the one child that appeared meanwhile (found through /proc).
"""

import asyncio
import contextlib
import os
import weakref
from pathlib import Path
from typing import Any

LOG_ROTATE_BYTES = 1024 * 1024

# One stdio spawn at a time (per event loop), so the one new child process is the server's.
_spawn_locks: "weakref.WeakKeyDictionary[asyncio.AbstractEventLoop, asyncio.Lock]" = (
    weakref.WeakKeyDictionary()
)


@contextlib.contextmanager
def log_file(folder: Path, name: str) -> Any:
    """A stdio server's stderr goes to ``<home>/mcp/<name>.log``, not into Roost's logs."""
    folder.mkdir(parents=True, exist_ok=True)
    path = folder / f"{name}.log"
    mode = "w" if path.exists() and path.stat().st_size > LOG_ROTATE_BYTES else "a"
    with path.open(mode, encoding="utf-8", errors="replace") as handle:
        yield handle


def spawn_lock() -> asyncio.Lock:
    loop = asyncio.get_running_loop()
    lock = _spawn_locks.get(loop)
    if lock is None:
        lock = _spawn_locks[loop] = asyncio.Lock()
    return lock


def children() -> set[int]:
    """This process's child processes (Linux); empty where ``/proc`` cannot tell."""
    found: set[int] = set()
    for listing in Path("/proc/self/task").glob("*/children"):
        with contextlib.suppress(OSError, ValueError):
            found.update(int(pid) for pid in listing.read_text().split())
    return found


def new_child(before: set[int]) -> int | None:
    """The server's pid: the one child that is new, and leads its own session."""
    for pid in sorted(children() - before):
        with contextlib.suppress(OSError):
            if os.getsid(pid) == pid:
                return pid
    return None
