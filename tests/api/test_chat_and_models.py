"""Floyd's chat shortcuts, roles, providers and models."""

from typing import Any

import httpx

from roost.testing import FakeLLM
from tests.support.sse import assert_well_formed, parse

Client = httpx.AsyncClient


async def test_chat_with_a_null_session_creates_one(client: Client, fake_llm: FakeLLM) -> None:
    fake_llm.add_replies({"text": "I'm well."}, {"text": "Greeting", "match": "title"})
    response = await client.post("/api/chat", json={"sessionId": None, "message": "How are you?"})
    assert response.status_code == 200, response.text
    body = response.json()
    assert body["success"] is True and body["response"] == "I'm well."
    assert body["usage"]["output_tokens"] > 0
    assert body["session"]["title"] == "Greeting"
    again = await client.post(
        "/api/chat", json={"sessionId": body["session"]["id"], "message": "And now?"}
    )
    assert again.json()["session"]["id"] == body["session"]["id"]
    detail = (await client.get(f"/api/sessions/{body['session']['id']}")).json()
    assert detail["message_count"] == 4


async def test_chat_stream_sends_the_turn_events(client: Client) -> None:
    response = await client.post("/api/chat/stream", json={"message": "Hello", "enableTools": True})
    events = parse(response.text)
    assert_well_formed(events)
    assert events[-1].data["status"] == "completed"


async def test_chat_with_an_unknown_session_is_not_found(client: Client) -> None:
    response = await client.post(
        "/api/chat", json={"sessionId": "ses_01m8a97z54byzvm9agg9cemc09", "message": "hi"}
    )
    assert response.status_code == 404


async def test_roles_list_the_agents(settings: Any) -> None:
    from roost.app import create_app
    from roost.config import AgentSettings

    coder = AgentSettings(description="Writes code", model="fake-large", preamble="Be exact.")
    app = create_app(settings.model_copy(update={"agents": {"coder": coder}}))
    async with app.router.lifespan_context(app):
        transport = httpx.ASGITransport(app=app)
        async with httpx.AsyncClient(transport=transport, base_url="http://t") as client:
            roles = (await client.get("/api/config/roles")).json()
            assert {r["name"]: r["model"] for r in roles["roles"]} == {
                "assistant": None,
                "coder": "fake-large",
            }
            sid = (await client.post("/api/sessions", json={"model_role": "coder"})).json()["id"]
            reply = (
                await client.post(f"/api/sessions/{sid}/messages", json={"content": "hi"})
            ).json()
            assert reply["turn"]["model"] == "openai/fake-large"
            assert reply["turn"]["agent"] == "coder"


async def test_providers_and_models_describe_what_is_configured(client: Client) -> None:
    providers = (await client.get("/api/providers")).json()
    openai = next(p for p in providers["providers"] if p["id"] == "openai")
    assert openai["configured"] is True and openai["models_count"] >= 2
    anthropic = next(p for p in providers["providers"] if p["id"] == "anthropic")
    assert anthropic["configured"] is False
    assert "fake-small" in [m["id"] for m in providers["models"]["openai"]]
    assert providers["default_model"] == "openai/fake-small"
    models = (await client.get("/api/models", params={"provider": "openai"})).json()
    gpt = next(m for m in models["models"] if m["id"] == "gpt-4o")
    assert gpt["context_window"] == 128_000 and gpt["supports_vision"] is True
    unknown = await client.get("/api/models", params={"provider": "nope"})
    assert unknown.status_code == 404
    assert unknown.json()["error"]["code"] == "PROVIDER_NOT_FOUND"
