"""Streams over a real HTTP server: disconnects, resumes, heartbeats, a killed server."""

import asyncio
import os
import signal
from pathlib import Path
from typing import Any

import httpx
import pytest

from roost.app import create_app
from roost.config import Settings
from roost.testing import FakeLLM
from tests.support.live import fake_model_env, roost_process, serving
from tests.support.sse import Frame, assert_well_formed, frames, parse
from tests.support.turns import until_logged


async def read_some(
    client: httpx.AsyncClient, url: str, body: dict[str, Any], count: int
) -> list[Frame]:
    """Open the turn's stream, read ``count`` frames, then drop the connection."""
    seen: list[Frame] = []
    async with client.stream(
        "POST", url, json=body, headers={"Accept": "text/event-stream"}
    ) as response:
        async for frame in frames(response):
            seen.append(frame)
            if len(seen) == count:
                break
    return seen


@pytest.mark.parametrize("cut_after", [1, 4, 9])
async def test_resume_after_disconnect_replays_each_event_once(
    live_server: str, fake_llm: FakeLLM, cut_after: int
) -> None:
    fake_llm.add_replies({"tokens": 20, "token_delay_ms": 5})
    async with httpx.AsyncClient(base_url=live_server, timeout=10) as client:
        sid = (await client.post("/api/sessions", json={})).json()["id"]
        first = await read_some(
            client, f"/api/sessions/{sid}/messages", {"content": "hi"}, cut_after
        )
        turn_id = first[0].data["turn_id"]
        resumed = await client.get(
            f"/api/sessions/{sid}/turns/{turn_id}/events",
            headers={"Last-Event-ID": str(first[-1].id)},
        )
        rest = parse(resumed.text)
        events = first + rest
        assert_well_formed(events)
        assert len({e.id for e in events}) == len(events)
        assert events[-1].data["status"] == "completed"  # the turn outlived its client
        reply = (await client.get(f"/api/sessions/{sid}/messages")).json()["data"][-1]
        assert reply["content"] == "".join(e.data["content"] for e in events if e.event == "text")


async def test_a_reader_that_joins_midway_gets_the_past_then_the_live_events(
    live_server: str, fake_llm: FakeLLM
) -> None:
    fake_llm.add_replies({"tokens": 200, "token_delay_ms": 10})
    async with httpx.AsyncClient(base_url=live_server, timeout=10) as client:
        sid = (await client.post("/api/sessions", json={})).json()["id"]
        started = await client.post(
            f"/api/sessions/{sid}/messages", params={"background": True}, json={"content": "go"}
        )
        turn_id = started.json()["turn"]["id"]
        turn_url = f"/api/sessions/{sid}/turns/{turn_id}"
        await until_logged(client, sid, turn_id, 4)  # the turn is under way before anyone reads

        async def read(after: int) -> tuple[list[Frame], dict[str, Any]]:
            """The whole stream, and the turn as it stood once the first frame was read."""
            seen: list[Frame] = []
            at_first: dict[str, Any] = {}
            async with client.stream("GET", f"{turn_url}/events", params={"after": after}) as r:
                async for frame in frames(r):
                    seen.append(frame)
                    if len(seen) == 1:
                        at_first = (await client.get(turn_url)).json()
            return seen, at_first

        (whole, joined), (partial, _) = await asyncio.gather(read(0), read(2))
    assert_well_formed(whole)
    assert [e.id for e in partial] == [e.id for e in whole[2:]]
    # The reader was in the stream while the turn still ran, and what came after was live.
    assert joined["status"] == "running"
    assert whole[-1].id is not None and joined["last_seq"] < whole[-1].id


async def test_silence_brings_heartbeats_that_are_not_logged(
    settings: Settings, fake_llm: FakeLLM
) -> None:
    fake_llm.add_replies({"text": "late", "ttft_ms": 700})
    app = create_app(settings.model_copy(update={"heartbeat_seconds": 0.2}))
    async with (
        app.router.lifespan_context(app),
        serving(app) as url,
        httpx.AsyncClient(base_url=url, timeout=10) as client,
    ):
        sid = (await client.post("/api/sessions", json={})).json()["id"]
        response = await client.post(
            f"/api/sessions/{sid}/messages", json={"content": "hi", "stream": True}
        )
    events = parse(response.text)
    beats = [e for e in events if e.event == "heartbeat"]
    assert beats and all(b.id is None for b in beats)
    assert_well_formed(events)


async def test_a_killed_server_leaves_an_interrupted_turn_with_its_partial_answer(
    tmp_path: Path, database_url: str, fake_llm: FakeLLM
) -> None:
    fake_llm.add_replies({"tokens": 400, "token_delay_ms": 20})
    env = fake_model_env(fake_llm, ROOST_DATABASE_URL=database_url)
    home = tmp_path / "home"
    with roost_process(home, env) as (process, url):
        async with httpx.AsyncClient(base_url=url, timeout=10) as client:
            sid = (await client.post("/api/sessions", json={})).json()["id"]
            started = await client.post(
                f"/api/sessions/{sid}/messages", params={"background": True}, json={"content": "go"}
            )
            turn_id = started.json()["turn"]["id"]
            await until_logged(client, sid, turn_id, 6)
        os.kill(process.pid, signal.SIGKILL)
        process.wait(timeout=10)
    await fake_llm.wait_for(lambda s: s.streams_open == 0, within=5)
    with roost_process(home, env) as (_process, url):
        async with httpx.AsyncClient(base_url=url, timeout=10) as client:
            turn = (await client.get(f"/api/sessions/{sid}/turns/{turn_id}")).json()
            events = parse((await client.get(f"/api/sessions/{sid}/turns/{turn_id}/events")).text)
            messages = (await client.get(f"/api/sessions/{sid}/messages")).json()["data"]
            session = (await client.get(f"/api/sessions/{sid}")).json()
    assert turn["status"] == "interrupted"
    assert events[0].event == "turn_start" and events[-1].event == "done"
    assert events[-1].data["status"] == "interrupted"
    assert [e.id for e in events] == list(range(1, len(events) + 1))
    assert [m["role"] for m in messages] == ["user", "assistant"]
    streamed = "".join(e.data["content"] for e in events if e.event == "text")
    assert messages[1]["status"] == "interrupted"
    assert messages[1]["content"] == streamed != ""
    assert events[-1].data["message_id"] == messages[1]["id"]
    assert session["status"] == "idle"
