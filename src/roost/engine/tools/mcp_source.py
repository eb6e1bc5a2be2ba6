"""MCP servers' tools in the tool registry, named ``<server>__<tool>``.

Model APIs accept tool names of ``[a-zA-Z0-9_-]{1,64}``: a server name is already of
that alphabet (and has no ``__``), a tool's characters outside it become ``_``, and a
tool name that had to change, or would not fit, is cut and ends in ``_`` and eight hex
digits of a hash of the original, so that two tools never share a name.
"""

import asyncio
import contextlib
import hashlib
import re
from collections.abc import Awaitable, Callable
from functools import partial
from pathlib import Path
from typing import Any

from roost.engine.tools.mcp import (
    McpConnection,
    McpServerConfig,
    McpServerError,
    McpStatus,
    result_text,
)
from roost.engine.tools.registry import Tool, ToolContext, ToolError

SEPARATOR = "__"
LIST_WAIT_SECONDS = 10.0  # the longest a listing waits for a server to start
MAX_TOOL_NAME = 64
_UNSAFE = re.compile(r"[^a-zA-Z0-9_-]")

ConfigLoader = Callable[[], Awaitable[list[McpServerConfig]]]


def tool_name(server: str, tool: str) -> str:
    """The name the model sees for ``tool`` of ``server``."""
    safe = _UNSAFE.sub("_", tool)
    name = f"{server}{SEPARATOR}{safe}"
    if safe == tool and len(name) <= MAX_TOOL_NAME:
        return name
    digest = hashlib.sha256(tool.encode()).hexdigest()[:8]
    return f"{name[: MAX_TOOL_NAME - 9]}_{digest}"


class McpServers:
    """The connections of every enabled MCP server, as one source of tools.

    Which servers exist comes from ``configs`` each time tools are wanted, so a change
    made elsewhere (another replica) is followed too.
    """

    def __init__(
        self,
        configs: ConfigLoader,
        *,
        timeout: float,
        output_cap: int,
        log_dir: Path,
        start_timeout: float | None = None,
    ) -> None:
        self._configs = configs
        self.timeout = timeout
        self.start_timeout = start_timeout or timeout
        self.output_cap = output_cap
        self.log_dir = log_dir
        self._connections: dict[str, McpConnection] = {}
        self._sync = asyncio.Lock()
        self._starting: set[asyncio.Future[Any]] = set()

    async def tools(self) -> list[Tool]:
        """Every enabled server's tools; a server not started yet is started now."""
        connections = await self._current()
        await asyncio.gather(*(self._listable(c) for c in connections))
        return [tool for c in connections for tool in self._tools_of(c)]

    async def get(self, name: str) -> Tool | None:
        for connection in await self._current():
            if not name.startswith(connection.config.name + SEPARATOR):
                continue
            if not connection.tools:
                try:
                    await connection.ensure(wait_backoff=False)
                except McpServerError as error:
                    raise ToolError(str(error)) from None
            for tool in self._tools_of(connection):
                if tool.name == name:
                    return tool
        return None

    def known(self, name: str) -> Tool | None:
        for connection in list(self._connections.values()):
            if name.startswith(connection.config.name + SEPARATOR):
                for tool in self._tools_of(connection):
                    if tool.name == name:
                        return tool
        return None

    def status(self, server_id: str) -> McpStatus:
        """This process's view: a server not used here yet is ``stopped``."""
        connection = self._connections.get(server_id)
        return connection.status() if connection is not None else McpStatus("stopped")

    async def restart(self, config: McpServerConfig) -> McpStatus:
        """Stop the server if it runs, start it again now, and tell how that went."""
        async with self._sync:
            old = self._connections.pop(config.id, None)
            connection = self._connections[config.id] = self._connect(config)
        if old is not None:
            await old.close()
        with contextlib.suppress(McpServerError):
            await connection.ensure(wait_backoff=False)
        return connection.status()

    async def changed(self, server_id: str, config: McpServerConfig | None) -> None:
        """A server was changed (``None``: deleted or disabled): a change to how it is
        reached ends its connection, and the next use starts it afresh."""
        async with self._sync:
            old = self._connections.get(server_id)
            if old is None:
                return
            if config is not None and config.launch() == old.config.launch():
                old.config = config
                return
            del self._connections[server_id]
        await old.close()

    async def aclose(self) -> None:
        """Stop every server (on shutdown): no child process outlives Roost."""
        async with self._sync:
            connections = list(self._connections.values())
            self._connections.clear()
        await asyncio.gather(*(c.close() for c in connections))

    async def _current(self) -> list[McpConnection]:
        """The connections of the configured servers; those of removed ones end."""
        configs = await self._configs()
        wanted = {config.id: config for config in configs}
        ending: list[McpConnection] = []
        async with self._sync:
            for server_id, connection in list(self._connections.items()):
                config = wanted.get(server_id)
                if config is None or config.launch() != connection.config.launch():
                    ending.append(self._connections.pop(server_id))
                else:
                    connection.config = config
            current = []
            for config in configs:
                if config.id not in self._connections:
                    self._connections[config.id] = self._connect(config)
                current.append(self._connections[config.id])
        await asyncio.gather(*(c.close() for c in ending))
        return current

    async def _listable(self, connection: McpConnection) -> None:
        """Start a server whose tools are wanted, unless it is running or resting after a
        failure (its last known tools stay listed, and a call starts it again). A slow
        start goes on in the background rather than hold up the turn that asked."""
        if connection.state == "running" or connection.backoff_left() > 0:
            return
        start = asyncio.ensure_future(connection.ensure(wait_backoff=False))
        self._starting.add(start)
        start.add_done_callback(self._started)
        with contextlib.suppress(McpServerError, TimeoutError):
            await asyncio.wait_for(asyncio.shield(start), min(self.timeout, LIST_WAIT_SECONDS))

    def _started(self, start: "asyncio.Future[Any]") -> None:
        self._starting.discard(start)
        if not start.cancelled():
            start.exception()  # a failed start is in the server's status, not an error here

    def _connect(self, config: McpServerConfig) -> McpConnection:
        return McpConnection(
            config, timeout=self.timeout, start_timeout=self.start_timeout, log_dir=self.log_dir
        )

    def _tools_of(self, connection: McpConnection) -> list[Tool]:
        config = connection.config
        return [
            Tool(
                name=tool_name(config.name, listed.name),
                description=listed.description or listed.title or listed.name,
                input_schema=listed.input_schema,
                handler=partial(_call, connection, listed.name),
                source=f"mcp:{config.name}",
                requires_approval=config.requires_approval,
                timeout_seconds=self.timeout,
                output_cap_bytes=self.output_cap,
            )
            for listed in connection.tools
        ]


async def _call(
    connection: McpConnection, tool: str, args: dict[str, Any], context: ToolContext
) -> str:
    try:
        result = await connection.call(tool, args)
    except McpServerError as error:
        raise ToolError(str(error)) from None
    text = result_text(result)
    if result.is_error:
        raise ToolError(text or f"{tool} reported an error")
    return text
