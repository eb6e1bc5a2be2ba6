"""Resuming a turn's events over a real server: a cursor at the end of a finished turn
ends the stream at once, a cursor past it or out of range is refused before the stream
starts, and an open stream holds one of its principal's concurrent slots."""

import asyncio
from typing import Any

import httpx
import pytest

from roost.app import create_app
from roost.config import Settings
from roost.testing import FakeLLM
from tests.api.test_errors import assert_envelope
from tests.support.live import serving
from tests.support.sse import assert_well_formed, frames, parse


async def finished_turn(client: httpx.AsyncClient) -> tuple[str, str, int]:
    """A session with one completed turn: its ids and the seq of its ``done``."""
    sid = (await client.post("/api/sessions", json={})).json()["id"]
    turn = (await client.post(f"/api/sessions/{sid}/messages", json={"content": "hi"})).json()
    assert turn["turn"]["status"] == "completed"
    return sid, turn["turn"]["id"], turn["turn"]["last_seq"]


async def test_resuming_a_finished_turn_at_its_end_closes_at_once(live_server: str) -> None:
    # The read timeout is below the 15 s heartbeat: a stream left open fails here.
    async with httpx.AsyncClient(base_url=live_server, timeout=10) as client:
        sid, turn_id, last = await finished_turn(client)
        url = f"/api/sessions/{sid}/turns/{turn_id}/events"
        whole = parse((await client.get(url)).text)
        assert_well_formed(whole)
        assert whole[-1].id == last
        by_header = await client.get(url, headers={"Last-Event-ID": str(last)})
        by_query = await client.get(url, params={"after": last})
        one_before = await client.get(url, params={"after": last - 1})
    for ended in (by_header, by_query):
        assert ended.status_code == 200
        assert ended.headers["content-type"].startswith("text/event-stream")
        assert ended.text == ""
    assert [(e.id, e.event) for e in parse(one_before.text)] == [(last, "done")]


async def test_a_cursor_past_the_turns_last_event_is_refused(live_server: str) -> None:
    async with httpx.AsyncClient(base_url=live_server, timeout=10) as client:
        sid, turn_id, last = await finished_turn(client)
        url = f"/api/sessions/{sid}/turns/{turn_id}/events"
        past = await client.get(url, params={"after": last + 1})
        past_header = await client.get(url, headers={"Last-Event-ID": str(last + 5)})
    for refused in (past, past_header):
        error = assert_envelope(refused, 400, "INVALID_REQUEST")
        assert error["details"]["last_seq"] == last


OUT_OF_RANGE = ["1" * 23, str(2**63), "9" * 5000, "-1", "abc", "1.5", "0x10", "١٢"]


@pytest.mark.parametrize("cursor", OUT_OF_RANGE)
async def test_a_malformed_cursor_is_refused_before_the_stream_starts(
    live_server: str, cursor: str
) -> None:
    async with httpx.AsyncClient(base_url=live_server, timeout=10) as client:
        sid, turn_id, _ = await finished_turn(client)
        url = f"/api/sessions/{sid}/turns/{turn_id}/events"
        by_query = await client.get(url, params={"after": cursor})
        by_header = await client.get(url, headers={b"Last-Event-ID": cursor.encode()})
    for refused, where in ((by_query, "query"), (by_header, "header")):
        error = assert_envelope(refused, 422, "VALIDATION_ERROR")
        assert error["details"]["fields"][0]["in"] == where


async def test_an_empty_last_event_id_replays_from_the_start(live_server: str) -> None:
    async with httpx.AsyncClient(base_url=live_server, timeout=10) as client:
        sid, turn_id, last = await finished_turn(client)
        url = f"/api/sessions/{sid}/turns/{turn_id}/events"
        response = await client.get(url, headers={"Last-Event-ID": ""})
    assert [e.id for e in parse(response.text)] == list(range(1, last + 1))


async def wait_for_status(client: httpx.AsyncClient, path: str, status: int) -> None:
    """Until ``path`` answers ``status``: a slot is given back as soon as the server
    notices that its stream ended."""
    for _ in range(500):
        if (await client.get(path)).status_code == status:
            return
        await asyncio.sleep(0.02)
    raise AssertionError(f"{path} never answered {status}")


async def test_open_streams_hold_their_concurrent_slots_until_they_end(
    settings: Settings, fake_llm: FakeLLM
) -> None:
    fake_llm.add_replies({"tokens": 2000, "token_delay_ms": 5})
    app = create_app(settings.model_copy(update={"rate_limit_concurrent": 2}))
    async with (
        app.router.lifespan_context(app),
        serving(app) as url,
        httpx.AsyncClient(base_url=url, timeout=10) as client,
    ):
        sid = (await client.post("/api/sessions", json={})).json()["id"]
        body: dict[str, Any] = {"content": "go", "stream": True}
        async with client.stream("POST", f"/api/sessions/{sid}/messages", json=body) as sent:
            turn_id = sent.headers["x-turn-id"]
            events = f"/api/sessions/{sid}/turns/{turn_id}/events"
            async with client.stream("GET", events) as reader:
                assert reader.status_code == 200
                refused = await client.get("/api/sessions")
                assert_envelope(refused, 429, "RATE_LIMITED")
                assert refused.json()["error"]["details"]["limit"] == "2 concurrent requests"
                refused_stream = await client.get(events)
                assert_envelope(refused_stream, 429, "RATE_LIMITED")
            # The reader left: its slot is free, the streamed send still holds the other.
            await wait_for_status(client, "/api/sessions", 200)
            async with client.stream("GET", events) as second:
                assert second.status_code == 200
                assert_envelope(await client.get("/api/sessions"), 429, "RATE_LIMITED")
            await wait_for_status(client, "/api/sessions", 200)
            cancelled = await client.delete(f"/api/sessions/{sid}/current-turn")
            assert cancelled.status_code == 200
            async for frame in frames(sent):  # the send's stream ends with the turn
                last = frame
        assert last.event == "done" and last.data["status"] == "cancelled"
        await wait_for_status(client, "/api/sessions", 200)
