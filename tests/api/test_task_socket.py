"""Mini-Devin's task socket, ``/ws/tasks/{task_id}``: a task's run in Mini-Devin's
frames, ``stop`` and ``input`` from the client, over a real server and client."""

import httpx
import pytest
from websockets.exceptions import ConnectionClosed

from roost.testing import FakeLLM
from tests.support.ws import Frame, opened

PLAN = [{"id": "s1", "description": "Greet", "status": "completed"}]


def ended(frame: Frame) -> bool:
    return frame.get("type") == "status" and frame.get("status") in (
        "completed",
        "failed",
        "stopped",
    )


async def test_a_task_run_in_mini_devins_frames(live_server: str, fake_llm: FakeLLM) -> None:
    fake_llm.add_replies(
        {
            "text": "Working on it. ",
            "tool_calls": [{"id": "p", "name": "update_plan", "arguments": {"steps": PLAN}}],
            "token_delay_ms": 20,
        },
        {
            "tool_calls": [
                {
                    "id": "f",
                    "name": "finish_task",
                    "arguments": {"success": True, "summary": "Greeted"},
                }
            ]
        },
    )
    async with httpx.AsyncClient(base_url=live_server) as http:
        task = (await http.post("/api/tasks", json={"description": "Greet"})).json()
    async with opened(live_server, f"/ws/tasks/{task['id']}") as socket:
        frames = await socket.until(ended)
    kinds = [f["type"] for f in frames]
    assert "token" in kinds and "plan_update" in kinds
    assert all("timestamp" in f for f in frames)
    text = "".join(f["content"] for f in frames if f["type"] == "token")
    assert text == "Working on it. "
    call = next(f for f in frames if f["type"] == "tool_call" and f["tool"] == "update_plan")
    assert call["input"] == {"steps": PLAN}
    result = next(f for f in frames if f["type"] == "tool_result" and f["tool"] == "update_plan")
    assert result["success"] is True and "1 of 1" in result["output"]
    plan = next(f for f in frames if f["type"] == "plan_update")
    assert plan["plan"]["steps"][0]["description"] == "Greet"
    assert frames[-1] == {**frames[-1], "status": "completed", "message": "Greeted"}


async def test_stop_and_input_from_the_socket(live_server: str, fake_llm: FakeLLM) -> None:
    fake_llm.add_replies(
        {"tool_calls": [{"id": "a", "name": "ask_user", "arguments": {"question": "Name?"}}]},
        {"text": "slow " * 40, "token_delay_ms": 50},
    )
    async with httpx.AsyncClient(base_url=live_server) as http:
        task = (await http.post("/api/tasks", json={"description": "Ask first"})).json()
    async with opened(live_server, f"/ws/tasks/{task['id']}") as socket:
        waiting = await socket.until(lambda f: f.get("status") == "waiting")
        assert waiting[-1]["message"] == "Name?"
        await socket.send(type="input", content="Ada")
        going_on = await socket.until(lambda f: f.get("type") == "token")
        await socket.send(type="stop")
        frames = await socket.until(ended)
        await socket.send(type="dance")
        refused = await socket.until(lambda f: f.get("type") == "error")
    assert frames[-1]["status"] == "stopped"
    answer = next(f for f in going_on if f["type"] == "tool_result")
    assert answer["output"] == "Ada"
    assert refused[-1]["code"] == "INVALID_REQUEST"
    async with httpx.AsyncClient(base_url=live_server) as http:
        shown = (await http.get(f"/api/tasks/{task['id']}")).json()
    assert shown["status"] == "stopped"


async def test_an_unknown_task_is_an_error_frame_then_a_close(live_server: str) -> None:
    async with opened(live_server, "/ws/tasks/task_01jd3x0000000000000000zzzz") as socket:
        frame = await socket.receive()
        assert frame["type"] == "error" and frame["code"] == "TASK_NOT_FOUND"
        with pytest.raises(ConnectionClosed) as closed:
            await socket.receive()
    assert closed.value.rcvd is not None and closed.value.rcvd.code == 1008
