"""Runs over HTTP: CoAgent's request, answer and errors exactly; streaming; the run log
with its filters; tools that run when the agent has them; and a run's session kept out
of the session list."""

import asyncio
from typing import Any

import httpx
import pytest

from roost.testing import FakeLLM
from tests.support.admin import error_code
from tests.support.projects import new_project
from tests.support.sse import parse

Client = httpx.AsyncClient

SEED_RUN: dict[str, Any] = {
    "run_id": "eval_123e4567-e89b-12d3-a456-426614174000",
    "preamble": "You are a helpful customer support assistant.",
    "prompt": "I need help with returning a product I bought last week",
    "model_ref": {"provider_id": "openai", "model_name": "fake-small"},
    "log_meta": {"user_id": "user_456", "session_id": "session_789", "component": "support"},
}


async def run(client: Client, **body: Any) -> dict[str, Any]:
    response = await client.post("/api/v1/runs", json=body)
    assert response.status_code == 200, response.text
    return dict(response.json())


async def test_a_run_answers_in_coagents_shape_and_is_logged(
    client: Client, fake_llm: FakeLLM
) -> None:
    fake_llm.add_replies(
        {
            "text": "Happy to help with your return.",
            "usage": {"input_tokens": 45, "output_tokens": 38},
        }
    )
    answer = await run(client, **SEED_RUN)
    assert answer["response"] == "Happy to help with your return."
    assert answer["run_id"] == SEED_RUN["run_id"]
    assert answer["token_usage"] == {
        "prompt_tokens": 45,
        "completion_tokens": 38,
        "total_tokens": 83,
    }
    assert isinstance(answer["latency_ms"], int) and answer["latency_ms"] >= 0
    assert answer["status"] == "completed" and answer["agent_id"] is None
    sent = fake_llm.stats().last_request.body
    assert sent["model"] == "fake-small"
    assert SEED_RUN["preamble"] in str(sent["messages"][0])
    assert "tools" not in sent  # a bare preamble runs without tools

    logged = (await client.get(f"/api/runs/{SEED_RUN['run_id']}")).json()
    assert logged == answer
    assert logged["log_meta"] == SEED_RUN["log_meta"]
    # The run's session is reached through the run, not listed with the user's chats.
    assert (await client.get("/api/sessions")).json()["data"] == []
    assert (await client.get(f"/api/sessions/{logged['session_id']}")).status_code == 200

    again = await client.post("/api/runs", json=SEED_RUN)
    assert again.status_code == 409 and error_code(again) == "ALREADY_EXISTS"


async def test_the_seeds_errors_exactly(client: Client) -> None:
    empty = await client.post("/api/runs", json={**SEED_RUN, "prompt": "  "})
    assert empty.status_code == 400
    assert empty.json()["error"] == {
        "code": "INVALID_REQUEST",
        "message": "Missing required field: prompt",
        "details": {"field": "prompt", "reason": "Prompt field is required and cannot be empty"},
    }
    missing = await client.post("/api/runs", json={"preamble": "p"})
    assert missing.status_code == 400 and error_code(missing) == "INVALID_REQUEST"
    assert missing.json()["error"]["details"]["field"] == "prompt"
    assert missing.json()["error"]["details"]["reason"]

    unknown = await client.post(
        "/api/runs",
        json={
            **SEED_RUN,
            "run_id": None,
            "model_ref": {"provider_id": "openai", "model_name": "no-such-model"},
        },
    )
    assert unknown.status_code == 404
    error = unknown.json()["error"]
    assert error["code"] == "MODEL_NOT_FOUND"
    assert error["details"]["provider_id"] == "openai"
    assert error["details"]["model_name"] == "no-such-model"
    assert "fake-small" in error["details"]["available_models"]
    other = await client.post(
        "/api/runs",
        json={**SEED_RUN, "run_id": None, "model_ref": {"provider_id": "nope", "model_name": "x"}},
    )
    assert other.status_code == 404 and error_code(other) == "MODEL_NOT_FOUND"

    neither = await client.post("/api/runs", json={"prompt": "hi"})
    assert neither.status_code == 400 and neither.json()["error"]["details"]["field"] == "preamble"
    both = await client.post(
        "/api/runs", json={"prompt": "hi", "preamble": "p", "agent_id": "assistant"}
    )
    assert both.status_code == 400
    ghost = await client.post("/api/runs", json={"prompt": "hi", "agent_id": "ghost"})
    assert ghost.status_code == 404 and error_code(ghost) == "AGENT_NOT_FOUND"
    # Nothing refused was logged, and no session was left over.
    assert (await client.get("/api/runs")).json()["data"] == []


async def test_an_agents_run_runs_its_tools_and_records_its_version(
    client: Client, fake_llm: FakeLLM
) -> None:
    agent = (
        await client.post(
            "/api/agents",
            json={"name": "planner", "preamble": "You plan.", "tools": ["update_plan"]},
        )
    ).json()
    plan = {"steps": [{"description": "Look", "status": "completed"}]}
    fake_llm.add_replies(
        {"tool_calls": [{"name": "update_plan", "arguments": plan}]}, {"text": "Planned."}
    )
    answer = await run(client, agent_id="planner", prompt="Plan it")
    assert answer["response"] == "Planned."
    assert answer["agent_id"] == agent["id"] and answer["agent_version"] == 1
    assert answer["tool_calls"] == [{"name": "update_plan", "arguments": plan}]
    # The tool really ran: its result went back to the model.
    assert "Plan updated: 1 of 1" in str(fake_llm.stats().last_request.body["messages"])
    assert answer["run_id"] == answer["id"] and answer["id"].startswith("run_")


async def test_an_unattended_run_offers_no_tool_that_waits_on_a_person(
    client: Client, fake_llm: FakeLLM
) -> None:
    await client.post("/api/agents", json={"name": "asker", "preamble": "p"})
    await run(client, agent_id="asker", prompt="hi")
    offered = {t["function"]["name"] for t in fake_llm.stats().last_request.body["tools"]}
    assert "update_plan" in offered and "ask_user" not in offered  # nobody would answer
    await client.post(
        "/api/agents", json={"name": "careful", "preamble": "p", "requires_approval": True}
    )
    await run(client, agent_id="careful", prompt="hi")
    assert "tools" not in fake_llm.stats().last_request.body  # every call would wait


async def test_a_run_streams_the_turns_events(client: Client, fake_llm: FakeLLM) -> None:
    fake_llm.add_replies({"text": "streamed words"})
    response = await client.post(
        "/api/runs", json={"preamble": "p", "prompt": "hi", "stream": True, "run_id": "s1"}
    )
    assert response.status_code == 200
    assert response.headers["x-run-id"] == "s1"
    events = parse(response.text)
    assert (
        "".join(e.data.get("content", "") for e in events if e.event == "text") == "streamed words"
    )
    assert events[-1].event == "done"
    logged = (await client.get("/api/runs/s1")).json()
    assert logged["response"] == "streamed words" and logged["status"] == "completed"


async def test_an_upstream_failure_is_502_and_logged_as_failed(
    client: Client, fake_llm: FakeLLM
) -> None:
    fake_llm.add_replies(*[{"fault": 500}] * 5)
    response = await client.post(
        "/api/runs", json={"preamble": "p", "prompt": "hi", "run_id": "f1"}
    )
    assert response.status_code == 502 and error_code(response) == "UPSTREAM_ERROR"
    assert response.json()["error"]["details"]["run_id"] == "f1"
    assert (await client.get("/api/runs/f1")).json()["status"] == "failed"


async def test_the_run_log_filters_by_agent_meta_and_time(client: Client) -> None:
    await client.post("/api/agents", json={"name": "a1", "preamble": "p"})
    first = await run(client, agent_id="a1", prompt="one", log_meta={"component": "x", "n": 1})
    second = await run(client, preamble="p", prompt="two", log_meta={"component": "y"})
    third = await run(client, preamble="p", prompt="three", log_meta={"component": "x"})

    def ids(response: httpx.Response) -> list[str]:
        assert response.status_code == 200, response.text
        body = response.json()
        assert body["runs"] == body["data"]
        return [r["id"] for r in body["data"]]

    assert ids(await client.get("/api/runs")) == [third["id"], second["id"], first["id"]]
    assert ids(await client.get("/api/runs", params={"agent": "a1"})) == [first["id"]]
    assert ids(await client.get("/api/runs", params={"meta": "component=x"})) == [
        third["id"],
        first["id"],
    ]
    assert ids(await client.get("/api/runs", params={"log_meta.component": "y"})) == [second["id"]]
    assert ids(await client.get("/api/runs", params={"meta": ["component=x", "n=1"]})) == [
        first["id"]
    ]
    page = (await client.get("/api/runs", params={"limit": 2})).json()
    assert page["has_more"] is True
    rest = await client.get("/api/runs", params={"before": page["next_cursor"]})
    assert ids(rest) == [first["id"]]
    since = (await client.get("/api/runs", params={"from": second["created_at"]})).json()
    assert {r["id"] for r in since["data"]} == {second["id"], third["id"]}
    until = await client.get("/api/runs", params={"to": second["created_at"]})
    assert ids(until) == [first["id"]]
    bad = await client.get("/api/runs", params={"meta": "no-equals"})
    assert bad.status_code == 400 and error_code(bad) == "INVALID_REQUEST"
    missing = await client.get("/api/runs/nothing-here")
    assert missing.status_code == 404 and error_code(missing) == "RUN_NOT_FOUND"


@pytest.mark.located
async def test_a_background_run_answers_202_and_works_in_no_project(
    client: Client, fake_llm: FakeLLM
) -> None:
    project = await new_project(client, "Active")
    await client.post(f"/api/projects/{project['id']}/activate")
    fake_llm.add_replies({"text": "later", "ttft_ms": 50})
    response = await client.post(
        "/api/runs", params={"background": "true"}, json={"preamble": "p", "prompt": "hi"}
    )
    assert response.status_code == 202
    accepted = response.json()
    assert accepted["status"] == "running" and accepted["response"] is None
    for _ in range(500):
        run = (await client.get(f"/api/runs/{accepted['run_id']}")).json()
        if run["status"] != "running":
            break
        await asyncio.sleep(0.01)
    assert run["status"] == "completed" and run["response"] == "later"
    session = (await client.get(f"/api/sessions/{run['session_id']}")).json()
    assert session["project_id"] is None  # unattended: never the user's active project
