"""A busy server makes turns wait, never fail: with two database connections for a
process, many turns at once all finish (on PostgreSQL the pool is the limit; on SQLite
the one writer at a time is)."""

import asyncio
from typing import Any

import httpx

from roost.app import create_app
from roost.config import Settings
from roost.testing import FakeLLM
from tests.support.live import serving
from tests.support.sse import frames
from tests.support.turns import new_session

TURNS = 24


async def test_turns_wait_for_a_database_connection_instead_of_failing(
    settings: Settings, fake_llm: FakeLLM
) -> None:
    fake_llm.configure(token_delay_ms=5)
    app = create_app(settings.model_copy(update={"database_pool_size": 2}))
    async with app.router.lifespan_context(app), serving(app) as url:
        limits = httpx.Limits(max_connections=TURNS + 2)
        async with httpx.AsyncClient(base_url=url, timeout=60, limits=limits) as client:
            sessions = [await new_session(client) for _ in range(TURNS)]

            async def turn(sid: str) -> list[Any]:
                async with client.stream(
                    "POST",
                    f"/api/sessions/{sid}/messages",
                    json={"content": f"question for {sid}"},
                    headers={"Accept": "text/event-stream"},
                ) as response:
                    assert response.status_code == 200, await response.aread()
                    return [frame async for frame in frames(response)]

            streams = await asyncio.wait_for(asyncio.gather(*map(turn, sessions)), 60)
    for seen in streams:
        assert [f.data["seq"] for f in seen] == list(range(1, len(seen) + 1))
        assert seen[-1].event == "done" and seen[-1].data["status"] == "completed"
        assert any(f.event == "text" for f in seen)
