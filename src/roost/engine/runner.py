"""The agent loop: call the model, run the tools it asks for, repeat until it answers.

The runner knows nothing of HTTP or SQL: it reports through a :class:`RunSink` — the
events it emits and the messages it produces — and keeps the answer in progress on
itself, so whoever stops it can keep the partial answer.
"""

import asyncio
from collections.abc import Callable
from contextlib import aclosing
from dataclasses import dataclass, field, replace
from typing import Any, Protocol

from roost.domain import events as turn_events
from roost.engine.providers.base import (
    ChatMessage,
    Finish,
    ModelRequest,
    Provider,
    ProviderEvent,
    TextDelta,
    ThinkingDelta,
    ToolCall,
    ToolCallDone,
    UsageReport,
)
from roost.engine.providers.retry import stream_with_retries
from roost.engine.providers.wire import RAW_ARGUMENTS_KEY
from roost.engine.tools.registry import ToolContext, ToolOutcome, ToolRegistry
from roost.errors import MaxIterationsReached


@dataclass(frozen=True)
class InputRequest:
    """A call the user must answer (``question``) or allow (``tool_approval``) first."""

    call: ToolCall
    kind: str
    prompt: str
    options: list[str] = field(default_factory=list)


class InputNeeded(Exception):
    """The turn waits for the user; raised once the calls that need nobody have run."""


# Decides, for each call the model makes, whether the user must answer or allow it first.
Gate = Callable[[ToolCall], InputRequest | None]


def _never(_call: ToolCall) -> InputRequest | None:
    return None


@dataclass
class Resumed:
    """What a waiting turn left behind: the answer whose calls wait, the results that are
    already in, and the user's responses by call id."""

    answer: ChatMessage
    results: list[ChatMessage]
    responses: dict[str, dict[str, Any]]


@dataclass
class Usage:
    input_tokens: int = 0
    output_tokens: int = 0

    def add(self, other: "Usage") -> None:
        self.input_tokens += other.input_tokens
        self.output_tokens += other.output_tokens

    def as_dict(self) -> dict[str, int]:
        return {
            "input_tokens": self.input_tokens,
            "output_tokens": self.output_tokens,
            "total_tokens": self.input_tokens + self.output_tokens,
        }


@dataclass
class Answer:
    """One model call's output, complete or (when stopped) partial."""

    message_id: str
    text: str = ""
    thinking: str = ""
    tool_calls: list[ToolCall] = field(default_factory=list)
    usage: Usage = field(default_factory=Usage)
    finish: str = "stop"

    def parts(self) -> list[dict[str, Any]]:
        parts: list[dict[str, Any]] = []
        if self.thinking:
            parts.append({"type": "thinking", "text": self.thinking})
        if self.text:
            parts.append({"type": "text", "text": self.text})
        parts += [
            {"type": "tool_call", "call_id": c.id, "tool": c.name, "args": c.arguments}
            for c in self.tool_calls
        ]
        return parts


class RunSink(Protocol):
    async def emit(self, payload: turn_events.Payload) -> Any: ...

    async def answer_started(self) -> str:
        """Store an empty assistant message for the coming answer; return its id."""
        ...

    async def answer_finished(self, answer: Answer) -> None: ...

    async def tools_finished(self, results: list[tuple[ToolCall, ToolOutcome]]) -> None: ...

    async def input_required(
        self, requests: list[InputRequest], iterations: int, usage: "Usage"
    ) -> None:
        """Record the questions and approvals the turn now waits on, and announce them."""
        ...


@dataclass
class RunSettings:
    max_iterations: int
    retries: int = 3
    continue_message_id: str | None = None  # append to this answer instead of a new one


class TurnRunner:
    def __init__(
        self,
        provider: Provider,
        request: ModelRequest,
        tools: ToolRegistry,
        tool_context: ToolContext,
        sink: RunSink,
        settings: RunSettings,
        gate: Gate = _never,
    ) -> None:
        self.provider = provider
        self.request = request
        self.tools = tools
        self.tool_context = tool_context
        self.sink = sink
        self.settings = settings
        self.gate = gate
        self.offered = frozenset(spec.name for spec in request.tools)
        self.usage = Usage()
        self.iterations = 0
        self.answer: Answer | None = None  # the answer being streamed, if any
        self.last_message_id: str | None = None
        self.last_text = ""  # the last complete answer's text
        self.report: Any = None  # the result of the tool that ended the turn, if one did

    async def run(self, resumed: Resumed | None = None) -> None:
        history = list(self.request.messages)
        if resumed is not None:
            history += [resumed.answer, *resumed.results]
            answered = {m.tool_call_id for m in resumed.results}
            waiting = [c for c in resumed.answer.tool_calls if c.id not in answered]
            results = await self._run_tools(waiting, resumed.responses, announce=False)
            if self._ended_by(results):
                return
            history += _tool_messages(results)
        while True:
            if self.iterations >= self.settings.max_iterations:
                raise MaxIterationsReached(self.settings.max_iterations)
            self.iterations += 1
            answer = await self._call_model(replace(self.request, messages=history))
            if not answer.tool_calls:
                return
            history.append(ChatMessage("assistant", answer.text, tool_calls=answer.tool_calls))
            results = await self._run_tools(answer.tool_calls)
            if self._ended_by(results):
                return
            history += _tool_messages(results)

    def _ended_by(self, results: list[tuple[ToolCall, ToolOutcome]]) -> bool:
        """Whether a tool that ends the turn (``finish_task``) succeeded; keeps its result."""
        for call, outcome in results:
            tool = self.tools.get(call.name)
            if outcome.success and tool is not None and tool.ends_turn:
                self.report = outcome.result
                return True
        return False

    async def _call_model(self, request: ModelRequest) -> Answer:
        continuing = self.settings.continue_message_id
        if continuing is not None and self.iterations == 1:
            message_id = continuing
        else:
            message_id = await self.sink.answer_started()
        answer = self.answer = Answer(message_id)
        self.last_message_id = message_id
        # aclosing: a cancel between two events closes the upstream request at once.
        stream = stream_with_retries(self.provider, request, attempts=self.settings.retries)
        async with aclosing(stream) as events:
            async for event in events:
                await self._take(answer, event)
        self.usage.add(answer.usage)
        self.answer = None
        self.last_text = answer.text
        await self.sink.answer_finished(answer)
        return answer

    async def _take(self, answer: Answer, event: ProviderEvent) -> None:
        if isinstance(event, TextDelta):
            answer.text += event.text
            await self.sink.emit(turn_events.TextDelta(content=event.text))
        elif isinstance(event, ThinkingDelta):
            answer.thinking += event.text
            await self.sink.emit(turn_events.ThinkingDelta(content=event.text))
        elif isinstance(event, ToolCallDone):
            answer.tool_calls.append(event.call)
        elif isinstance(event, UsageReport):
            answer.usage = Usage(event.input_tokens, event.output_tokens)
        elif isinstance(event, Finish):
            answer.finish = event.reason

    async def _run_tools(
        self,
        calls: list[ToolCall],
        responses: dict[str, dict[str, Any]] | None = None,
        *,
        announce: bool = True,
    ) -> list[tuple[ToolCall, ToolOutcome]]:
        """Announce every call, run side by side those that need nobody, report each as it
        ends; then, if some need the user, record that and wait (:class:`InputNeeded`)."""
        responses = responses or {}
        if announce:
            for call in calls:
                await self.sink.emit(
                    turn_events.ToolCallStarted(
                        call_id=call.id, tool=call.name, args=call.arguments
                    )
                )
        asks: list[InputRequest] = []
        ready: list[ToolCall] = []
        for call in calls:
            offered = call.name in self.offered
            ask = None if call.id in responses or not offered else self.gate(call)
            if ask is None:
                ready.append(call)
            else:
                asks.append(ask)
        outcomes = await asyncio.gather(*(self._run_one(c, responses.get(c.id)) for c in ready))
        results = list(zip(ready, outcomes, strict=True))
        if results:
            await self.sink.tools_finished(results)
        if asks:
            await self.sink.input_required(asks, self.iterations, self.usage)
            raise InputNeeded()
        return results

    async def _run_one(self, call: ToolCall, response: dict[str, Any] | None) -> ToolOutcome:
        if call.name not in self.offered:
            # Only what the turn offered runs: an agent's tool list, or tools turned off,
            # bind the model, whatever names it makes up.
            outcome = ToolOutcome(False, None, f"Unknown tool {call.name!r}", 0)
        elif RAW_ARGUMENTS_KEY in call.arguments:
            outcome = ToolOutcome(
                False, None, "The arguments were not a JSON object; call again", 0
            )
        elif response is None or response.get("approve"):
            outcome = await self.tools.execute(call.name, call.arguments, self.tool_context)
        elif "answer" in response:
            outcome = ToolOutcome(True, response["answer"], None, 0)
        else:
            reason = response.get("reason")
            outcome = ToolOutcome(
                False, None, "The user declined" + (f": {reason}" if reason else ""), 0
            )
        await self.sink.emit(
            turn_events.ToolResult(
                call_id=call.id,
                tool=call.name,
                result=outcome.result,
                success=outcome.success,
                error=outcome.error,
                duration_ms=outcome.duration_ms,
            )
        )
        return outcome


def _tool_messages(results: list[tuple[ToolCall, ToolOutcome]]) -> list[ChatMessage]:
    return [
        ChatMessage(
            "tool", tool_result_text(outcome), tool_call_id=call.id, is_error=not outcome.success
        )
        for call, outcome in results
    ]


def tool_result_text(outcome: ToolOutcome) -> str:
    if not outcome.success:
        return f"Error: {outcome.error}"
    if isinstance(outcome.result, str):
        return outcome.result
    import orjson

    return orjson.dumps(outcome.result, default=str).decode()
