"""The agent loop on its own: a scripted provider, real tools in a registry, and a sink
that records what the runner reports. No HTTP and no database."""

import asyncio
from collections.abc import AsyncIterator
from typing import Any, Literal

import pytest

from roost.engine.providers.base import (
    ChatMessage,
    Finish,
    ModelInfo,
    ModelRequest,
    ProviderEvent,
    TextDelta,
    ThinkingDelta,
    ToolCall,
    ToolCallDone,
    ToolSpec,
    UsageReport,
)
from roost.engine.runner import Answer, InputRequest, RunSettings, TurnRunner, Usage
from roost.engine.tools.registry import Tool, ToolContext, ToolOutcome, ToolRegistry
from roost.errors import MaxIterationsReached

ANY = {"type": "object", "properties": {}}
CONTEXT = ToolContext(session_id="ses_1", turn_id="turn_1", owner_id="usr_1")

Script = list[ProviderEvent]


class ScriptedProvider:
    """Answers each model call with the next script, and records every request. A script
    that ends with ``hang`` stops there until its stream is closed."""

    id = "scripted"
    kind: Literal["openai", "anthropic"] = "openai"

    def __init__(self, *scripts: Script, hang: bool = False) -> None:
        self.scripts = list(scripts)
        self.hang = hang
        self.requests: list[ModelRequest] = []
        self.hanging = asyncio.Event()
        self.closed = asyncio.Event()

    async def stream(self, request: ModelRequest) -> AsyncIterator[ProviderEvent]:
        self.requests.append(request)
        script = self.scripts.pop(0)
        try:
            for event in script:
                yield event
            if self.hang and not self.scripts:
                self.hanging.set()
                await asyncio.Event().wait()
        finally:
            self.closed.set()

    async def list_models(self) -> list[ModelInfo]:
        return []

    async def aclose(self) -> None:
        return None


class Recorder:
    """A :class:`RunSink` that keeps what it is told, in order."""

    def __init__(self) -> None:
        self.events: list[tuple[str, dict[str, Any]]] = []
        self.answers: list[Answer] = []
        self.tool_results: list[list[tuple[ToolCall, ToolOutcome]]] = []
        self.inputs: list[InputRequest] = []

    async def emit(self, payload: Any) -> None:
        self.events.append((payload.type, payload.body()))

    async def answer_started(self) -> str:
        return f"msg_{len(self.answers) + 1}"

    async def answer_finished(self, answer: Answer) -> None:
        self.answers.append(answer)

    async def tools_finished(self, results: list[tuple[ToolCall, ToolOutcome]]) -> None:
        self.tool_results.append(results)

    async def input_required(
        self, requests: list[InputRequest], _iterations: int, _usage: Usage
    ) -> None:
        self.inputs += requests

    def kinds(self) -> list[str]:
        return [kind for kind, _ in self.events]


def text(*pieces: str, usage: tuple[int, int] = (5, 3)) -> Script:
    return [*(TextDelta(p) for p in pieces), UsageReport(*usage), Finish("stop")]


def calls(*made: ToolCall) -> Script:
    return [*(ToolCallDone(c) for c in made), UsageReport(10, 2), Finish("tool_calls")]


def runner(
    provider: ScriptedProvider,
    tools: ToolRegistry | None = None,
    max_iterations: int = 5,
) -> tuple[TurnRunner, Recorder]:
    registry = tools or ToolRegistry()
    request = ModelRequest(
        model="m",
        messages=[ChatMessage("user", "hi")],
        tools=[ToolSpec(t.name, t.description, t.input_schema) for t in registry.tools.values()],
    )
    sink = Recorder()
    settings = RunSettings(max_iterations=max_iterations, retries=1)
    return TurnRunner(provider, request, registry, CONTEXT, sink, settings), sink


def registry_of(*tools: Tool) -> ToolRegistry:
    registry = ToolRegistry()
    for tool in tools:
        registry.register(tool)
    return registry


async def test_text_streams_as_deltas_and_makes_one_answer() -> None:
    provider = ScriptedProvider(
        [ThinkingDelta("Say hello."), *text("Hel", "lo", "!", usage=(7, 4))]
    )
    run, sink = runner(provider)
    await run.run()
    assert sink.events == [
        ("thinking", {"content": "Say hello."}),
        ("text", {"content": "Hel"}),
        ("text", {"content": "lo"}),
        ("text", {"content": "!"}),
    ]
    [answer] = sink.answers
    assert (answer.message_id, answer.text, answer.thinking) == ("msg_1", "Hello!", "Say hello.")
    assert answer.finish == "stop" and answer.tool_calls == []
    assert run.iterations == 1 and run.usage.as_dict() == {
        "input_tokens": 7,
        "output_tokens": 4,
        "total_tokens": 11,
    }
    assert run.answer is None  # nothing left in progress


async def test_a_tool_call_round_trip_sends_the_result_back_to_the_model() -> None:
    async def add(args: dict[str, Any], _context: ToolContext) -> dict[str, int]:
        return {"sum": args["a"] + args["b"]}

    call = ToolCall("call_1", "add", {"a": 2, "b": 3})
    provider = ScriptedProvider(calls(call), text("It is 5."))
    run, sink = runner(provider, registry_of(Tool("add", "Adds", ANY, add)))
    await run.run()
    assert sink.kinds() == ["tool_call", "tool_result", "text"]
    assert sink.events[0][1] == {"call_id": "call_1", "tool": "add", "args": {"a": 2, "b": 3}}
    result = sink.events[1][1]
    assert result["success"] is True and result["result"] == {"sum": 5}
    [[(ran, outcome)]] = sink.tool_results
    assert ran == call and outcome.result == {"sum": 5}
    # The second call carries the first answer's call and the tool's result.
    sent = provider.requests[1].messages
    assert [m.role for m in sent] == ["user", "assistant", "tool"]
    assert sent[1].tool_calls == [call]
    assert sent[2].tool_call_id == "call_1" and sent[2].content == '{"sum":5}'
    assert [a.message_id for a in sink.answers] == ["msg_1", "msg_2"]
    assert run.iterations == 2 and run.usage.input_tokens == 15


async def test_parallel_tool_calls_run_side_by_side() -> None:
    both_running = asyncio.Event()
    running = 0

    async def wait_for_the_other(args: dict[str, Any], _context: ToolContext) -> str:
        nonlocal running
        running += 1
        if running == 2:
            both_running.set()
        await asyncio.wait_for(both_running.wait(), 5)  # alone, this would time out
        return f"done {args['n']}"

    first, second = ToolCall("c1", "slow", {"n": 1}), ToolCall("c2", "slow", {"n": 2})
    provider = ScriptedProvider(calls(first, second), text("Both done."))
    run, sink = runner(provider, registry_of(Tool("slow", "Waits", ANY, wait_for_the_other)))
    await run.run()
    # Both calls are announced before either result.
    assert sink.kinds() == ["tool_call", "tool_call", "tool_result", "tool_result", "text"]
    assert [m.content for m in provider.requests[1].messages[2:]] == ["done 1", "done 2"]


async def test_a_tool_error_goes_back_to_the_model_and_the_turn_goes_on() -> None:
    async def broken(_args: dict[str, Any], _context: ToolContext) -> str:
        raise RuntimeError("the disk is on fire")

    made_up = ToolCall("c2", "no_such_tool", {})
    provider = ScriptedProvider(
        calls(ToolCall("c1", "broken", {}), made_up), text("Sorry about that.")
    )
    run, sink = runner(provider, registry_of(Tool("broken", "Fails", ANY, broken)))
    await run.run()
    # Each result is reported as its call ends, in whatever order they end.
    results = {data["call_id"]: data for kind, data in sink.events if kind == "tool_result"}
    assert {call_id: r["success"] for call_id, r in results.items()} == {"c1": False, "c2": False}
    assert "the disk is on fire" in results["c1"]["error"]
    assert results["c2"]["error"] == "Unknown tool 'no_such_tool'"
    sent = provider.requests[1].messages[2:]
    assert [m.tool_call_id for m in sent] == ["c1", "c2"]  # in the order the model asked
    assert all(
        m.is_error and m.content == f"Error: {results[m.tool_call_id]['error']}" for m in sent
    )
    assert sink.answers[-1].text == "Sorry about that."


async def test_max_iterations_stops_a_model_that_keeps_calling_tools() -> None:
    async def again(_args: dict[str, Any], _context: ToolContext) -> str:
        return "again"

    looping = [calls(ToolCall(f"c{n}", "again", {})) for n in range(3)]
    provider = ScriptedProvider(*looping)
    run, sink = runner(provider, registry_of(Tool("again", "Loops", ANY, again)), 2)
    with pytest.raises(MaxIterationsReached) as stopped:
        await run.run()
    assert stopped.value.code == "MAX_ITERATIONS_REACHED"
    assert run.iterations == 2 and len(provider.requests) == 2
    assert len(sink.tool_results) == 2  # each model call's tools ran before the stop


async def test_cancelling_closes_the_stream_and_keeps_the_partial_answer() -> None:
    provider = ScriptedProvider(text("Once upon")[:1], hang=True)
    run, sink = runner(provider)
    task = asyncio.create_task(run.run())
    await asyncio.wait_for(provider.hanging.wait(), 5)
    task.cancel()
    with pytest.raises(asyncio.CancelledError):
        await task
    await asyncio.wait_for(provider.closed.wait(), 5)  # the upstream request was closed
    assert run.answer is not None and run.answer.text == "Once upon"
    assert sink.answers == []  # the answer never finished; whoever stopped it keeps it
