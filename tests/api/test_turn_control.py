"""Cancelling turns, busy sessions (on_busy), and faults of the model provider."""

import asyncio
from typing import Any

import httpx
import pytest

from roost.testing import FakeLLM
from tests.support.sse import assert_well_formed, parse
from tests.support.turns import events_of, new_session, until_logged

Client = httpx.AsyncClient
SLOW = {"tokens": 200, "token_delay_ms": 20}


async def start(client: Client, sid: str, content: str = "hi", **options: Any) -> httpx.Response:
    return await client.post(
        f"/api/sessions/{sid}/messages",
        params={"background": True},
        json={"content": content, **options},
    )


async def test_cancel_stops_the_turn_keeps_the_partial_answer_and_closes_upstream(
    client: Client, fake_llm: FakeLLM
) -> None:
    fake_llm.add_replies(SLOW)
    sid = await new_session(client)
    turn_id = (await start(client, sid)).json()["turn"]["id"]
    await until_logged(client, sid, turn_id)
    cancelled = await client.delete(f"/api/sessions/{sid}/current-turn")
    assert cancelled.status_code == 200
    assert [t["id"] for t in cancelled.json()["cancelled"]] == [turn_id]
    events = await events_of(client, sid, turn_id)
    assert events[-1].data["status"] == "cancelled"
    stats = await fake_llm.wait_for(lambda s: s.streams_open == 0)
    assert stats.streams_aborted == 1 and stats.streams_completed == 0
    reply = (await client.get(f"/api/sessions/{sid}/messages")).json()["data"][-1]
    streamed = "".join(e.data["content"] for e in events if e.event == "text")
    assert reply["status"] == "cancelled" and reply["content"] == streamed != ""
    turn = (await client.get(f"/api/sessions/{sid}/turns/{turn_id}")).json()
    assert turn["status"] == "cancelled" and turn["cancel_requested"] is True
    assert (await client.get(f"/api/sessions/{sid}")).json()["status"] == "idle"


async def test_cancel_with_nothing_running_cancels_nothing(client: Client) -> None:
    sid = await new_session(client)
    response = await client.delete(f"/api/sessions/{sid}/current-turn")
    assert response.json() == {"cancelled": []}


async def test_a_busy_session_rejects_by_default(client: Client, fake_llm: FakeLLM) -> None:
    fake_llm.add_replies(SLOW)
    sid = await new_session(client)
    first = (await start(client, sid)).json()["turn"]["id"]
    second = await client.post(f"/api/sessions/{sid}/messages", json={"content": "again"})
    assert second.status_code == 409
    assert second.json()["error"]["code"] == "TURN_IN_PROGRESS"
    assert second.json()["error"]["details"]["turn_id"] == first
    await client.delete(f"/api/sessions/{sid}/current-turn")
    # The cancelled turn ends before the app shuts down; the rejection above is what this
    # test is about.
    assert (await events_of(client, sid, first))[-1].data["status"] == "cancelled"


async def test_enqueue_runs_the_next_turn_after_the_current_one(
    client: Client, fake_llm: FakeLLM
) -> None:
    fake_llm.add_replies({"text": "first answer", "token_delay_ms": 20}, {"text": "second answer"})
    sid = await new_session(client)
    first = (await start(client, sid, "one")).json()["turn"]["id"]
    queued = await start(client, sid, "two", on_busy="enqueue")
    assert queued.status_code == 202
    second = queued.json()["turn"]["id"]
    assert queued.json()["turn"]["status"] == "queued"
    await events_of(client, sid, second)
    messages = (await client.get(f"/api/sessions/{sid}/messages")).json()["data"]
    assert [(m["role"], m["content"]) for m in messages] == [
        ("user", "one"),
        ("assistant", "first answer"),
        ("user", "two"),
        ("assistant", "second answer"),
    ]
    assert [m["turn_id"] for m in messages] == [first, first, second, second]


async def test_interrupt_cancels_the_current_turn_and_answers_the_new_message(
    client: Client, fake_llm: FakeLLM
) -> None:
    fake_llm.add_replies(SLOW, {"text": "new answer"})
    sid = await new_session(client)
    first = (await start(client, sid, "one")).json()["turn"]["id"]
    await until_logged(client, sid, first)
    second = (await start(client, sid, "two", on_busy="interrupt")).json()["turn"]["id"]
    assert (await events_of(client, sid, first))[-1].data["status"] == "cancelled"
    assert (await events_of(client, sid, second))[-1].data["status"] == "completed"
    messages = (await client.get(f"/api/sessions/{sid}/messages")).json()["data"]
    assert [m["role"] for m in messages] == ["user", "assistant", "user", "assistant"]
    assert messages[1]["status"] == "cancelled" and messages[3]["content"] == "new answer"


async def test_rollback_deletes_what_the_current_turn_produced(
    client: Client, fake_llm: FakeLLM
) -> None:
    fake_llm.add_replies(SLOW, {"text": "instead"})
    sid = await new_session(client)
    first = (await start(client, sid, "one")).json()["turn"]["id"]
    await until_logged(client, sid, first)
    second = (await start(client, sid, "two", on_busy="rollback")).json()["turn"]["id"]
    await events_of(client, sid, second)
    messages = (await client.get(f"/api/sessions/{sid}/messages")).json()["data"]
    assert [(m["role"], m["content"]) for m in messages] == [
        ("user", "two"),
        ("assistant", "instead"),
    ]
    assert (await client.get(f"/api/sessions/{sid}/turns/{first}")).status_code == 404
    assert (await client.get(f"/api/sessions/{sid}")).json()["message_count"] == 2


async def test_deleting_a_session_cancels_its_turn_first(client: Client, fake_llm: FakeLLM) -> None:
    fake_llm.add_replies(SLOW)
    sid = await new_session(client)
    turn_id = (await start(client, sid)).json()["turn"]["id"]
    await until_logged(client, sid, turn_id)
    assert (await client.delete(f"/api/sessions/{sid}")).status_code == 204
    await fake_llm.wait_for(lambda s: s.streams_open == 0)
    assert fake_llm.stats().streams_aborted == 1
    assert (await client.get(f"/api/sessions/{sid}/turns/{turn_id}")).status_code == 404


async def test_stop_cancels_and_marks_the_session_stopped_until_resumed(
    client: Client, fake_llm: FakeLLM
) -> None:
    fake_llm.add_replies(SLOW)
    sid = await new_session(client)
    turn_id = (await start(client, sid)).json()["turn"]["id"]
    await until_logged(client, sid, turn_id)
    stopped = await client.post(f"/api/sessions/{sid}/stop")
    assert stopped.json()["status"] == "stopped"
    assert (await events_of(client, sid, turn_id))[-1].data["status"] == "cancelled"
    assert (await client.post(f"/api/sessions/{sid}/resume")).json()["status"] == "idle"
    touched = (await client.post(f"/api/sessions/{sid}/activity")).json()
    assert touched["last_activity_at"] >= stopped.json()["last_activity_at"]


async def test_a_rejected_key_fails_the_turn_with_upstream_error(
    client: Client, fake_llm: FakeLLM
) -> None:
    fake_llm.add_replies({"fault": 401})
    sid = await new_session(client)
    response = await client.post(f"/api/sessions/{sid}/messages", json={"content": "hi"})
    assert response.status_code == 502
    error = response.json()["error"]
    assert error["code"] == "UPSTREAM_ERROR"
    assert error["details"]["status"] == 401 and error["details"]["provider"] == "openai"
    assert "key" in error["message"].lower()
    turn = (await client.get(f"/api/sessions/{sid}/turns")).json()["data"][0]
    events = await events_of(client, sid, turn["id"])
    assert [e.event for e in events][-3:] == ["error", "usage", "done"]
    assert events[-1].data["status"] == "failed"


async def test_a_rate_limit_before_the_first_token_is_retried(
    client: Client, fake_llm: FakeLLM
) -> None:
    fake_llm.add_replies({"fault": 429, "retry_after": 0}, {"fault": 500}, {"text": "made it"})
    sid = await new_session(client)
    response = await client.post(f"/api/sessions/{sid}/messages", json={"content": "hi"})
    assert response.status_code == 200, response.text
    assert response.json()["reply"]["content"] == "made it"
    assert fake_llm.stats().requests == 3


async def test_a_stream_cut_midway_keeps_the_partial_answer(
    client: Client, fake_llm: FakeLLM
) -> None:
    fake_llm.add_replies(
        {"text": "one two three four five", "fault": "drop", "fault_after_tokens": 2}
    )
    sid = await new_session(client)
    response = await client.post(
        f"/api/sessions/{sid}/messages", json={"content": "hi", "stream": True}
    )
    events = parse(response.text)
    assert_well_formed(events)
    assert next(e.data for e in events if e.event == "error")["code"] == "UPSTREAM_ERROR"
    assert events[-1].data["status"] == "failed"
    assert fake_llm.stats().requests == 1  # no retry once tokens have flowed
    reply = (await client.get(f"/api/sessions/{sid}/messages")).json()["data"][-1]
    assert reply["content"] == "one two " and reply["status"] == "failed"


@pytest.mark.parametrize("settings_change", [{"openai_base_url": None, "openai_api_key": None}])
async def test_no_provider_configured_is_503(
    settings: Any, settings_change: dict[str, Any]
) -> None:
    from roost.app import create_app

    bare = create_app(settings.model_copy(update={**settings_change, "default_model": None}))
    async with bare.router.lifespan_context(bare):
        transport = httpx.ASGITransport(app=bare)
        async with httpx.AsyncClient(transport=transport, base_url="http://t") as client:
            sid = await new_session(client)
            response = await client.post(f"/api/sessions/{sid}/messages", json={"content": "hi"})
            assert response.status_code == 503
            assert response.json()["error"]["code"] == "PROVIDER_NOT_CONFIGURED"
            assert "OPENAI_API_KEY" in response.json()["error"]["message"]
            health = (await client.get("/api/health")).json()
            assert health["provider"] is None and health["has_api_key"] is False


async def test_a_fault_while_a_turn_starts_fails_it_and_frees_the_session(
    client: Client, monkeypatch: pytest.MonkeyPatch
) -> None:
    """A bug between marking a turn running and calling the model must not leave it running."""
    from roost.services.turns import TurnExecutor

    async def broken(*_args: Any, **_kwargs: Any) -> None:
        raise RuntimeError("a fault in the turn's set-up")

    monkeypatch.setattr(TurnExecutor, "_apply_skills", broken)
    sid = await new_session(client)
    response = await asyncio.wait_for(
        client.post(f"/api/sessions/{sid}/messages", json={"content": "hi"}), 30
    )
    assert response.status_code == 200, response.text  # like any failed turn: it says why
    assert response.json()["turn"]["status"] == "failed"
    assert "fault in the turn" not in response.text  # no internals in the answer
    turn = (await client.get(f"/api/sessions/{sid}/turns")).json()["data"][0]
    assert turn["status"] == "failed" and turn["error"]["code"] == "INTERNAL_ERROR"
    events = await events_of(client, sid, turn["id"])
    assert [e.event for e in events][-3:] == ["error", "usage", "done"]
    monkeypatch.undo()
    again = await client.post(f"/api/sessions/{sid}/messages", json={"content": "again"})
    assert again.status_code == 200, again.text
