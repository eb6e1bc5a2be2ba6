"""Memories over HTTP in their three scopes (session, project, user), keyword search,
the agent's remember/recall/forget tools, and recall into a later turn of another
session of the same user (never of another user)."""

import asyncio
from typing import Any

import httpx
import pytest

from roost.config import Settings
from roost.testing import FakeLLM
from tests.support.accounts import account
from tests.support.admin import error_code
from tests.support.apps import running
from tests.support.projects import new_project
from tests.support.turns import events_of, new_session, send

Client = httpx.AsyncClient


async def remember(client: Client, base: str, content: str, **body: Any) -> dict[str, Any]:
    response = await client.post(base, json={"content": content, **body})
    assert response.status_code == 201, response.text
    return dict(response.json())


async def searched_until_found(client: Client, query: str) -> dict[str, Any]:
    for _ in range(200):
        found = (await client.post("/api/memories/search", json={"query": query})).json()
        if found["results"]:
            return dict(found)
        await asyncio.sleep(0.05)
    raise AssertionError(f"nothing found for {query!r}")


async def test_a_sessions_memories_are_made_read_changed_searched_and_deleted(
    client: Client,
) -> None:
    sid = await new_session(client)
    base = f"/api/sessions/{sid}/memories"
    first = await remember(client, base, "The user prefers dark roast coffee", tags=["taste"])
    assert first["id"].startswith("mem_") and first["scope"] == "session"
    assert first["session_id"] == sid and first["source"] == "user" and first["importance"] == 0.5
    await remember(client, f"/api/session/{sid}/memories", "Meetings are on Tuesdays")
    listed = (await client.get(base)).json()
    assert listed["memories"] == listed["data"] and len(listed["data"]) == 2
    assert listed["data"][0]["content"] == "Meetings are on Tuesdays"  # newest first

    found = (await client.post(f"{base}/search", json={"query": "coffee roast"})).json()
    assert [hit["memory"]["id"] for hit in found["results"]] == [first["id"]]
    assert found["results"][0]["score"] > 0 and found["results"][0]["score_parts"]["keyword"] > 0
    tagged = await client.post(f"{base}/search", json={"query": "coffee", "tags": ["other"]})
    assert tagged.json()["results"] == []

    changed = await client.put(f"{base}/{first['id']}", json={"content": "Tea, not coffee"})
    assert changed.json()["content"] == "Tea, not coffee" and changed.json()["tags"] == ["taste"]
    same = (await client.get(f"/api/session/{sid}/memories/{first['id']}")).json()
    assert same == changed.json()

    stores = (await client.get(f"/api/sessions/{sid}/memories/stores")).json()["stores"]
    assert [(s["scope"], s["count"]) for s in stores] == [("session", 2), ("user", 0)]

    assert (await client.delete(f"{base}/{first['id']}")).status_code == 204
    gone = await client.get(f"{base}/{first['id']}")
    assert gone.status_code == 404 and error_code(gone) == "MEMORY_NOT_FOUND"
    # A memory is reached only in its own scope.
    user_one = await remember(client, "/api/memories", "Lives in Lyon")
    elsewhere = await client.get(f"{base}/{user_one['id']}")
    assert elsewhere.status_code == 404


@pytest.mark.located
async def test_a_projects_memories_follow_the_workspace(client: Client) -> None:
    project = await new_project(client, "Site")
    missing = await client.get("/api/workspace/memories")
    assert missing.status_code == 400  # no active project, none named
    made = await remember(
        client, f"/api/workspace/memories?project_id={project['id']}", "Deploys go through CI"
    )
    assert made["scope"] == "project" and made["project_id"] == project["id"]
    await client.post(f"/api/projects/{project['id']}/activate")
    listed = (await client.get("/api/workspace/memories")).json()["data"]
    assert [m["id"] for m in listed] == [made["id"]]
    sid = await new_session(client)  # joins the active project
    stores = (await client.get(f"/api/sessions/{sid}/memories/stores")).json()["stores"]
    assert [(s["scope"], s["count"]) for s in stores] == [
        ("session", 0),
        ("project", 1),
        ("user", 0),
    ]


async def test_bad_memories_are_refused(client: Client) -> None:
    for body in (
        {"content": ""},
        {"content": "x", "importance": 2},
        {"content": "x", "tags": ["t"] * 21},
        {"content": "nul\x00"},
    ):
        response = await client.post("/api/memories", json=body)
        assert response.status_code == 422, body
    assert (await client.post("/api/memories/search", json={"query": ""})).status_code == 422
    assert (await client.get("/api/memories")).json()["data"] == []


async def test_an_agent_remembers_in_one_session_and_recalls_in_another(
    client: Client, fake_llm: FakeLLM
) -> None:
    fact = "The user's favourite colour is teal"
    fake_llm.add_replies(
        {"tool_calls": [{"name": "remember", "arguments": {"content": fact, "tags": ["taste"]}}]},
        {"text": "Noted."},
    )
    first = await new_session(client)
    await send(client, first, "Remember that my favourite colour is teal.")
    kept = (await client.get("/api/memories")).json()["data"]
    assert [(m["content"], m["source"], m["tags"]) for m in kept] == [(fact, "agent", ["taste"])]

    second = await new_session(client)
    sent = await send(client, second, "Which colour do I like? My favourite colour, please.")
    system = str(fake_llm.stats().last_request.body["messages"][0])
    assert fact in system  # recalled into the new session's context
    statuses = [
        e.data for e in await events_of(client, second, sent["turn"]["id"]) if e.event == "status"
    ]
    assert any(s["status"] == "memory" and s["message"] == "Recalled 1 memory" for s in statuses)

    # The agent searches and forgets by itself.
    fake_llm.add_replies(
        {"tool_calls": [{"name": "recall", "arguments": {"query": "colour"}}]},
        {"tool_calls": [{"name": "forget", "arguments": {"memory_id": kept[0]["id"]}}]},
        {"text": "Forgotten."},
    )
    await send(client, second, "Look it up, then forget it.")
    assert (await client.get("/api/memories")).json()["data"] == []


async def test_recall_is_off_for_an_agent_that_does_without_and_never_crosses_users(
    open_app: tuple[Any, Client], fake_llm: FakeLLM
) -> None:
    _app, client = open_app
    alice = await account(client, "alice@example.com")
    bob = await account(client, "bob@example.com")
    made = await client.post(
        "/api/memories",
        json={"content": "Alice's secret code word is heron"},
        headers=alice.headers,
    )
    assert made.status_code == 201
    sid = (await client.post("/api/sessions", json={}, headers=bob.headers)).json()["id"]
    sent = await client.post(
        f"/api/sessions/{sid}/messages",
        json={"content": "What is the secret code word heron?"},
        headers=bob.headers,
    )
    assert sent.status_code == 200
    assert "heron" not in str(fake_llm.stats().last_request.body["messages"][0])
    assert (await client.get("/api/memories", headers=bob.headers)).json()["data"] == []
    stolen = await client.get(f"/api/memories/{made.json()['id']}", headers=bob.headers)
    assert stolen.status_code == 404

    await client.post(
        "/api/agents",
        json={"name": "forgetful", "preamble": "p", "recall_memories": False},
        headers=alice.headers,
    )
    own = (
        await client.post("/api/sessions", json={"agent": "forgetful"}, headers=alice.headers)
    ).json()["id"]
    await client.post(
        f"/api/sessions/{own}/messages",
        json={"content": "The secret code word heron?"},
        headers=alice.headers,
    )
    assert "code word is heron" not in str(fake_llm.stats().last_request.body["messages"][0])
    remembering = (await client.post("/api/sessions", json={}, headers=alice.headers)).json()["id"]
    await client.post(
        f"/api/sessions/{remembering}/messages",
        json={"content": "The secret code word heron?"},
        headers=alice.headers,
    )
    assert "code word is heron" in str(fake_llm.stats().last_request.body["messages"][0])


async def test_with_an_embedding_model_search_goes_by_meaning_too(
    settings: Settings, fake_llm: FakeLLM
) -> None:
    async with running(settings) as (app, client):  # no model yet: words alone
        await remember(client, "/api/memories", "x y z")
        assert app.state.services.system.features()["embeddings"] == "none"
    with_model = {"embedding_model": "openai/fake-embed"}
    async with running(settings, **with_model) as (app, client):
        features = app.state.services.system.features()
        compared = "sqlite-vec" if str(settings.database_url).startswith("sqlite") else "pgvector"
        assert (features["embeddings"], features["vector_search"]) == ("provider", compared)
        await remember(client, "/api/memories", "the heron fishes at dawn")
        # One-letter words are no keywords, but they are part of the text's meaning: the
        # memory made before the model is found once embedded, in the background.
        found = await searched_until_found(client, "x y z")
        assert [hit["memory"]["content"] for hit in found["results"]] == ["x y z"]
        parts = found["results"][0]["score_parts"]
        assert parts["keyword"] == 0 and parts["semantic"] == pytest.approx(1.0, abs=1e-4)
        both = (await client.post("/api/memories/search", json={"query": "heron dawn"})).json()
        best = both["results"][0]
        assert best["memory"]["content"] == "the heron fishes at dawn"
        assert best["score_parts"]["keyword"] > 0 and best["score_parts"]["semantic"] > 0
        called = [r for r in fake_llm.stats().last_requests if r.path == "/v1/embeddings"]
        assert called and called[-1].model == "fake-embed"  # the provider's endpoint
