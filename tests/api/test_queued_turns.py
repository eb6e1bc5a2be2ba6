"""Messages sent with ``on_busy: enqueue``: stored when accepted, shown ``queued`` in
history, run in order after the turn before them, and kept across a killed server."""

import json
import os
import signal
from pathlib import Path
from typing import Any

import httpx

from roost.testing import FakeLLM
from tests.support.live import fake_model_env, roost_process
from tests.support.sse import parse
from tests.support.turns import ask, events_of, new_session, send, until_logged

Client = httpx.AsyncClient


async def enqueue(client: Client, sid: str, content: str) -> dict[str, Any]:
    response = await client.post(
        f"/api/sessions/{sid}/messages",
        params={"background": True},
        json={"content": content, "on_busy": "enqueue"},
    )
    assert response.status_code == 202, response.text
    return dict(response.json()["turn"])


async def history(client: Client, sid: str) -> list[dict[str, Any]]:
    return list((await client.get(f"/api/sessions/{sid}/messages")).json()["data"])


def sent_texts(fake_llm: FakeLLM) -> list[str]:
    """What each model request the fake received carried, as one string per request."""
    return [json.dumps(r.body["messages"]) for r in fake_llm.stats().last_requests]


async def test_a_queued_message_is_in_history_and_moves_to_the_end_when_it_runs(
    client: Client, fake_llm: FakeLLM
) -> None:
    fake_llm.add_replies(ask("Which colour?"), {"text": "Blue it is."}, {"text": "Queued done."})
    sid = await new_session(client)
    waiting = await send(client, sid, "paint it")
    queued = await enqueue(client, sid, "and the door")
    assert queued["status"] == "queued"

    shown = await history(client, sid)
    assert shown[-1]["content"] == "and the door"
    assert shown[-1]["status"] == "queued" and shown[-1]["turn_id"] == queued["id"]
    assert shown[-1]["id"] == queued["user_message_id"]
    session = (await client.get(f"/api/sessions/{sid}")).json()
    assert session["message_count"] == len(shown)

    await client.post(
        f"/api/sessions/{sid}/turns/{waiting['turn']['id']}/input",
        json={"request_id": waiting["input_required"][0]["id"], "answer": "blue"},
    )
    events = await events_of(client, sid, queued["id"])
    assert events[-1].data["status"] == "completed"
    after = await history(client, sid)
    assert [(m["role"], m["content"]) for m in after][-3:] == [
        ("assistant", "Blue it is."),
        ("user", "and the door"),
        ("assistant", "Queued done."),
    ]
    moved = after[-2]
    assert moved["status"] == "completed" and moved["turn_id"] == queued["id"]
    assert moved["id"] != queued["user_message_id"]  # ids order history: it has a new one
    assert events[0].data["message_id"] == moved["id"]
    ran = (await client.get(f"/api/sessions/{sid}/turns/{queued['id']}")).json()
    assert ran["user_message_id"] == moved["id"]
    assert len(after) == (await client.get(f"/api/sessions/{sid}")).json()["message_count"]
    # The turn it waited behind went on without it; the queued turn read everything before.
    resumed, own = sent_texts(fake_llm)[-2:]
    assert "and the door" not in resumed
    assert own.index("Blue it is.") < own.index("and the door")


async def test_a_queued_turn_cancelled_before_it_ran_takes_its_message_with_it(
    client: Client, fake_llm: FakeLLM
) -> None:
    fake_llm.add_replies(ask("Which colour?"))
    sid = await new_session(client)
    await send(client, sid, "paint it")
    before = await history(client, sid)
    queued = await enqueue(client, sid, "and the door")
    cancelled = (await client.delete(f"/api/sessions/{sid}/current-turn")).json()["cancelled"]
    assert queued["id"] in [t["id"] for t in cancelled]
    log = await client.get(f"/api/sessions/{sid}/turns/{queued['id']}/events")
    assert [(e.event, e.data.get("status")) for e in parse(log.text)][-1] == ("done", "cancelled")
    after = await history(client, sid)
    assert [m["id"] for m in after] == [m["id"] for m in before]
    assert (await client.get(f"/api/sessions/{sid}")).json()["message_count"] == len(after)
    turn = (await client.get(f"/api/sessions/{sid}/turns/{queued['id']}")).json()
    assert turn["status"] == "cancelled" and turn["user_message_id"] is None


async def test_queued_messages_survive_a_killed_server_and_run_in_order(
    tmp_path: Path, database_url: str, fake_llm: FakeLLM
) -> None:
    fake_llm.add_replies(
        {"tokens": 400, "token_delay_ms": 20},
        {"match": "third question", "text": "Third answer."},
        {"match": "second question", "text": "Second answer."},
    )
    env = fake_model_env(fake_llm, ROOST_DATABASE_URL=database_url)
    home = tmp_path / "home"
    with roost_process(home, env) as (process, url):
        async with httpx.AsyncClient(base_url=url, timeout=10) as client:
            sid = await new_session(client)
            running = await enqueue(client, sid, "first question")
            second = await enqueue(client, sid, "second question")
            third = await enqueue(client, sid, "third question")
            await until_logged(client, sid, running["id"])
            assert [(m["content"], m["status"]) for m in await history(client, sid)][-2:] == [
                ("second question", "queued"),
                ("third question", "queued"),
            ]
        os.kill(process.pid, signal.SIGKILL)
        process.wait(timeout=10)
    await fake_llm.wait_for(lambda s: s.streams_open == 0, within=5)
    with roost_process(home, env) as (_process, url):
        async with httpx.AsyncClient(base_url=url, timeout=10) as client:
            last = await events_of(client, sid, third["id"])
            turns = {
                t["id"]: t for t in (await client.get(f"/api/sessions/{sid}/turns")).json()["data"]
            }
            messages = await history(client, sid)
            session = (await client.get(f"/api/sessions/{sid}")).json()
    assert last[-1].data["status"] == "completed"
    assert turns[running["id"]]["status"] == "interrupted"
    assert turns[second["id"]]["status"] == turns[third["id"]]["status"] == "completed"
    assert turns[second["id"]]["finished_at"] <= turns[third["id"]]["started_at"]
    assert [(m["role"], m["content"]) for m in messages][2:] == [
        ("user", "second question"),
        ("assistant", "Second answer."),
        ("user", "third question"),
        ("assistant", "Third answer."),
    ]
    assert messages[0]["content"] == "first question" and messages[1]["status"] == "interrupted"
    assert {m["status"] for m in messages[2:]} == {"completed"}
    assert session["status"] == "idle" and session["message_count"] == len(messages)
