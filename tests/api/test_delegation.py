"""Delegation: the delegate tools in a turn, and Oqto's /api/delegate routes."""

import asyncio
from typing import Any

import httpx

from roost.config import Settings
from roost.testing import FakeLLM
from tests.support.accounts import account
from tests.support.apps import running
from tests.support.projects import code
from tests.support.sse import assert_well_formed, parse

Client = httpx.AsyncClient


def delegate(call_id: str, prompt: str, **more: Any) -> dict[str, Any]:
    return {
        "tool_calls": [{"id": call_id, "name": "delegate", "arguments": {"prompt": prompt, **more}}]
    }


async def streamed(client: Client, sid: str, content: str) -> list[Any]:
    response = await client.post(
        f"/api/sessions/{sid}/messages", json={"content": content, "stream": True}
    )
    events = parse(response.text)
    assert_well_formed(events)
    return events


async def test_an_agent_delegates_and_waits_for_the_answer(
    client: Client, fake_llm: FakeLLM
) -> None:
    fake_llm.add_replies(
        delegate("d1", "Count the sheep"),
        {"match": "Count the sheep", "text": "Forty-two sheep."},
        {"text": "The helper counted 42."},
    )
    sid = (await client.post("/api/sessions", json={})).json()["id"]
    events = await streamed(client, sid, "How many sheep?")
    result = next(e.data for e in events if e.event == "tool_result")
    assert result["success"] is True
    assert result["result"]["status"] == "completed"
    assert result["result"]["answer"] == "Forty-two sheep."
    statuses = [e.data["status"] for e in events if e.event == "status"]
    assert statuses == ["delegated", "delegate_done"]
    assert events[-1].data["status"] == "completed"

    child_id = result["result"]["session_id"]
    child = (await client.get(f"/api/sessions/{child_id}")).json()
    turn_id = events[0].data["turn_id"]
    assert child["parent_id"] == sid and child["delegated_by"] == turn_id
    assert [m["content"] for m in child["messages"]] == ["Count the sheep", "Forty-two sheep."]
    parent = (await client.get(f"/api/sessions/{sid}")).json()
    spent = child["usage"]["input_tokens"]
    assert spent > 0 and parent["usage"]["input_tokens"] > spent  # the child's counts too
    listed = (await client.get("/api/delegate/sessions")).json()["data"]
    assert [s["id"] for s in listed] == [child_id]


async def test_a_handle_now_and_the_result_later(client: Client, fake_llm: FakeLLM) -> None:
    fake_llm.add_replies(
        {"match": "Slow job", "text": "done slowly", "token_delay_ms": 20},
        delegate("d1", "Slow job", wait=False),
        {"text": "Started it."},
    )
    sid = (await client.post("/api/sessions", json={})).json()["id"]
    events = await streamed(client, sid, "start the slow job")
    handle = next(e.data for e in events if e.event == "tool_result")["result"]
    assert handle["status"] == "running"
    child_id = handle["session_id"]

    async def finished() -> dict[str, Any]:
        while True:
            status = (await client.get(f"/api/delegate/status/{child_id}")).json()
            if status["status"] == "completed":
                return dict(status)
            await asyncio.sleep(0.05)

    status = await asyncio.wait_for(finished(), 10)
    assert status["answer"] == "done slowly" and status["turn"]["id"] == handle["turn_id"]


async def test_depth_and_fan_out_are_limited(settings: Settings, fake_llm: FakeLLM) -> None:
    async with running(settings, delegation_max_depth=2, delegation_max_children=1) as (_, client):
        sid = (await client.post("/api/sessions", json={})).json()["id"]
        fake_llm.configure(tokens=2)
        one = await client.post("/api/delegate/start", json={"prompt": "a", "session_id": sid})
        assert one.status_code == 201, one.text
        child = one.json()["session"]["id"]
        two = await client.post("/api/delegate/start", json={"prompt": "b", "session_id": child})
        assert two.status_code == 201
        grandchild = two.json()["session"]["id"]
        three = await client.post(
            "/api/delegate/start", json={"prompt": "c", "session_id": grandchild}
        )
        assert three.status_code == 409 and code(three) == "DELEGATION_LIMIT_REACHED"
        assert three.json()["error"]["details"] == {"limit": "depth", "max": 2}

        fake_llm.add_replies(
            {
                "match": "fan out",
                "tool_calls": [
                    {"id": "x", "name": "delegate", "arguments": {"prompt": "x", "wait": False}},
                    {"id": "y", "name": "delegate", "arguments": {"prompt": "y", "wait": False}},
                ],
            },
            {"match": "fan out", "text": "Tried twice."},
        )
        events = await streamed(client, sid, "fan out")
        results = sorted(
            (e.data["success"], e.data.get("error") or "")
            for e in events
            if e.event == "tool_result"
        )
        assert results[0][0] is False and "children" in results[0][1]
        assert results[1][0] is True


async def test_cancelling_the_parent_cancels_the_child_it_waits_for(
    client: Client, fake_llm: FakeLLM
) -> None:
    fake_llm.add_replies(
        delegate("d1", "Take ages"),
        {"match": "Take ages", "text": "slow " * 100, "token_delay_ms": 200},  # 20 s
    )
    sid = (await client.post("/api/sessions", json={})).json()["id"]
    sent = await client.post(
        f"/api/sessions/{sid}/messages", params={"background": "true"}, json={"content": "go"}
    )
    assert sent.status_code == 202
    await fake_llm.wait_for(lambda stats: stats.requests >= 2)
    children = (await client.get("/api/delegate/sessions")).json()["data"]
    assert len(children) == 1
    cancelled = await client.delete(f"/api/sessions/{sid}/current-turn")
    assert cancelled.status_code == 200

    async def child_ended() -> str:
        while True:
            status = (await client.get(f"/api/delegate/status/{children[0]['id']}")).json()
            if status["status"] not in ("running", "queued"):
                return str(status["status"])
            await asyncio.sleep(0.05)

    assert await asyncio.wait_for(child_ended(), 30) == "cancelled"


async def test_the_delegate_api_prompts_reads_and_stops_a_child(
    client: Client, fake_llm: FakeLLM
) -> None:
    fake_llm.add_replies({"text": "First answer."}, {"text": "slow " * 100, "token_delay_ms": 50})
    started = await client.post("/api/delegate/start", json={"prompt": "Begin"})
    assert started.status_code == 201
    child = started.json()["session"]
    assert child["delegated_by"] == "api" and child["parent_id"] is None
    events = await client.get(
        f"/api/sessions/{child['id']}/turns/{started.json()['turn']['id']}/events"
    )
    assert_well_formed(parse(events.text))
    again = await client.post(f"/api/delegate/prompt/{child['id']}", json={"prompt": "More"})
    assert again.status_code == 202
    await fake_llm.wait_for(lambda stats: stats.requests >= 2)
    stopped = await client.post(f"/api/delegate/stop/{child['id']}")
    assert stopped.status_code == 200
    messages = (await client.get(f"/api/delegate/messages/{child['id']}")).json()["data"]
    assert [m["content"] for m in messages[:2]] == ["Begin", "First answer."]
    plain = (await client.post("/api/sessions", json={})).json()["id"]
    not_delegated = await client.get(f"/api/delegate/status/{plain}")
    assert not_delegated.status_code == 404 and code(not_delegated) == "SESSION_NOT_FOUND"


async def test_another_users_child_is_not_found(
    open_app: tuple[Any, Client], fake_llm: FakeLLM
) -> None:
    _, client = open_app
    a = (await account(client, "a@example.com")).headers
    b = (await account(client, "b@example.com")).headers
    fake_llm.configure(tokens=2)
    child = (await client.post("/api/delegate/start", headers=a, json={"prompt": "mine"})).json()
    sid = child["session"]["id"]
    for method, path in (
        ("GET", f"/api/delegate/status/{sid}"),
        ("GET", f"/api/delegate/messages/{sid}"),
        ("POST", f"/api/delegate/stop/{sid}"),
    ):
        response = await client.request(method, path, headers=b)
        assert response.status_code == 404 and code(response) == "SESSION_NOT_FOUND"
    prompt = await client.post(f"/api/delegate/prompt/{sid}", headers=b, json={"prompt": "x"})
    assert prompt.status_code == 404
    theirs = await client.post(
        "/api/delegate/start", headers=b, json={"prompt": "x", "session_id": sid}
    )
    assert theirs.status_code == 404
    assert (await client.get("/api/delegate/sessions", headers=b)).json()["data"] == []


async def test_cancelling_the_parent_cancels_the_children_it_did_not_wait_for(
    client: Client, fake_llm: FakeLLM
) -> None:
    fake_llm.add_replies(
        # The parent's second call carries the handle ("running"): checked first.
        {"match": '"running"', "text": "main " * 100, "token_delay_ms": 50},
        {"match": "Side job", "text": "side " * 100, "token_delay_ms": 50},
        delegate("d1", "Side job", wait=False),
    )
    sid = (await client.post("/api/sessions", json={})).json()["id"]
    sent = await client.post(
        f"/api/sessions/{sid}/messages", params={"background": "true"}, json={"content": "go on"}
    )
    assert sent.status_code == 202
    await fake_llm.wait_for(lambda stats: stats.requests >= 3)  # parent twice, child once
    [child] = (await client.get("/api/delegate/sessions")).json()["data"]
    assert (await client.delete(f"/api/sessions/{sid}/current-turn")).status_code == 200

    async def child_ended() -> str:
        while True:
            status = (await client.get(f"/api/delegate/status/{child['id']}")).json()
            if status["status"] not in ("running", "queued"):
                return str(status["status"])
            await asyncio.sleep(0.05)

    assert await asyncio.wait_for(child_ended(), 10) == "cancelled"
