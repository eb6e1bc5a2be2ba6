"""Idempotent retries: the same POST with the same Idempotency-Key does its work once."""

import asyncio
from typing import Any

import httpx

from roost.config import Settings
from roost.testing import FakeLLM
from tests.support.accounts import account
from tests.support.apps import running
from tests.support.sse import assert_well_formed, parse

Client = httpx.AsyncClient


def keyed(key: str) -> dict[str, str]:
    return {"Idempotency-Key": key}


async def sessions(client: Client, **headers: str) -> list[dict[str, Any]]:
    return list((await client.get("/api/sessions", headers=headers)).json()["data"])


async def test_a_retried_create_answers_the_first_result_again(client: Client) -> None:
    first = await client.post("/api/sessions", json={"title": "Once"}, headers=keyed("k-1"))
    again = await client.post("/api/sessions", json={"title": "Once"}, headers=keyed("k-1"))
    assert first.status_code == again.status_code == 201
    assert again.json() == first.json()
    assert again.headers["idempotent-replayed"] == "true"
    assert "idempotent-replayed" not in first.headers
    assert [s["title"] for s in await sessions(client)] == ["Once"]
    other = await client.post("/api/sessions", json={"title": "Once"}, headers=keyed("k-2"))
    assert other.json()["id"] != first.json()["id"]  # a new key is new work
    assert len(await sessions(client)) == 2


async def test_a_key_reused_for_another_request_is_refused(client: Client) -> None:
    await client.post("/api/sessions", json={"title": "A"}, headers=keyed("same"))
    for path, body in (("/api/sessions", {"title": "B"}), ("/api/skills", {"name": "x"})):
        refused = await client.post(path, json=body, headers=keyed("same"))
        assert refused.status_code == 400, refused.text
        assert refused.json()["error"]["code"] == "IDEMPOTENCY_KEY_REUSED"
    assert [s["title"] for s in await sessions(client)] == ["A"]


async def test_bad_keys_are_refused_before_any_work(client: Client) -> None:
    for key in ("x" * 256, "has space", "é"):
        refused = await client.post(
            "/api/sessions", json={}, headers={b"Idempotency-Key": key.encode()}
        )
        assert refused.status_code == 400 and refused.json()["error"]["code"] == (
            "INVALID_IDEMPOTENCY_KEY"
        )
    assert await sessions(client) == []


async def test_a_failed_request_leaves_the_key_free_for_a_retry(client: Client) -> None:
    url = "/api/sessions/ses_01jd3x0000000000000000000a/messages"
    for _ in range(2):
        missing = await client.post(url, json={"content": "hi"}, headers=keyed("retry-me"))
        assert missing.status_code == 404 and "idempotent-replayed" not in missing.headers
    bad = await client.post("/api/sessions", json={"title": 5}, headers=keyed("fix-me"))
    assert bad.status_code == 422
    fixed = await client.post("/api/sessions", json={"title": 5}, headers=keyed("fix-me"))
    assert fixed.status_code == 422  # the same wrong body is refused again, not replayed


async def test_a_retry_while_the_first_still_runs_is_told_to_wait(
    client: Client, fake_llm: FakeLLM
) -> None:
    # Long enough (about a second) that the retry surely comes while it is still running.
    fake_llm.add_replies({"text": "a slow answer of ten words, one by one", "token_delay_ms": 100})
    sid = (await client.post("/api/sessions", json={})).json()["id"]
    url, body = f"/api/sessions/{sid}/messages", {"content": "hi"}
    first = asyncio.create_task(client.post(url, json=body, headers=keyed("wait")))
    await fake_llm.wait_for(lambda s: s.streams_open == 1, within=5)
    busy = await client.post(url, json=body, headers=keyed("wait"))
    assert busy.status_code == 409 and busy.headers["retry-after"] == "1"
    assert busy.json()["error"]["code"] == "IDEMPOTENCY_KEY_IN_USE"
    answered = await first
    replayed = await client.post(url, json=body, headers=keyed("wait"))
    assert replayed.json() == answered.json() and replayed.headers["idempotent-replayed"]
    turns = (await client.get(f"/api/sessions/{sid}/turns")).json()["data"]
    assert len(turns) == 1 and fake_llm.stats().requests == 1


async def test_a_retried_stream_follows_the_same_turn(live_server: str, fake_llm: FakeLLM) -> None:
    fake_llm.add_replies({"text": "Only once."})
    async with httpx.AsyncClient(base_url=live_server, timeout=10) as client:
        sid = (await client.post("/api/sessions", json={})).json()["id"]
        url, body = f"/api/sessions/{sid}/messages", {"content": "hi", "stream": True}
        started = await client.post(url, json=body, headers=keyed("s"))
        first = parse(started.text)
        again = await client.post(url, json=body, headers=keyed("s"))
        turns = (await client.get(f"/api/sessions/{sid}/turns")).json()["data"]
    # The stream names its turn before any event, so a client cut off at once can resume.
    assert started.headers["x-turn-id"] == turns[0]["id"] == first[0].data["turn_id"]
    assert started.headers["x-session-id"] == sid
    replayed = parse(again.text)
    assert_well_formed(replayed)
    assert again.headers["idempotent-replayed"] == "true"
    assert [(e.id, e.event, e.data) for e in replayed] == [(e.id, e.event, e.data) for e in first]
    assert len(turns) == 1 and fake_llm.stats().requests == 1


async def test_keys_belong_to_their_user(settings: Settings) -> None:
    async with running(settings, auth="required", registration="open") as (_app, client):
        a = await account(client, "a@example.com")
        b = await account(client, "b@example.com")
        made = [
            await client.post(
                "/api/sessions", json={"title": "mine"}, headers={**who.headers, **keyed("k")}
            )
            for who in (a, b)
        ]
        assert made[0].json()["id"] != made[1].json()["id"]
        assert "idempotent-replayed" not in made[1].headers
        assert len(await sessions(client, **b.headers)) == 1
