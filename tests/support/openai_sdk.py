"""Helpers of the tests that drive Roost's /v1 routes with the official `openai` SDK."""

from typing import Any

import httpx

from roost.engine.tools.registry import Tool, ToolContext
from roost.testing import FakeLLM


async def api_key(live_server: str) -> str:
    """A key of the local owner's: the SDK will not go without one."""
    async with httpx.AsyncClient(base_url=live_server) as client:
        created = await client.post("/api/auth/api-keys", json={"name": "openai sdk"})
    key: str = created.json()["key"]
    return key


def sent_messages(fake_llm: FakeLLM) -> list[dict[str, Any]]:
    messages: list[dict[str, Any]] = fake_llm.stats().last_requests[-1].body["messages"]
    return messages


def register_lookup(app: Any) -> None:
    """A tool of the server's that says it is sunny."""

    async def lookup(_args: dict[str, Any], _context: ToolContext) -> dict[str, str]:
        return {"weather": "sunny"}

    schema = {"type": "object", "properties": {"city": {"type": "string"}}}
    app.state.services.tools.register(Tool("lookup", "Looks up", schema, lookup, source="test"))
