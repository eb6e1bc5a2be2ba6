"""A turn whose own last writes fail still ends: its readers hear ``done`` (failed), and
its session is free again."""

from typing import Any

import httpx
import pytest

from roost.store.sessions import UncheckedSessions
from roost.testing import FakeLLM
from tests.support.sse import frames
from tests.support.turns import new_session


async def test_a_turn_whose_end_fails_is_ended_as_failed(
    live_server: str, fake_llm: FakeLLM, monkeypatch: pytest.MonkeyPatch
) -> None:
    async def broken(*_args: Any) -> None:
        raise RuntimeError("the end of the turn could not be written")

    monkeypatch.setattr(UncheckedSessions, "turn_ended", broken)
    fake_llm.add_replies({"text": "An answer"})
    async with httpx.AsyncClient(base_url=live_server, timeout=30) as client:
        sid = await new_session(client)
        async with client.stream(
            "POST",
            f"/api/sessions/{sid}/messages",
            json={"content": "hello"},
            headers={"Accept": "text/event-stream"},
        ) as response:
            seen = [frame async for frame in frames(response)]
        monkeypatch.undo()
        session = (await client.get(f"/api/sessions/{sid}")).json()
        again = await client.post(f"/api/sessions/{sid}/messages", json={"content": "again"})
    assert [f.data["seq"] for f in seen] == list(range(1, len(seen) + 1))
    assert seen[-1].event == "done" and seen[-1].data["status"] == "failed"
    errors = [f for f in seen if f.event == "error"]
    assert [e.data["code"] for e in errors] == ["INTERNAL_ERROR"]
    assert session["status"] == "idle"
    assert again.status_code == 200, again.text
