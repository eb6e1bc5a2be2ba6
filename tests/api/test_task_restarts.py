"""Tasks across a killed server: one waiting on the user goes on after the answer; one
that was running is interrupted, and can be started again."""

import asyncio
import os
import signal
from pathlib import Path
from typing import Any

import httpx

from roost.testing import FakeLLM
from tests.support.live import fake_model_env, roost_process
from tests.support.sse import assert_well_formed, parse
from tests.support.turns import ask


async def until_waiting(client: httpx.AsyncClient, task_id: str) -> dict[str, Any]:
    """The task once it waits on the user (its stream stays open while it waits)."""

    async def poll() -> dict[str, Any]:
        while True:
            shown = dict((await client.get(f"/api/tasks/{task_id}")).json())
            if shown["status"] == "waiting":
                return shown
            await asyncio.sleep(0.02)

    return await asyncio.wait_for(poll(), 10)


async def settled(client: httpx.AsyncClient, task_id: str) -> dict[str, Any]:
    events = await client.get(f"/api/tasks/{task_id}/events")
    assert_well_formed(parse(events.text))
    return dict((await client.get(f"/api/tasks/{task_id}")).json())


async def test_a_waiting_task_goes_on_after_a_restart_and_the_answer(
    tmp_path: Path, database_url: str, fake_llm: FakeLLM
) -> None:
    fake_llm.add_replies(
        ask("Which greeting?"),
        {"tool_calls": [{"name": "finish_task", "arguments": {"success": True, "summary": "Hi"}}]},
    )
    env = fake_model_env(fake_llm, ROOST_DATABASE_URL=database_url)
    home = tmp_path / "home"
    with roost_process(home, env) as (process, url):
        async with httpx.AsyncClient(base_url=url, timeout=10) as client:
            task = (await client.post("/api/tasks", json={"description": "Greet"})).json()
            waiting = await until_waiting(client, task["id"])
            assert waiting["turn_id"] is not None
        os.kill(process.pid, signal.SIGKILL)
        process.wait(timeout=10)
    with roost_process(home, env) as (_process, url):
        async with httpx.AsyncClient(base_url=url, timeout=10) as client:
            shown = (await client.get(f"/api/tasks/{task['id']}")).json()
            assert shown["status"] == "waiting"
            inbox = (await client.get("/api/inputs")).json()["data"]
            [request] = [r for r in inbox if r["turn_id"] == waiting["turn_id"]]
            answered = await client.post(
                f"/api/sessions/{task['session_id']}/turns/{waiting['turn_id']}/input",
                json={"request_id": request["id"], "answer": "Hello"},
            )
            assert answered.status_code == 200 and answered.json()["resumed"] is True
            ended = await settled(client, task["id"])
    assert ended["status"] == "completed"
    assert ended["result"] == {"success": True, "summary": "Hi"}


async def test_a_running_task_is_interrupted_by_a_restart_and_runs_again(
    tmp_path: Path, database_url: str, fake_llm: FakeLLM
) -> None:
    fake_llm.add_replies({"text": "slow " * 100, "token_delay_ms": 100})
    env = fake_model_env(fake_llm, ROOST_DATABASE_URL=database_url)
    home = tmp_path / "home"
    with roost_process(home, env) as (process, url):
        async with httpx.AsyncClient(base_url=url, timeout=10) as client:
            task = (await client.post("/api/tasks", json={"description": "Slowly"})).json()
            await fake_llm.wait_for(lambda stats: stats.requests >= 1)
            first_turn = (await client.get(f"/api/tasks/{task['id']}")).json()["turn_id"]
        os.kill(process.pid, signal.SIGKILL)
        process.wait(timeout=10)
    fake_llm.add_replies(
        {"tool_calls": [{"name": "finish_task", "arguments": {"success": True, "summary": "2"}}]}
    )
    with roost_process(home, env) as (_process, url):
        async with httpx.AsyncClient(base_url=url, timeout=10) as client:
            shown = (await client.get(f"/api/tasks/{task['id']}")).json()
            assert shown["status"] == "interrupted"
            assert shown["result"]["success"] is False
            again = await client.post(f"/api/tasks/{task['id']}/start")
            assert again.status_code == 200, again.text
            ended = await settled(client, task["id"])
    assert ended["status"] == "completed" and ended["turn_id"] != first_turn
