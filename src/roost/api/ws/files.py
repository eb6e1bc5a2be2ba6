"""The ``files`` channel: changes under the projects a connection watches, from a file
system watcher (``watchfiles``), as paths relative to the project's folder."""

import asyncio
import os
from typing import Any

from watchfiles import Change, awatch

from roost.api.ws.connection import Connection
from roost.errors import InvalidRequest
from roost.wiring import Services

MAX_WATCHES = 8  # projects one connection may watch at once
LEFT_OUT = frozenset({".git", "node_modules", "__pycache__", ".venv", ".mypy_cache"})
CHANGES = {Change.added: "added", Change.modified: "modified", Change.deleted: "deleted"}


class FileWatches:
    def __init__(self, connection: Connection, services: Services) -> None:
        self.connection = connection
        self.services = services
        self.watching: dict[str, tuple[asyncio.Task[Any], asyncio.Event]] = {}

    async def watch(self, project_id: str) -> None:
        """Start watching the caller's project (404 for anyone else's)."""
        caller = self.connection.caller
        sandbox = await self.services.projects.sandbox_for(caller.user_id, project_id)
        if project_id in self.watching:
            return
        if len(self.watching) >= MAX_WATCHES:
            raise InvalidRequest(
                f"A connection watches at most {MAX_WATCHES} projects",
                details={"max_watches": MAX_WATCHES},
            )
        stop = asyncio.Event()
        task = self.connection.spawn(self._relay(project_id, str(sandbox.root), stop))
        self.watching[project_id] = (task, stop)

    def unwatch(self, project_id: str) -> None:
        found = self.watching.pop(project_id, None)
        if found is not None:
            found[1].set()
            found[0].cancel()

    def stop(self) -> None:
        for project_id in list(self.watching):
            self.unwatch(project_id)

    async def _relay(self, project_id: str, root: str, stop: asyncio.Event) -> None:
        async for batch in awatch(root, stop_event=stop, recursive=True, debounce=200):
            changes = sorted(
                {
                    (CHANGES[change], relative)
                    for change, path in batch
                    if (relative := _relative(path, root)) != "."
                    and not LEFT_OUT.intersection(relative.split(os.sep))
                }
            )
            if changes:
                self.connection.send(
                    {
                        "channel": "files",
                        "type": "changed",
                        "project_id": project_id,
                        "changes": [{"change": c, "path": p} for c, p in changes],
                    }
                )


def _relative(path: str, root: str) -> str:
    """``path`` below ``root`` (no file system access: both are absolute)."""
    return os.path.relpath(path, root)
