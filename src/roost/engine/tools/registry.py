"""The tool registry: every tool has a JSON-schema input, a timeout, an output cap and
an approval policy, wherever it comes from."""

import asyncio
import time
from collections.abc import Awaitable, Callable
from dataclasses import dataclass, field
from typing import Any

import orjson

from roost.engine.providers.base import ToolSpec
from roost.engine.tools.policy import SandboxPolicy

DEFAULT_TIMEOUT_SECONDS = 60.0
DEFAULT_OUTPUT_CAP_BYTES = 64 * 1024


Emit = Callable[..., Awaitable[Any]]


async def _nowhere(type: str, **data: Any) -> None:
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


Handler = Callable[[dict[str, Any], ToolContext], Awaitable[Any]]


@dataclass(frozen=True)
class Tool:
    name: str
    description: str
    input_schema: dict[str, Any]
    handler: Handler
    source: str = "builtin"
    requires_approval: bool = False
    timeout_seconds: float = DEFAULT_TIMEOUT_SECONDS
    output_cap_bytes: int = DEFAULT_OUTPUT_CAP_BYTES

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


@dataclass
class ToolRegistry:
    tools: dict[str, Tool] = field(default_factory=dict)

    def register(self, tool: Tool) -> None:
        if tool.name in self.tools:
            raise ValueError(f"tool {tool.name!r} is registered already")
        self.tools[tool.name] = tool

    def unregister(self, name: str) -> None:
        self.tools.pop(name, None)

    def get(self, name: str) -> Tool | None:
        return self.tools.get(name)

    def specs(self, names: list[str] | None = None) -> list[ToolSpec]:
        chosen = (
            self.tools.values()
            if names is None
            else (self.tools[n] for n in names if n in self.tools)
        )
        return [tool.spec() for tool in chosen]

    async def execute(self, name: str, args: dict[str, Any], context: ToolContext) -> ToolOutcome:
        """Run a tool within its time limit; failures come back as outcomes, not raised."""
        started = time.perf_counter()
        tool = self.tools.get(name)
        if tool is None:
            return _failed(f"Unknown tool {name!r}", started)
        try:
            result = await asyncio.wait_for(tool.handler(args, context), tool.timeout_seconds)
        except TimeoutError:
            return _failed(f"Tool {name} timed out after {tool.timeout_seconds:g} s", started)
        except ToolError as error:
            return _failed(str(error), started)
        except Exception as error:  # a tool's bug must not end the turn
            return _failed(f"Tool {name} failed: {type(error).__name__}: {error}", started)
        result, truncated = cap_output(result, tool.output_cap_bytes)
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
