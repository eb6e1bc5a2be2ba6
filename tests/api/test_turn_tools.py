"""The tool-call loop: tools the test registers, called by the fake model."""

import asyncio
from typing import Any

import httpx

from roost.engine.tools.registry import Tool, ToolContext, ToolError
from roost.testing import FakeLLM
from tests.support.sse import assert_well_formed, parse

Client = httpx.AsyncClient
NUMBERS = {"type": "object", "properties": {"a": {"type": "number"}, "b": {"type": "number"}}}


def register(app: Any, name: str, handler: Any, **options: Any) -> None:
    app.state.services.tools.register(
        Tool(name, f"The {name} tool", NUMBERS, handler, source="test", **options)
    )


async def stream(client: Client, sid: str, content: str) -> list[Any]:
    response = await client.post(
        f"/api/sessions/{sid}/messages", json={"content": content, "stream": True}
    )
    events = parse(response.text)
    assert_well_formed(events)
    return events


async def test_the_model_calls_a_tool_and_answers_with_its_result(
    app: Any, client: Client, fake_llm: FakeLLM
) -> None:
    seen: list[ToolContext] = []

    async def add(args: dict[str, Any], context: ToolContext) -> dict[str, float]:
        seen.append(context)
        return {"sum": args["a"] + args["b"]}

    register(app, "add", add)
    fake_llm.add_replies(
        {
            "text": "Let me add. ",
            "tool_calls": [{"id": "call_1", "name": "add", "arguments": {"a": 2, "b": 3}}],
        },
        {"text": "It is 5."},
    )
    sid = (await client.post("/api/sessions", json={})).json()["id"]
    events = await stream(client, sid, "2+3?")
    kinds = [e.event for e in events]
    assert kinds.index("tool_call") < kinds.index("tool_result") < kinds.index("done")
    call = next(e.data for e in events if e.event == "tool_call")
    assert call == {**call, "call_id": "call_1", "tool": "add", "args": {"a": 2, "b": 3}}
    result = next(e.data for e in events if e.event == "tool_result")
    assert result["success"] is True and result["result"] == {"sum": 5}
    assert isinstance(result["duration_ms"], int) and result["duration_ms"] >= 0
    assert events[-1].data["iterations"] == 2
    assert seen[0].session_id == sid
    messages = (await client.get(f"/api/sessions/{sid}/messages")).json()["data"]
    assert [m["role"] for m in messages] == ["user", "assistant", "tool", "assistant"]
    assert messages[1]["parts"][-1]["type"] == "tool_call"
    assert messages[2]["parts"][0]["call_id"] == "call_1"
    assert messages[3]["content"] == "It is 5."
    second = fake_llm.stats().last_requests[-1].body["messages"]
    assert second[-1]["role"] == "tool" and second[-1]["tool_call_id"] == "call_1"
    assert second[-2]["tool_calls"][0]["function"]["name"] == "add"


async def test_independent_calls_run_side_by_side(
    app: Any, client: Client, fake_llm: FakeLLM
) -> None:
    running = 0
    peak = 0
    both_started = asyncio.Event()

    async def slow(_args: dict[str, Any], _context: ToolContext) -> str:
        nonlocal running, peak
        running += 1
        peak = max(peak, running)
        if running == 2:
            both_started.set()
        await asyncio.wait_for(both_started.wait(), 2)
        running -= 1
        return "ok"

    register(app, "slow", slow)
    calls = [{"id": f"c{i}", "name": "slow", "arguments": {}} for i in range(2)]
    fake_llm.add_replies({"tool_calls": calls}, {"text": "done"})
    sid = (await client.post("/api/sessions", json={})).json()["id"]
    events = await stream(client, sid, "go")
    assert peak == 2
    assert [e.data["success"] for e in events if e.event == "tool_result"] == [True, True]


async def test_a_slow_tool_times_out_and_the_turn_goes_on(
    app: Any, client: Client, fake_llm: FakeLLM
) -> None:
    async def stuck(_args: dict[str, Any], _context: ToolContext) -> str:
        await asyncio.sleep(30)
        return "never"

    register(app, "stuck", stuck, timeout_seconds=0.05)
    fake_llm.add_replies(
        {"tool_calls": [{"name": "stuck", "arguments": {}}]}, {"text": "It timed out."}
    )
    sid = (await client.post("/api/sessions", json={})).json()["id"]
    events = await stream(client, sid, "go")
    result = next(e.data for e in events if e.event == "tool_result")
    assert result["success"] is False and "timed out" in result["error"]
    assert events[-1].data["status"] == "completed"
    sent = fake_llm.stats().last_requests[-1].body["messages"][-1]
    assert sent["role"] == "tool" and "timed out" in sent["content"]


async def test_tool_errors_and_unknown_tools_go_back_to_the_model(
    app: Any, client: Client, fake_llm: FakeLLM
) -> None:
    async def picky(_args: dict[str, Any], _context: ToolContext) -> str:
        raise ToolError("b must not be zero")

    register(app, "picky", picky)
    fake_llm.add_replies(
        {"tool_calls": [{"name": "picky", "arguments": {}}, {"name": "nope", "arguments": {}}]},
        {"text": "Sorry."},
    )
    sid = (await client.post("/api/sessions", json={})).json()["id"]
    events = await stream(client, sid, "go")
    errors = [e.data["error"] for e in events if e.event == "tool_result"]
    assert sorted(errors) == ["Unknown tool 'nope'", "b must not be zero"]


async def test_big_results_are_truncated_with_a_note(
    app: Any, client: Client, fake_llm: FakeLLM
) -> None:
    async def chatty(_args: dict[str, Any], _context: ToolContext) -> str:
        return "x" * 5000

    register(app, "chatty", chatty, output_cap_bytes=100)
    fake_llm.add_replies({"tool_calls": [{"name": "chatty", "arguments": {}}]}, {"text": "ok"})
    sid = (await client.post("/api/sessions", json={})).json()["id"]
    events = await stream(client, sid, "go")
    result = next(e.data for e in events if e.event == "tool_result")
    assert result["success"] is True
    assert result["result"].startswith("x" * 100) and "truncated" in result["result"]


async def test_max_iterations_ends_the_turn_failed(settings: Any, fake_llm: FakeLLM) -> None:
    from roost.app import create_app

    async def again(_args: dict[str, Any], _context: ToolContext) -> str:
        return "again"

    limited = create_app(settings.model_copy(update={"max_iterations": 2}))
    async with limited.router.lifespan_context(limited):
        register(limited, "again", again)
        loop = {"tool_calls": [{"name": "again", "arguments": {}}]}
        fake_llm.add_replies(loop, loop, loop)
        transport = httpx.ASGITransport(app=limited)
        async with httpx.AsyncClient(transport=transport, base_url="http://t") as client:
            sid = (await client.post("/api/sessions", json={})).json()["id"]
            events = await stream(client, sid, "loop forever")
    error = next(e.data for e in events if e.event == "error")
    assert error["code"] == "MAX_ITERATIONS_REACHED"
    assert events[-1].data["status"] == "failed" and events[-1].data["iterations"] == 2


async def test_tools_can_be_switched_off_for_a_turn(
    app: Any, client: Client, fake_llm: FakeLLM
) -> None:
    async def add(_args: dict[str, Any], _context: ToolContext) -> str:
        return "3"

    register(app, "add", add)
    sid = (await client.post("/api/sessions", json={})).json()["id"]
    await client.post(f"/api/sessions/{sid}/messages", json={"content": "hi"})
    offered = [t["function"]["name"] for t in fake_llm.stats().last_requests[-1].body["tools"]]
    assert "add" in offered and "update_plan" in offered
    await client.post(f"/api/sessions/{sid}/messages", json={"content": "hi", "enableTools": False})
    assert "tools" not in fake_llm.stats().last_requests[-1].body


async def test_malformed_arguments_go_back_to_the_model_without_running_the_tool(
    app: Any, client: Client, fake_llm: FakeLLM
) -> None:
    calls: list[dict[str, Any]] = []

    async def add(args: dict[str, Any], _context: ToolContext) -> str:
        calls.append(args)
        return "ran"

    register(app, "add", add)
    fake_llm.add_replies(
        {"tool_calls": [{"name": "add", "arguments": '{"a": 1,'}]}, {"text": "Let me retry."}
    )
    sid = (await client.post("/api/sessions", json={})).json()["id"]
    events = await stream(client, sid, "go")
    result = next(e.data for e in events if e.event == "tool_result")
    assert result["success"] is False and "JSON" in result["error"]
    assert calls == []


async def test_update_plan_streams_the_plan(client: Client, fake_llm: FakeLLM) -> None:
    steps = [
        {"id": "s1", "description": "Read the code", "status": "completed"},
        {"description": "Fix the bug", "status": "in_progress"},
    ]
    fake_llm.add_replies(
        {"tool_calls": [{"name": "update_plan", "arguments": {"steps": steps}}]},
        {"text": "On it."},
    )
    sid = (await client.post("/api/sessions", json={})).json()["id"]
    events = await stream(client, sid, "fix it")
    plan = next(e.data["plan"] for e in events if e.event == "plan_update")
    assert plan["steps"] == [
        {"id": "s1", "description": "Read the code", "status": "completed"},
        {"id": "step-2", "description": "Fix the bug", "status": "in_progress"},
    ]
    result = next(e.data for e in events if e.event == "tool_result")
    assert result["success"] is True and "1 of 2" in result["result"]
    kinds = [e.event for e in events]
    assert kinds.index("tool_call") < kinds.index("plan_update") < kinds.index("tool_result")


async def test_a_bad_plan_is_a_tool_error(client: Client, fake_llm: FakeLLM) -> None:
    fake_llm.add_replies(
        {"tool_calls": [{"name": "update_plan", "arguments": {"steps": [{"status": "done"}]}}]},
        {"text": "ok"},
    )
    sid = (await client.post("/api/sessions", json={})).json()["id"]
    events = await stream(client, sid, "plan")
    result = next(e.data for e in events if e.event == "tool_result")
    assert result["success"] is False and "description" in result["error"]
    assert "plan_update" not in [e.event for e in events]
