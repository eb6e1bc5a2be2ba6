"""Turns that wait on the user: ask_user questions and tool calls that need approval."""

import asyncio
import os
import signal
from pathlib import Path
from typing import Any

import httpx

from roost.app import create_app
from roost.config import AgentSettings, Settings
from roost.engine.tools.registry import Tool, ToolContext
from roost.testing import FakeLLM
from tests.support.live import fake_model_env, roost_process
from tests.support.sse import assert_well_formed, parse
from tests.support.turns import ask, events_of, new_session, send, status_of

Client = httpx.AsyncClient
ANY = {"type": "object", "properties": {}}


def counting_tool(app: Any, name: str, **options: Any) -> list[dict[str, Any]]:
    """A tool that records its calls, so tests can tell whether it ran."""
    calls: list[dict[str, Any]] = []

    async def run(args: dict[str, Any], _context: ToolContext) -> str:
        calls.append(args)
        return f"{name} ran"

    app.state.services.tools.register(Tool(name, f"The {name} tool", ANY, run, **options))
    return calls


async def test_ask_user_waits_and_the_answer_becomes_the_call_result(
    client: Client, fake_llm: FakeLLM
) -> None:
    fake_llm.add_replies(ask("Which colour?", ["red", "blue"]), {"text": "Blue it is."})
    sid = await new_session(client)
    waiting = await send(client, sid, "paint it")
    turn_id = waiting["turn"]["id"]
    assert waiting["turn"]["status"] == "waiting" and waiting["reply"] is None
    [request] = waiting["input_required"]
    assert request["kind"] == "question" and request["prompt"] == "Which colour?"
    assert request["status"] == "pending" and request["call_id"] == "ask_1"
    session = (await client.get(f"/api/sessions/{sid}")).json()
    assert session["status"] == "waiting"
    assert fake_llm.stats().requests == 1  # nothing goes on until the user answers

    answered = await client.post(
        f"/api/sessions/{sid}/turns/{turn_id}/input",
        json={"request_id": request["request_id"], "answer": "blue"},
    )
    assert answered.status_code == 200, answered.text
    body = answered.json()
    assert body["resumed"] is True and body["pending"] == []
    assert body["request"]["status"] == "answered"
    assert body["request"]["response"] == {"answer": "blue"}

    events = await events_of(client, sid, turn_id)
    kinds = [e.event for e in events]
    assert kinds[:3] == ["turn_start", "tool_call", "input_required"]
    assert kinds.index("input_required") < kinds.index("status") < kinds.index("tool_result")
    asked = next(e.data for e in events if e.event == "input_required")
    assert asked["request_id"] == request["request_id"] and asked["options"] == ["red", "blue"]
    result = next(e.data for e in events if e.event == "tool_result")
    assert result == {**result, "call_id": "ask_1", "success": True, "result": "blue"}
    assert events[-1].data["status"] == "completed" and events[-1].data["iterations"] == 2
    sent = fake_llm.stats().last_requests[-1].body["messages"]
    assert sent[-1] == {**sent[-1], "role": "tool", "tool_call_id": "ask_1", "content": "blue"}
    assert sent[-2]["tool_calls"][0]["function"]["name"] == "ask_user"
    messages = (await client.get(f"/api/sessions/{sid}/messages")).json()["data"]
    assert [m["role"] for m in messages] == ["user", "assistant", "tool", "assistant"]
    assert messages[-1]["content"] == "Blue it is."
    turn = (await client.get(f"/api/sessions/{sid}/turns/{turn_id}")).json()
    assert turn["status"] == "completed" and turn["usage"]["total_tokens"] > 0
    assert (await client.get(f"/api/sessions/{sid}")).json()["status"] == "idle"


async def test_a_call_needing_approval_runs_only_once_approved(
    app: Any, client: Client, fake_llm: FakeLLM
) -> None:
    guarded = counting_tool(app, "deploy", requires_approval=True)
    free = counting_tool(app, "look")
    calls = [
        {"id": "c_look", "name": "look", "arguments": {}},
        {"id": "c_deploy", "name": "deploy", "arguments": {"target": "prod"}},
    ]
    fake_llm.add_replies({"tool_calls": calls}, {"text": "Deployed."})
    sid = await new_session(client)
    waiting = await send(client, sid)
    [request] = waiting["input_required"]
    assert request == {
        **request,
        "kind": "tool_approval",
        "tool": "deploy",
        "args": {"target": "prod"},
    }
    assert len(free) == 1 and guarded == []  # the free call ran; the guarded one waits

    answered = await client.post(
        f"/api/sessions/{sid}/turns/{waiting['turn']['id']}/input",
        json={"request_id": request["id"], "approve": True},
    )
    assert answered.json()["resumed"] is True
    events = await events_of(client, sid, waiting["turn"]["id"])
    assert guarded == [{"target": "prod"}] and len(free) == 1
    results = [e.data for e in events if e.event == "tool_result"]
    assert [r["call_id"] for r in results] == ["c_look", "c_deploy"]
    assert all(r["success"] for r in results)
    sent = fake_llm.stats().last_requests[-1].body["messages"]
    assert {m.get("tool_call_id") for m in sent if m["role"] == "tool"} == {"c_look", "c_deploy"}
    assert events[-1].data["status"] == "completed"


async def test_a_declined_call_never_runs_and_the_model_hears_why(
    app: Any, client: Client, fake_llm: FakeLLM
) -> None:
    guarded = counting_tool(app, "wipe", requires_approval=True)
    fake_llm.add_replies(
        {"tool_calls": [{"id": "c1", "name": "wipe", "arguments": {}}]}, {"text": "Not wiped."}
    )
    sid = await new_session(client)
    waiting = await send(client, sid)
    request = waiting["input_required"][0]
    await client.post(
        f"/api/sessions/{sid}/turns/{waiting['turn']['id']}/input",
        json={"requestId": request["id"], "deny": True, "reason": "too risky"},
    )
    events = await events_of(client, sid, waiting["turn"]["id"])
    result = next(e.data for e in events if e.event == "tool_result")
    assert result["success"] is False and result["error"] == "The user declined: too risky"
    assert guarded == []
    sent = fake_llm.stats().last_requests[-1].body["messages"][-1]
    assert sent["role"] == "tool" and "too risky" in sent["content"]


async def test_settings_and_agents_decide_which_calls_wait(
    settings: Settings, fake_llm: FakeLLM
) -> None:
    strict = AgentSettings(preamble="Careful.", requires_approval=True)
    app = create_app(
        settings.model_copy(
            update={"tools_requiring_approval": ["look"], "agents": {"strict": strict}}
        )
    )
    async with app.router.lifespan_context(app):
        looked = counting_tool(app, "look")
        planned = counting_tool(app, "plan_it")
        transport = httpx.ASGITransport(app=app)
        async with Client(transport=transport, base_url="http://t") as client:
            fake_llm.add_replies({"tool_calls": [{"name": "look", "arguments": {}}]})
            sid = await new_session(client)
            by_settings = await send(client, sid)
            assert by_settings["input_required"][0]["tool"] == "look" and looked == []
            await client.delete(f"/api/sessions/{sid}/current-turn")

            fake_llm.add_replies({"tool_calls": [{"name": "plan_it", "arguments": {}}]})
            strict_sid = str(
                (await client.post("/api/sessions", json={"agent": "strict"})).json()["id"]
            )
            by_agent = await send(client, strict_sid)
            assert by_agent["input_required"][0]["tool"] == "plan_it" and planned == []
            await client.delete(f"/api/sessions/{strict_sid}/current-turn")


async def test_wrong_answers_are_refused_and_change_nothing(
    app: Any, client: Client, fake_llm: FakeLLM
) -> None:
    counting_tool(app, "deploy", requires_approval=True)
    fake_llm.add_replies({"tool_calls": [{"name": "deploy", "arguments": {}}]})
    sid = await new_session(client)
    waiting = await send(client, sid)
    turn_id, request_id = waiting["turn"]["id"], waiting["input_required"][0]["id"]
    url = f"/api/sessions/{sid}/turns/{turn_id}/input"

    async def refused(body: dict[str, Any], status: int, code: str) -> None:
        response = await client.post(url, json=body)
        assert response.status_code == status, response.text
        assert response.json()["error"]["code"] == code

    await refused(
        {"request_id": "inp_01jd3x0000000000000000000a", "approve": True},
        404,
        "INPUT_REQUEST_NOT_FOUND",
    )
    await refused({"request_id": "nonsense", "approve": True}, 404, "INPUT_REQUEST_NOT_FOUND")
    await refused({"request_id": request_id, "answer": "yes"}, 400, "INVALID_INPUT_RESPONSE")
    await refused(
        {"request_id": request_id, "approve": True, "deny": True}, 400, "INVALID_INPUT_RESPONSE"
    )
    await refused({"request_id": request_id}, 400, "INVALID_INPUT_RESPONSE")
    await refused({"request_id": request_id, "approve": "yes"}, 422, "VALIDATION_ERROR")
    await refused({"request_id": request_id, "answer": "x\u0000"}, 422, "VALIDATION_ERROR")
    other = await client.post(
        f"/api/sessions/{sid}/turns/turn_01jd3x0000000000000000000a/input",
        json={"request_id": request_id, "approve": True},
    )
    assert other.status_code == 404 and other.json()["error"]["code"] == "TURN_NOT_FOUND"
    listed = (await client.get(f"/api/sessions/{sid}/turns/{turn_id}/inputs")).json()["data"]
    assert [r["status"] for r in listed] == ["pending"]

    # Two answers at once: exactly one wins, the other hears it is no longer pending.
    first, second = await asyncio.gather(
        client.post(url, json={"request_id": request_id, "approve": True}),
        client.post(url, json={"request_id": request_id, "deny": True}),
    )
    assert sorted([first.status_code, second.status_code]) == [200, 409]
    await events_of(client, sid, turn_id)
    await refused({"request_id": request_id, "approve": True}, 409, "INPUT_NOT_PENDING")


async def test_a_waiting_turn_holds_its_session_until_answered_or_cancelled(
    app: Any, client: Client, fake_llm: FakeLLM
) -> None:
    counting_tool(app, "deploy", requires_approval=True)
    fake_llm.add_replies({"tool_calls": [{"name": "deploy", "arguments": {}}]})
    sid = await new_session(client)
    waiting = await send(client, sid)
    turn_id = waiting["turn"]["id"]
    busy = await client.post(f"/api/sessions/{sid}/messages", json={"content": "again"})
    assert busy.status_code == 409 and busy.json()["error"]["code"] == "TURN_IN_PROGRESS"

    fake_llm.add_replies({"text": "Next answer."})
    queued = await client.post(
        f"/api/sessions/{sid}/messages",
        params={"background": True},
        json={"content": "after that", "on_busy": "enqueue"},
    )
    assert queued.status_code == 202
    queued_id = queued.json()["turn"]["id"]
    # The queue ran the queued turn's job, which found the waiting turn before it and held it.
    await asyncio.wait_for(app.state.services.queue.wait(queued_id), 10)
    assert await status_of(client, sid, queued_id) == "queued"

    cancelled = await client.delete(f"/api/sessions/{sid}/current-turn")
    assert cancelled.status_code == 200
    events = await events_of(client, sid, turn_id)
    assert events[-1].data["status"] == "cancelled"
    listed = (await client.get(f"/api/sessions/{sid}/turns/{turn_id}/inputs")).json()["data"]
    assert [r["status"] for r in listed] == ["closed"]
    late = await client.post(
        f"/api/sessions/{sid}/turns/{turn_id}/input",
        json={"request_id": listed[0]["id"], "approve": True},
    )
    assert late.status_code == 409 and late.json()["error"]["code"] == "INPUT_NOT_PENDING"
    assert await status_of(client, sid, queued_id) == "cancelled"


async def test_turns_queued_behind_a_waiting_turn_run_after_it(
    app: Any, client: Client, fake_llm: FakeLLM
) -> None:
    counting_tool(app, "deploy", requires_approval=True)
    fake_llm.add_replies(
        {"tool_calls": [{"name": "deploy", "arguments": {}}]},
        {"text": "First done."},
        {"text": "Second done."},
    )
    sid = await new_session(client)
    waiting = await send(client, sid)
    queued = await client.post(
        f"/api/sessions/{sid}/messages",
        params={"background": True},
        json={"content": "then this", "on_busy": "enqueue"},
    )
    queued_id = queued.json()["turn"]["id"]
    await asyncio.wait_for(app.state.services.queue.wait(queued_id), 10)  # held, not run
    assert await status_of(client, sid, queued_id) == "queued"
    await client.post(
        f"/api/sessions/{sid}/turns/{waiting['turn']['id']}/input",
        json={"request_id": waiting["input_required"][0]["id"], "approve": True},
    )
    second = await events_of(client, sid, queued_id)
    assert second[-1].data["status"] == "completed"
    messages = (await client.get(f"/api/sessions/{sid}/messages")).json()["data"]
    assert [m["content"] for m in messages if m["role"] == "assistant"][-2:] == [
        "First done.",
        "Second done.",
    ]


async def test_ask_user_is_listed_and_only_works_inside_a_turn(client: Client) -> None:
    tools = (await client.get("/api/tools")).json()["tools"]
    assert "ask_user" in {t["name"] for t in tools}
    ran = await client.post("/api/tools/execute", json={"name": "ask_user", "args": {}})
    assert ran.status_code == 200
    assert ran.json()["success"] is False and "inside a turn" in ran.json()["error"]


async def test_a_streaming_client_sees_the_wait_and_the_rest_in_one_stream(
    live_server: str, fake_llm: FakeLLM
) -> None:
    fake_llm.add_replies(ask("Go on?"), {"text": "Went on."})
    async with httpx.AsyncClient(base_url=live_server, timeout=10) as client:
        sid = await new_session(client)
        frames: list[str] = []
        seen_question = asyncio.Event()

        async def read() -> None:
            async with client.stream(
                "POST", f"/api/sessions/{sid}/messages", json={"content": "x", "stream": True}
            ) as response:
                async for line in response.aiter_lines():
                    frames.append(line)
                    if line == "event: input_required":
                        seen_question.set()

        reader = asyncio.create_task(read())
        await asyncio.wait_for(seen_question.wait(), 5)
        turn_id = (await client.get(f"/api/sessions/{sid}/turns")).json()["data"][0]["id"]
        [request] = (await client.get(f"/api/sessions/{sid}/turns/{turn_id}/inputs")).json()["data"]
        await client.post(
            f"/api/sessions/{sid}/turns/{turn_id}/input",
            json={"request_id": request["id"], "answer": "go on"},
        )
        await asyncio.wait_for(reader, 5)
    events = parse("\n".join(frames) + "\n")
    assert_well_formed(events)
    assert events[-1].event == "done" and events[-1].data["status"] == "completed"
    assert "".join(e.data["content"] for e in events if e.event == "text") == "Went on."


async def test_a_waiting_turn_survives_a_killed_server(
    tmp_path: Path, database_url: str, fake_llm: FakeLLM
) -> None:
    fake_llm.add_replies(ask("Still there?"), {"text": "Back again."})
    env = fake_model_env(fake_llm, ROOST_DATABASE_URL=database_url)
    home = tmp_path / "home"
    with roost_process(home, env) as (process, url):
        async with httpx.AsyncClient(base_url=url, timeout=10) as client:
            sid = await new_session(client)
            waiting = await send(client, sid)
        os.kill(process.pid, signal.SIGKILL)
        process.wait(timeout=10)
    turn_id, request_id = waiting["turn"]["id"], waiting["input_required"][0]["id"]
    with roost_process(home, env) as (_process, url):
        async with httpx.AsyncClient(base_url=url, timeout=10) as client:
            turn = (await client.get(f"/api/sessions/{sid}/turns/{turn_id}")).json()
            assert turn["status"] == "waiting"  # not interrupted, unlike a running turn
            answered = await client.post(
                f"/api/sessions/{sid}/turns/{turn_id}/input",
                json={"request_id": request_id, "answer": "yes"},
            )
            assert answered.json()["resumed"] is True
            events = await events_of(client, sid, turn_id)
    assert events[-1].data["status"] == "completed"
    assert "".join(e.data["content"] for e in events if e.event == "text") == "Back again."
    assert next(e.data for e in events if e.event == "tool_result")["result"] == "yes"


async def test_a_tool_allowed_for_the_session_stops_asking(
    app: Any, client: Client, fake_llm: FakeLLM
) -> None:
    guarded = counting_tool(app, "deploy", requires_approval=True)
    deploy = {"tool_calls": [{"name": "deploy", "arguments": {}}]}
    fake_llm.add_replies(deploy, {"text": "Deployed."}, deploy, {"text": "Again."})
    sid = await new_session(client)
    waiting = await send(client, sid)
    turn_id, request_id = waiting["turn"]["id"], waiting["input_required"][0]["id"]
    url = f"/api/sessions/{sid}/turns/{turn_id}/input"
    refused = await client.post(
        url, json={"request_id": request_id, "deny": True, "remember": True}
    )
    assert refused.status_code == 400
    assert refused.json()["error"]["code"] == "INVALID_INPUT_RESPONSE"
    allowed = await client.post(
        url, json={"request_id": request_id, "approve": True, "remember": True}
    )
    assert allowed.json()["request"]["response"] == {"approve": True, "remember": True}
    await events_of(client, sid, turn_id)
    session = (await client.get(f"/api/sessions/{sid}")).json()
    assert session["approved_tools"] == ["deploy"]

    second = await send(client, sid, "deploy again")  # no question this time
    assert second["turn"]["status"] == "completed" and second["input_required"] == []
    assert len(guarded) == 2

    cleared = await client.patch(f"/api/sessions/{sid}", json={"approved_tools": []})
    assert cleared.json()["approved_tools"] == []
    fake_llm.add_replies(deploy)
    third = await send(client, sid, "and again")
    assert third["turn"]["status"] == "waiting" and len(guarded) == 2
    await client.delete(f"/api/sessions/{sid}/current-turn")
    other = await new_session(client)  # another session asks as before
    assert (await client.get(f"/api/sessions/{other}")).json()["approved_tools"] == []


async def test_floyds_blocking_chat_returns_when_the_turn_asks(
    client: Client, fake_llm: FakeLLM
) -> None:
    fake_llm.add_replies(ask("Which file?"), {"text": "Opened it."})
    answered = await client.post("/api/chat", json={"sessionId": None, "message": "open one"})
    assert answered.status_code == 200, answered.text
    body = answered.json()
    [request] = body["input_required"]
    assert request["prompt"] == "Which file?" and body["response"] == ""
    sid, turn_id = body["session"]["id"], body["turn_id"]
    await client.post(
        f"/api/sessions/{sid}/turns/{turn_id}/input",
        json={"request_id": request["id"], "answer": "notes.txt"},
    )
    events = await events_of(client, sid, turn_id)
    assert events[-1].data["status"] == "completed"


async def test_the_inbox_lists_what_every_session_waits_on(
    client: Client, fake_llm: FakeLLM
) -> None:
    fake_llm.add_replies(ask("First?"), ask("Second?"))
    first_sid, second_sid = await new_session(client), await new_session(client)
    first = await send(client, first_sid)
    second = await send(client, second_sid)
    inbox = (await client.get("/api/inputs")).json()
    assert [r["prompt"] for r in inbox["data"]] == ["Second?", "First?"]  # newest first
    assert [r["session_id"] for r in inbox["data"]] == [second_sid, first_sid]
    page = (await client.get("/api/inputs", params={"limit": 1})).json()
    assert page["has_more"] is True and len(page["data"]) == 1
    rest = (await client.get("/api/inputs", params={"before": page["next_cursor"]})).json()
    assert [r["prompt"] for r in rest["data"]] == ["First?"] and rest["has_more"] is False
    bad = await client.get("/api/inputs", params={"before": "nonsense"})
    assert bad.status_code == 400

    fake_llm.add_replies({"text": "Thanks."})
    request = first["input_required"][0]
    await client.post(
        f"/api/sessions/{first_sid}/turns/{first['turn']['id']}/input",
        json={"request_id": request["id"], "answer": "yes"},
    )
    await client.delete(f"/api/sessions/{second_sid}/current-turn")
    await events_of(client, first_sid, first["turn"]["id"])
    assert (await client.get("/api/inputs")).json()["data"] == []
    assert second["turn"]["status"] == "waiting"


async def test_remembering_allows_the_tools_other_waiting_calls_too(
    app: Any, client: Client, fake_llm: FakeLLM
) -> None:
    guarded = counting_tool(app, "deploy", requires_approval=True)
    other = counting_tool(app, "wipe", requires_approval=True)
    calls = [
        {"id": "d1", "name": "deploy", "arguments": {"n": 1}},
        {"id": "d2", "name": "deploy", "arguments": {"n": 2}},
        {"id": "w1", "name": "wipe", "arguments": {}},
    ]
    fake_llm.add_replies({"tool_calls": calls}, {"text": "Done."})
    sid = await new_session(client)
    waiting = await send(client, sid)
    requests = {r["call_id"]: r for r in waiting["input_required"]}
    url = f"/api/sessions/{sid}/turns/{waiting['turn']['id']}/input"
    remembered = await client.post(
        url, json={"request_id": requests["d1"]["id"], "approve": True, "remember": True}
    )
    body = remembered.json()
    assert body["resumed"] is False  # wipe still waits: it is another tool
    assert [r["call_id"] for r in body["pending"]] == ["w1"]
    await client.post(url, json={"request_id": requests["w1"]["id"], "deny": True})
    await events_of(client, sid, waiting["turn"]["id"])
    assert sorted(c["n"] for c in guarded) == [1, 2] and other == []


async def test_remembering_the_only_tool_waiting_lets_the_turn_go_on(
    app: Any, client: Client, fake_llm: FakeLLM
) -> None:
    guarded = counting_tool(app, "deploy", requires_approval=True)
    calls = [{"id": f"d{n}", "name": "deploy", "arguments": {"n": n}} for n in (1, 2)]
    fake_llm.add_replies({"tool_calls": calls}, {"text": "Both deployed."})
    sid = await new_session(client)
    waiting = await send(client, sid)
    first = waiting["input_required"][0]
    remembered = await client.post(
        f"/api/sessions/{sid}/turns/{waiting['turn']['id']}/input",
        json={"request_id": first["id"], "approve": True, "remember": True},
    )
    assert remembered.json()["resumed"] is True and remembered.json()["pending"] == []
    events = await events_of(client, sid, waiting["turn"]["id"])
    assert events[-1].data["status"] == "completed"
    assert sorted(c["n"] for c in guarded) == [1, 2]
