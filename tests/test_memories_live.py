"""Memories and search end to end, against a real ``roost serve`` process over HTTP, on
SQLite (sqlite-vec) and PostgreSQL (pgvector): an agent remembers a fact in one session
and uses it in another of the same user, never another user's; the user's messages are
found by a word and by their meaning."""

import asyncio
from pathlib import Path
from typing import Any

import httpx

from roost.testing import FakeLLM
from tests.support.accounts import account
from tests.support.live import fake_model_env, roost_process

FACT = "The user's favourite colour is teal"
LIVE = {
    "ROOST_AUTH": "required",
    "ROOST_REGISTRATION": "open",
    "ROOST_RATE_LIMIT_PER_MINUTE": "100000",
    "ROOST_RATE_LIMIT_ANONYMOUS_PER_MINUTE": "100000",
    "ROOST_EMBEDDING_MODEL": "openai/fake-embed",
}


async def test_a_fact_remembered_in_one_session_is_used_in_another_and_found_by_meaning(
    tmp_path: Path, database_url: str
) -> None:
    with FakeLLM() as fake:
        env = fake_model_env(fake, ROOST_DATABASE_URL=database_url, **LIVE)
        with roost_process(tmp_path, env) as (_process, url):
            async with httpx.AsyncClient(base_url=url, timeout=30) as client:
                features = (await client.get("/api/features")).json()
                compared = "sqlite-vec" if database_url.startswith("sqlite") else "pgvector"
                assert (features["embeddings"], features["vector_search"]) == (
                    "provider",
                    compared,
                )
                alice = await account(client, "alice@example.com")
                bob = await account(client, "bob@example.com")

                fake.add_replies(
                    {"tool_calls": [{"name": "remember", "arguments": {"content": FACT}}]},
                    {"text": "Noted."},
                )
                first = await new_session(client, alice.headers)
                await send(client, alice.headers, first, "Remember: my favourite colour is teal.")
                second = await new_session(client, alice.headers)
                await send(client, alice.headers, second, "Which favourite colour do I have?")
                assert FACT in system_prompt_of_last_turn(fake)
                theirs = await new_session(client, bob.headers)
                await send(client, bob.headers, theirs, "Which favourite colour do I have?")
                assert FACT not in system_prompt_of_last_turn(fake)

                by_word = await search(client, alice.headers, q="teal", mode="keyword")
                assert {hit["session_id"] for hit in by_word["results"]} == {first}
                # No message holds "shade" or "palette": found by meaning alone.
                wanted = {"q": "favourite colour shade palette", "mode": "semantic"}
                by_meaning = await eventually(client, alice.headers, wanted)
                assert by_meaning["results"][0]["session_id"] in {first, second}
                assert all(hit["session_id"] != theirs for hit in by_meaning["results"])
                keyword_only = await search(client, alice.headers, **{**wanted, "mode": "keyword"})
                assert keyword_only["results"] == []


def system_prompt_of_last_turn(fake: FakeLLM) -> str:
    """The last model call's system prompt (embedding calls come and go beside them)."""
    calls = [r for r in fake.stats().last_requests if r.path.endswith("/chat/completions")]
    return str(calls[-1].body["messages"][0])


async def new_session(client: httpx.AsyncClient, headers: dict[str, str]) -> str:
    response = await client.post("/api/sessions", json={}, headers=headers)
    assert response.status_code == 201, response.text
    return str(response.json()["id"])


async def send(client: httpx.AsyncClient, headers: dict[str, str], sid: str, text: str) -> None:
    response = await client.post(
        f"/api/sessions/{sid}/messages", json={"content": text}, headers=headers
    )
    assert response.status_code == 200, response.text
    assert response.json()["turn"]["status"] == "completed", response.text


async def search(client: httpx.AsyncClient, headers: dict[str, str], **params: Any) -> Any:
    response = await client.get("/api/search", params=params, headers=headers)
    assert response.status_code == 200, response.text
    return response.json()


async def eventually(
    client: httpx.AsyncClient, headers: dict[str, str], params: dict[str, str]
) -> Any:
    """The search once it finds something: messages are embedded in the background."""
    for _ in range(200):
        found = await search(client, headers, **params)
        if found["results"]:
            return found
        await asyncio.sleep(0.05)
    raise AssertionError(f"nothing found for {params}")
