"""One MCP server's connection: a stdio child process or a streamable HTTP endpoint.

The transport and the ``ClientSession`` live in one long-lived task per server, because
the SDK's anyio cancel scopes must be entered and left by the same task; tool calls
come from any task and only send requests over the session. A server starts on first
use; after it fails, the next use starts it again once a short backoff has passed.
"""

import asyncio
import contextlib
import logging
import math
import time
from collections.abc import AsyncIterator, Callable
from contextlib import AsyncExitStack, asynccontextmanager
from dataclasses import dataclass, field
from datetime import datetime
from pathlib import Path
from typing import Any, Literal, TextIO
from urllib.parse import urlsplit

import anyio
import httpx2
import orjson
from mcp import ClientSession, StdioServerParameters, stdio_client, types
from mcp.client._transport import ReadStream, TransportStreams
from mcp.client.streamable_http import streamable_http_client
from mcp.shared.exceptions import MCPError
from mcp.shared.message import SessionMessage

from roost import __version__
from roost.clock import utcnow
from roost.engine.tools.mcp_process import children, log_file, new_child, spawn_lock

log = logging.getLogger("roost.mcp")

State = Literal["stopped", "starting", "running", "failed"]
Transport = Literal["stdio", "http"]

FIRST_BACKOFF_SECONDS = 0.5
MAX_BACKOFF_SECONDS = 60.0
# A call waits out a backoff this short; a longer one answers with the last error at once.
MAX_BACKOFF_WAIT_SECONDS = 2.0
STOP_GRACE_SECONDS = 10.0
MAX_TOOL_PAGES = 20
MIN_SCRUBBED_LENGTH = 4  # shorter values would blank out ordinary words


@dataclass(frozen=True)
class McpServerConfig:
    """What it takes to reach one server; ``env`` and ``headers`` hold secrets."""

    id: str
    name: str
    transport: Transport
    command: str | None = None
    args: tuple[str, ...] = ()
    env: dict[str, str] = field(default_factory=dict)
    url: str | None = None
    headers: dict[str, str] = field(default_factory=dict)
    requires_approval: bool = False

    def launch(self) -> tuple[Any, ...]:
        """What the running connection depends on: a change to it means a restart."""
        return (
            self.transport,
            self.command,
            self.args,
            sorted(self.env.items()),
            self.url,
            sorted(self.headers.items()),
        )


@dataclass(frozen=True)
class McpStatus:
    state: State
    last_error: str | None = None
    tool_count: int = 0
    pid: int | None = None
    started_at: datetime | None = None


class McpServerError(Exception):
    """The server could not be reached, or answered a call with an error; the message
    says which, for the model and for people."""


class McpConnection:
    """One server's connection, from first start to :meth:`close`; then it is replaced."""

    def __init__(
        self,
        config: McpServerConfig,
        *,
        timeout: float,
        log_dir: Path,
        start_timeout: float | None = None,
    ) -> None:
        self.config = config
        self.timeout = timeout
        self.start_timeout = start_timeout or timeout  # to start and list its tools
        self.log_dir = log_dir
        self.state: State = "stopped"
        self.last_error: str | None = None
        self.pid: int | None = None
        self.started_at: datetime | None = None
        self.tools: list[types.Tool] = []  # the last listing, kept while the server is down
        self._session: ClientSession | None = None
        self._task: asyncio.Task[None] | None = None
        self._scope = anyio.CancelScope()
        self._settled = asyncio.Event()
        self._stopping = False
        self._closed = False
        self._lock = asyncio.Lock()
        self._failures = 0
        self._retry_at = 0.0

    def status(self) -> McpStatus:
        return McpStatus(self.state, self.last_error, len(self.tools), self.pid, self.started_at)

    def backoff_left(self) -> float:
        return max(0.0, self._retry_at - time.monotonic()) if self.state == "failed" else 0.0

    async def ensure(self, *, wait_backoff: bool = True) -> ClientSession:
        """The live session, starting the server when needed; else :class:`McpServerError`."""
        session = self._session
        if self.state == "running" and session is not None:
            return session
        async with self._lock:
            session = self._session
            if self.state == "running" and session is not None:
                return session
            delay = self.backoff_left()
            if delay > 0:
                if not wait_backoff or delay > MAX_BACKOFF_WAIT_SECONDS:
                    raise McpServerError(
                        f"MCP server {self.config.name} failed ({self.last_error}); "
                        f"Roost tries it again in {math.ceil(delay)} s"  # never "in 0 s"
                    )
                await asyncio.sleep(delay)
            return await self._start()

    async def call(self, tool: str, args: dict[str, Any]) -> types.CallToolResult:
        session = await self.ensure()
        try:
            return await session.call_tool(tool, args)
        except MCPError as error:
            if error.code != types.CONNECTION_CLOSED:
                message = self._scrubbed(error.message)
                raise McpServerError(f"MCP server {self.config.name}: {message}") from None
            self._lost(session, "the server closed the connection")
            raise McpServerError(
                f"MCP server {self.config.name} closed the connection during the call "
                "(did it crash?); Roost starts it again on the next call"
            ) from None

    async def close(self) -> None:
        """End the connection for good; a stdio server's process ends with it."""
        self._closed = self._stopping = True
        self._scope.cancel()  # a start under way ends now, not at its time limit
        async with self._lock:
            await self._halt()
            self.state, self.pid = "stopped", None

    async def _start(self) -> ClientSession:
        if self._closed:
            raise McpServerError(f"MCP server {self.config.name} was stopped")
        await self._halt()
        self.state, self.pid, self._stopping = "starting", None, False
        self._scope, self._settled = anyio.CancelScope(), asyncio.Event()
        self._task = asyncio.create_task(self._run(), name=f"mcp:{self.config.name}")
        await self._settled.wait()
        return self._live_session()

    def _live_session(self) -> ClientSession:
        if self.state != "running" or self._session is None:
            why = "was stopped" if self._stopping else f"failed: {self.last_error}"
            raise McpServerError(f"MCP server {self.config.name} {why}")
        return self._session

    async def _halt(self) -> None:
        task = self._task
        if task is None:
            return
        self._stopping = True
        self._scope.cancel()
        done, _ = await asyncio.wait({task}, timeout=STOP_GRACE_SECONDS)
        if not done:
            task.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await task
        self._task = None

    async def _run(self) -> None:
        """The connection's whole life, from start to stop or failure, in this one task."""
        error: str | None = None
        try:
            with log_file(self.log_dir, self.config.name) as errlog:
                async with AsyncExitStack() as stack:
                    read, write = await stack.enter_async_context(self._open(errlog))
                    watched = _Watched(read, self._ended)
                    session = ClientSession(watched, write, client_info=CLIENT_INFO)
                    await stack.enter_async_context(session)
                    # Cancelled to stop, or when the server goes: the contexts above then
                    # close outside it, uncancelled.
                    with self._scope:
                        try:
                            with anyio.fail_after(self.start_timeout):
                                await session.initialize()
                                tools = await _list_tools(session)
                        except TimeoutError:
                            # Callers hear of it now, not once the process has been ended.
                            waited = self.start_timeout
                            self._failed(f"the server did not answer within {waited:g} s")
                            self._settled.set()
                            return
                        self._running(session, tools)
                        await anyio.sleep_forever()
        except Exception as failure:  # whatever a server does, Roost keeps serving
            error = describe(failure)
        finally:
            self._session, self.pid = None, None
            if self._stopping:
                self.state = "stopped"
            else:
                self._failed(error or "the server closed the connection")
            self._settled.set()

    @asynccontextmanager
    async def _open(self, errlog: TextIO) -> AsyncIterator[TransportStreams]:
        config = self.config
        if config.transport == "stdio":
            params = StdioServerParameters(
                command=config.command or "", args=list(config.args), env=dict(config.env)
            )
            async with AsyncExitStack() as stack:
                async with spawn_lock():
                    before = children()
                    streams = await stack.enter_async_context(stdio_client(params, errlog))
                    self.pid = new_child(before)
                yield streams
            return
        timeout = httpx2.Timeout(min(self.timeout, 30.0), read=300.0)
        async with (
            httpx2.AsyncClient(headers=config.headers, timeout=timeout) as http,
            streamable_http_client(config.url or "", http_client=http) as streams,
        ):
            yield streams

    def _running(self, session: ClientSession, tools: list[types.Tool]) -> None:
        self._session, self.tools = session, tools
        self.state, self.last_error, self.started_at = "running", None, utcnow()
        self._failures = 0
        self._settled.set()

    def _ended(self) -> None:
        """The transport's read side ended: a stdio server exited, or HTTP gave up."""
        if not self._stopping and self.state == "running":
            self._failed("the server closed the connection")
        self._scope.cancel()

    def _lost(self, session: ClientSession, reason: str) -> None:
        if self._session is session and not self._stopping:
            self._failed(reason)
            self._scope.cancel()

    def _failed(self, error: str) -> None:
        if self.state == "failed":
            return
        error = self._scrubbed(error)
        if self.config.transport == "stdio":
            error += f"; see mcp/{self.config.name}.log in Roost's home"
        self.state, self.last_error, self._session = "failed", error, None
        log.warning("MCP server failed", extra={"mcp_server": self.config.name, "error": error})
        self._failures += 1
        backoff = min(FIRST_BACKOFF_SECONDS * 2 ** (self._failures - 1), MAX_BACKOFF_SECONDS)
        self._retry_at = time.monotonic() + backoff

    def _scrubbed(self, text: str) -> str:
        """``text`` without the server's secrets: errors may quote a URL or a header."""
        config = self.config
        password = urlsplit(config.url).password if config.url else None
        secrets = [*config.env.values(), *config.headers.values(), password or ""]
        for secret in sorted(secrets, key=len, reverse=True):
            if len(secret) >= MIN_SCRUBBED_LENGTH:
                text = text.replace(secret, "***")
        return text


CLIENT_INFO = types.Implementation(name="roost", version=__version__)


def describe(failure: BaseException) -> str:
    """One line about a failure, from the first leaf of an exception group."""
    while isinstance(failure, BaseExceptionGroup) and failure.exceptions:
        failure = failure.exceptions[0]
    text = str(failure).strip().splitlines()
    return f"{type(failure).__name__}: {text[0]}" if text else type(failure).__name__


def result_text(result: types.CallToolResult) -> str:
    """A tool result as text for the model: text parts joined, other parts named."""
    parts: list[str] = []
    for block in result.content:
        if isinstance(block, types.TextContent):
            parts.append(block.text)
        elif isinstance(block, types.ImageContent | types.AudioContent):
            size = len(block.data) * 3 // 4 - block.data[-2:].count("=")  # base64
            parts.append(f"[{block.type} {block.mime_type}, {size} bytes, not shown]")
        elif isinstance(block, types.ResourceLink):
            parts.append(f"[resource link {block.uri}]")
        elif isinstance(block.resource, types.TextResourceContents):
            parts.append(block.resource.text)
        else:
            parts.append(f"[resource {block.resource.uri}, binary, not shown]")
    if not parts and result.structured_content is not None:
        parts.append(orjson.dumps(result.structured_content, default=str).decode())
    return "\n".join(parts)


async def _list_tools(session: ClientSession) -> list[types.Tool]:
    tools: list[types.Tool] = []
    cursor: str | None = None
    for _ in range(MAX_TOOL_PAGES):
        params = types.PaginatedRequestParams(cursor=cursor) if cursor else None
        page = await session.list_tools(params=params)
        tools += page.tools
        cursor = page.next_cursor
        if not cursor:
            break
    return tools


class _Watched:
    """A transport's read stream that says when it ends: how a dead server is noticed
    while no call is waiting on it."""

    def __init__(
        self, inner: ReadStream[SessionMessage | Exception], on_end: Callable[[], None]
    ) -> None:
        self._inner = inner
        self._on_end = on_end

    @property
    def last_context(self) -> Any:
        return getattr(self._inner, "last_context", None)

    async def receive(self) -> SessionMessage | Exception:
        try:
            return await self._inner.receive()
        except (anyio.EndOfStream, anyio.ClosedResourceError):
            self._on_end()
            raise

    async def aclose(self) -> None:
        await self._inner.aclose()

    def __aiter__(self) -> "_Watched":
        return self

    async def __anext__(self) -> SessionMessage | Exception:
        try:
            return await self.receive()
        except anyio.EndOfStream:
            raise StopAsyncIteration from None

    async def __aenter__(self) -> "_Watched":
        return self

    async def __aexit__(self, *exc_info: object) -> None:
        await self.aclose()
