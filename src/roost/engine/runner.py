"""The agent loop: call the model, run the tools it asks for, repeat until it answers.

The runner knows nothing of HTTP or SQL: it reports through a :class:`RunSink` — the
events it emits and the messages it produces — and keeps the answer in progress on
itself, so whoever stops it can keep the partial answer.
"""

import asyncio
from contextlib import aclosing
from dataclasses import dataclass, field, replace
from typing import Any, Protocol

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


class MaxIterationsReached(Exception):
    pass


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
    async def emit(self, type: str, **data: Any) -> Any: ...

    async def answer_started(self) -> str:
        """Store an empty assistant message for the coming answer; return its id."""
        ...

    async def answer_finished(self, answer: Answer) -> None: ...

    async def tools_finished(self, results: list[tuple[ToolCall, ToolOutcome]]) -> None: ...


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
    ) -> None:
        self.provider = provider
        self.request = request
        self.tools = tools
        self.tool_context = tool_context
        self.sink = sink
        self.settings = settings
        self.usage = Usage()
        self.iterations = 0
        self.answer: Answer | None = None  # the answer being streamed, if any
        self.last_message_id: str | None = None

    async def run(self) -> None:
        history = list(self.request.messages)
        while True:
            if self.iterations >= self.settings.max_iterations:
                raise MaxIterationsReached(self.settings.max_iterations)
            self.iterations += 1
            answer = await self._call_model(replace(self.request, messages=history))
            if not answer.tool_calls:
                return
            history.append(ChatMessage("assistant", answer.text, tool_calls=answer.tool_calls))
            results = await self._run_tools(answer.tool_calls)
            history += [
                ChatMessage(
                    "tool",
                    tool_result_text(outcome),
                    tool_call_id=call.id,
                    is_error=not outcome.success,
                )
                for call, outcome in results
            ]

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
        await self.sink.answer_finished(answer)
        return answer

    async def _take(self, answer: Answer, event: ProviderEvent) -> None:
        if isinstance(event, TextDelta):
            answer.text += event.text
            await self.sink.emit("text", content=event.text)
        elif isinstance(event, ThinkingDelta):
            answer.thinking += event.text
            await self.sink.emit("thinking", content=event.text)
        elif isinstance(event, ToolCallDone):
            answer.tool_calls.append(event.call)
        elif isinstance(event, UsageReport):
            answer.usage = Usage(event.input_tokens, event.output_tokens)
        elif isinstance(event, Finish):
            answer.finish = event.reason

    async def _run_tools(self, calls: list[ToolCall]) -> list[tuple[ToolCall, ToolOutcome]]:
        """Announce every call, run them side by side, report each as it ends."""
        for call in calls:
            await self.sink.emit("tool_call", call_id=call.id, tool=call.name, args=call.arguments)

        async def run_one(call: ToolCall) -> ToolOutcome:
            if RAW_ARGUMENTS_KEY in call.arguments:
                outcome = ToolOutcome(
                    False, None, "The arguments were not a JSON object; call again", 0
                )
            else:
                outcome = await self.tools.execute(call.name, call.arguments, self.tool_context)
            await self.sink.emit(
                "tool_result",
                call_id=call.id,
                tool=call.name,
                result=outcome.result,
                success=outcome.success,
                error=outcome.error,
                duration_ms=outcome.duration_ms,
            )
            return outcome

        outcomes = await asyncio.gather(*(run_one(call) for call in calls))
        results = list(zip(calls, outcomes, strict=True))
        await self.sink.tools_finished(results)
        return results


def tool_result_text(outcome: ToolOutcome) -> str:
    if not outcome.success:
        return f"Error: {outcome.error}"
    if isinstance(outcome.result, str):
        return outcome.result
    import orjson

    return orjson.dumps(outcome.result, default=str).decode()
