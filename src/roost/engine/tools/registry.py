"""The tool registry: every tool has a JSON-schema input, a timeout, an output cap and
an approval policy, wherever it comes from."""

import asyncio
import time
from collections.abc import Awaitable, Callable
from dataclasses import dataclass, field, replace
from typing import Any, Protocol

import orjson

from roost.domain.events import Payload
from roost.engine.providers.base import ToolSpec
from roost.engine.tools.policy import SandboxPolicy

DEFAULT_TIMEOUT_SECONDS = 60.0
DEFAULT_OUTPUT_CAP_BYTES = 64 * 1024


Emit = Callable[[Payload], Awaitable[Any]]
# Keeps a file's bytes as an output of the task a turn runs for: (name, data, media type).
KeepOutput = Callable[[str, bytes, str], Awaitable[None]]
DEFAULT_OUTPUT_LIMIT_BYTES = 10 * 1024 * 1024


async def _nowhere(payload: Payload) -> None:
    """Outside a turn (``POST /api/tools/execute``) there is no stream to tell."""


@dataclass(frozen=True)
class ToolContext:
    """What a tool may know of the turn that calls it, and how it adds to its stream."""

    session_id: str
    turn_id: str
    owner_id: str
    working_directory: str | None = None  # the project root, when the session has one
    emit: Emit = _nowhere
    policy: SandboxPolicy = field(default_factory=SandboxPolicy)
    admin: bool = False  # whether whoever the call acts for is an admin
    keep_output: KeepOutput | None = None  # set in a task's turns
    output_limit_bytes: int = DEFAULT_OUTPUT_LIMIT_BYTES


Handler = Callable[[dict[str, Any], ToolContext], Awaitable[Any]]


@dataclass(frozen=True)
class Tool:
    name: str
    description: str
    input_schema: dict[str, Any]
    handler: Handler
    source: str = "builtin"
    requires_approval: bool = False
    admin_only: bool = False  # offered to admins' turns only, refused to anyone else
    ends_turn: bool = False  # once it succeeds, the turn ends without another model call
    # None: the registry's limits (ROOST_TOOL_TIMEOUT_SECONDS, ROOST_TOOL_OUTPUT_CAP_BYTES)
    timeout_seconds: float | None = None
    output_cap_bytes: int | None = None

    def spec(self) -> ToolSpec:
        return ToolSpec(self.name, self.description, self.input_schema)


@dataclass(frozen=True)
class ToolOutcome:
    success: bool
    result: Any
    error: str | None
    duration_ms: int
    truncated: bool = False


class ToolError(Exception):
    """A tool's own, expected failure: its message goes back to the model."""


class ToolSource(Protocol):
    """Tools that come and go while Roost runs (an MCP server's); listed when asked."""

    async def tools(self) -> list[Tool]:
        """Every tool the source offers now (it may start what it needs to know)."""
        ...

    async def get(self, name: str) -> Tool | None:
        """The tool called ``name``, or None; raises :class:`ToolError` when the tool's
        owner cannot be reached to tell."""
        ...

    def known(self, name: str) -> Tool | None:
        """The tool called ``name`` as last listed, without waiting for anything."""
        ...


@dataclass
class ToolRegistry:
    """Static tools by name, and sources whose tools are asked for when needed.

    A static tool wins over a source's tool of the same name."""

    tools: dict[str, Tool] = field(default_factory=dict)
    sources: list[ToolSource] = field(default_factory=list)
    timeout_seconds: float = DEFAULT_TIMEOUT_SECONDS
    output_cap_bytes: int = DEFAULT_OUTPUT_CAP_BYTES

    def register(self, tool: Tool) -> None:
        if tool.name in self.tools:
            raise ValueError(f"tool {tool.name!r} is registered already")
        self.tools[tool.name] = tool

    def with_tools(self, tools: tuple[Tool, ...]) -> "ToolRegistry":
        """This registry with ``tools`` added, for one turn (a task's own tools)."""
        if not tools:
            return self
        return replace(self, tools=self.tools | {tool.name: tool for tool in tools})

    def unregister(self, name: str) -> None:
        self.tools.pop(name, None)

    def add_source(self, source: ToolSource) -> None:
        self.sources.append(source)

    def get(self, name: str) -> Tool | None:
        """A static tool, else a source's tool as it was last listed."""
        if name in self.tools:
            return self.tools[name]
        for source in self.sources:
            if (tool := source.known(name)) is not None:
                return tool
        return None

    def specs(self, names: list[str] | None = None) -> list[ToolSpec]:
        """Static tools only; a turn wants :meth:`available_specs`."""
        chosen = (
            self.tools.values()
            if names is None
            else (self.tools[n] for n in names if n in self.tools)
        )
        return [tool.spec() for tool in chosen]

    async def available(self, names: list[str] | None = None) -> list[Tool]:
        """Static tools, then every source's: all of them, or those in ``names``."""
        if names is not None and all(name in self.tools for name in names):
            return [self.tools[name] for name in dict.fromkeys(names)]
        listed = await asyncio.gather(*(source.tools() for source in self.sources))
        found = dict(self.tools)
        for tools in listed:
            for tool in tools:
                found.setdefault(tool.name, tool)
        if names is None:
            return list(found.values())
        return [found[name] for name in dict.fromkeys(names) if name in found]

    async def available_specs(
        self, names: list[str] | None = None, *, admin: bool = True
    ) -> list[ToolSpec]:
        """What a turn offers the model: no tool only admins may use, unless ``admin``."""
        tools = await self.available(names)
        return [tool.spec() for tool in tools if admin or not tool.admin_only]

    async def find(self, name: str) -> Tool | None:
        """A static tool, else a source's; may raise :class:`ToolError` (see ToolSource)."""
        if name in self.tools:
            return self.tools[name]
        for source in self.sources:
            if (tool := await source.get(name)) is not None:
                return tool
        return None

    async def execute(self, name: str, args: dict[str, Any], context: ToolContext) -> ToolOutcome:
        """Run a tool within its time limit; failures come back as outcomes, not raised.

        Within a turn, only a tool :meth:`get` knows runs — the tools listed for it, as
        its approval checks saw them — so no source starts anything mid-turn to find a
        name the model made up; outside a turn, a source may start to find the tool."""
        started = time.perf_counter()
        try:
            tool = self.get(name) if context.turn_id else await self.find(name)
        except ToolError as error:
            return _failed(str(error), started)
        if tool is None:
            return _failed(f"Unknown tool {name!r}", started)
        if tool.admin_only and not context.admin:
            return _failed(f"Only admins may use {name} on this server", started)
        limit = tool.timeout_seconds or self.timeout_seconds
        try:
            result = await asyncio.wait_for(tool.handler(args, context), limit)
        except TimeoutError:
            return _failed(f"Tool {name} timed out after {limit:g} s", started)
        except ToolError as error:
            return _failed(str(error), started)
        except Exception as error:  # a tool's bug must not end the turn
            return _failed(f"Tool {name} failed: {type(error).__name__}: {error}", started)
        result, truncated = cap_output(result, tool.output_cap_bytes or self.output_cap_bytes)
        return ToolOutcome(True, result, None, _elapsed_ms(started), truncated)


def cap_output(result: Any, cap: int) -> tuple[Any, bool]:
    """Results longer than ``cap`` bytes are cut, with a note saying so (not an error)."""
    text = result if isinstance(result, str) else None
    size = len(text.encode()) if text is not None else len(orjson.dumps(result, default=str))
    if size <= cap:
        return result, False
    whole = text if text is not None else orjson.dumps(result, default=str).decode()
    kept = whole.encode()[:cap].decode(errors="ignore")
    return f"{kept}\n[output truncated: {size} bytes, showing the first {cap}]", True


def _failed(message: str, started: float) -> ToolOutcome:
    return ToolOutcome(False, None, message, _elapsed_ms(started))


def _elapsed_ms(started: float) -> int:
    return int((time.perf_counter() - started) * 1000)
