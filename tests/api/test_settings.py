"""A user's settings: defaults for their turns, and a provider key kept encrypted."""

from pathlib import Path
from typing import Any

import httpx
from sqlalchemy import select

from roost.store.models import UserSettings
from roost.testing import FakeLLM

Client = httpx.AsyncClient
KEY = "sk-ant-api03-abcdefghijklmnopqrstuvwxyz-bQAA"


async def test_settings_show_server_defaults_at_first(client: Client) -> None:
    shown = (await client.get("/api/settings")).json()
    assert shown["provider"] == "openai" and shown["model"] == "fake-small"
    assert shown["has_api_key"] is True and shown["api_key_preview"] is None


async def test_a_key_is_stored_encrypted_and_shown_only_as_a_preview(
    app: Any, client: Client, settings: Any
) -> None:
    response = await client.post(
        "/api/settings",
        json={"provider": "anthropic", "apiKey": KEY, "systemPrompt": "Be brief.", "maxTokens": 99},
    )
    assert response.json() == {"success": True}
    shown = (await client.get("/api/settings")).json()
    assert shown["api_key_preview"] == "sk-ant-api...bQAA"
    assert KEY not in str(shown)
    assert (shown["system_prompt"], shown["max_tokens"]) == ("Be brief.", 99)
    async with app.state.services.database.read() as db:
        row = (await db.execute(select(UserSettings))).scalar_one()
    assert row.api_key_sealed and KEY not in row.api_key_sealed
    key_file = Path(settings.home) / "secret.key"
    assert key_file.stat().st_mode & 0o777 == 0o600
    cleared = (await client.patch("/api/settings", json={"apiKey": None})).json()
    assert cleared["api_key_preview"] is None


async def test_settings_shape_the_users_turns(client: Client, fake_llm: FakeLLM) -> None:
    await client.patch(
        "/api/settings",
        json={"model": "fake-large", "system_prompt": "Answer in French.", "max_tokens": 50},
    )
    sid = (await client.post("/api/sessions", json={})).json()["id"]
    reply = (await client.post(f"/api/sessions/{sid}/messages", json={"content": "hi"})).json()
    assert reply["turn"]["model"] == "openai/fake-large"
    sent = fake_llm.stats().last_requests[-1].body
    assert sent["messages"][0]["content"].startswith("Answer in French.")
    assert sent.get("max_tokens", sent.get("max_completion_tokens")) == 50


async def test_a_users_own_key_and_endpoint_serve_their_turns(
    client: Client, fake_llm: FakeLLM
) -> None:
    await client.patch(
        "/api/settings",
        json={
            "provider": "mine",
            "apiKey": "user-key-123456789",
            "baseURL": fake_llm.root_url,  # no /v1: the fake answers there too
            "model": "mine/fake-large",
        },
    )
    sid = (await client.post("/api/sessions", json={})).json()["id"]
    reply = (await client.post(f"/api/sessions/{sid}/messages", json={"content": "hi"})).json()
    assert reply["turn"]["model"] == "mine/fake-large"
    used = fake_llm.stats().last_requests[-1]
    assert used.path == "/chat/completions" and used.auth == "bearer"


async def test_test_key_really_calls_the_provider(client: Client, fake_llm: FakeLLM) -> None:
    good = await client.post(
        "/api/test-key",
        json={
            "provider": "openai",
            "apiKey": "sk-test-1",
            "baseURL": fake_llm.url,
            "model": "fake-small",
        },
    )
    assert good.json() == {
        "success": True,
        "model": "fake-small",
        "message": "openai API key is valid",
        "error": None,
    }
    fake_llm.add_replies({"fault": 401})
    bad = await client.post(
        "/api/test-key",
        json={
            "provider": "openai",
            "apiKey": "sk-wrong",
            "baseURL": fake_llm.url,
            "model": "fake-small",
        },
    )
    assert bad.status_code == 200
    assert bad.json()["success"] is False and bad.json()["error"]
    anthropic = await client.post(
        "/api/test-key",
        json={"provider": "anthropic", "apiKey": "sk-ant-x", "baseURL": fake_llm.root_url},
    )
    assert anthropic.json()["success"] is True
    assert fake_llm.stats().last_requests[-1].path.endswith("/messages")


async def test_bad_settings_are_refused_and_change_nothing(client: Client) -> None:
    before = (await client.get("/api/settings")).json()
    for body in (
        {"maxTokens": "many"},
        {"maxTokens": 0},
        {"baseURL": "ftp://x"},
        {"baseURL": "javascript:alert(1)"},
        {"apiKey": 12345},
        {"systemPrompt": "a\x00b"},
    ):
        response = await client.patch("/api/settings", json=body)
        assert response.status_code == 422, body
    assert (await client.get("/api/settings")).json() == before


async def test_settings_schema_describes_the_fields(client: Client) -> None:
    schema = (await client.get("/api/settings/schema")).json()
    assert {"provider", "api_key", "model", "system_prompt", "max_tokens", "base_url"} <= set(
        schema["properties"]
    )


async def test_a_key_that_cannot_be_sent_in_a_header_is_refused(
    client: Client, fake_llm: FakeLLM
) -> None:
    """A provider key travels in an HTTP header, which holds ASCII only: one with other
    characters was stored, and every later call with it failed with a 500."""
    before = (await client.get("/api/settings")).json()
    for key in ("sk-é", "sk-\U000bfd18", "sk two", "sk-\tx"):
        response = await client.patch("/api/settings", json={"apiKey": key})
        assert response.status_code == 422, key
        tried = await client.post(
            "/api/test-key", json={"apiKey": key, "baseURL": fake_llm.url, "model": "fake-small"}
        )
        assert tried.status_code == 422, key
    assert (await client.get("/api/settings")).json() == before
    trimmed = await client.patch("/api/settings", json={"apiKey": " sk-pasted-key\n"})
    assert trimmed.status_code == 200
    assert (await client.post("/api/test-key", json={"baseURL": fake_llm.url})).status_code == 200
