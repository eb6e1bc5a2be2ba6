"""What a turn costs the database: a turn on an idle session starts in one transaction
with its user message, its empty answer and ``turn_start``; its tokens are committed as
they come, by one committer for all turns; and it ends in one transaction. Counted with
the engine's own ``begin`` events, reads included, over a real HTTP server."""

from collections.abc import Iterator
from contextlib import contextmanager
from typing import Any

import httpx
from sqlalchemy import event

from roost.testing import FakeLLM
from tests.support.sse import Frame, frames
from tests.support.turns import new_session


@contextmanager
def counted(app: Any) -> Iterator[list[int]]:
    """Counts the transactions the app's engine begins while the block runs."""
    began = [0]

    def on_begin(_connection: Any) -> None:
        began[0] += 1

    engine = app.state.services.database.engine.sync_engine
    event.listen(engine, "begin", on_begin)
    try:
        yield began
    finally:
        event.remove(engine, "begin", on_begin)


async def streamed(
    client: httpx.AsyncClient, sid: str, began: list[int]
) -> tuple[list[Frame], list[int]]:
    """A turn's frames, and how many transactions had begun as each text arrived."""
    seen: list[Frame] = []
    at_text: list[int] = []
    body = {"content": "hello"}
    headers = {"Accept": "text/event-stream"}
    async with client.stream(
        "POST", f"/api/sessions/{sid}/messages", json=body, headers=headers
    ) as response:
        assert response.status_code == 200
        async for frame in frames(response):
            if frame.event == "text":
                at_text.append(began[0])
            seen.append(frame)
    return seen, at_text


async def test_a_short_turn_costs_two_transactions_to_its_first_token_and_one_to_end(
    app: Any, live_server: str, fake_llm: FakeLLM
) -> None:
    async with httpx.AsyncClient(base_url=live_server, timeout=30) as client:
        sid = await new_session(client)
        # A pause between the two tokens: the first reaches the client while the model
        # is still answering, so nothing of the turn's end can have begun yet.
        fake_llm.add_replies({"text": "Warm"}, {"text": "Hi there", "token_delay_ms": 300})
        # The first turn of a process may ask the provider which models it serves.
        warm, _ = await streamed(client, sid, [0])
        assert warm[-1].event == "done"
        with counted(app) as began:
            seen, at_text = await streamed(client, sid, began)
            total = began[0]
    assert [f.event for f in seen] == ["turn_start", "text", "text", "usage", "done"]
    assert seen[-1].data["status"] == "completed"
    first, last = at_text
    assert first <= 2, first  # the start, and the round that committed the token
    assert total - last <= 1, (total, last)  # after the last token: only the end
    stored = (await client_get(live_server, f"/api/sessions/{sid}/messages")).json()
    assert [(m["role"], m["content"]) for m in stored["data"]][-2:] == [
        ("user", "hello"),
        ("assistant", "Hi there"),
    ]


async def test_a_tool_round_trip_waits_on_no_commit_until_the_turn_ends(
    app: Any, live_server: str, fake_llm: FakeLLM
) -> None:
    """A model call, a tool and a second call: the tool's events and messages are
    committed in the background, so the whole turn is the start, the rounds that carried
    its events and the end — never a transaction per event."""
    async with httpx.AsyncClient(base_url=live_server, timeout=30) as client:
        sid = await new_session(client)
        plan = {"steps": [{"id": "1", "description": "look", "status": "completed"}]}
        fake_llm.add_replies(
            {"text": "Warm"},
            {"tool_calls": [{"name": "update_plan", "arguments": plan}]},
            {"text": "Done."},
        )
        await streamed(client, sid, [0])
        with counted(app) as began:
            seen, _ = await streamed(client, sid, began)
            total = began[0]
    kinds = [f.event for f in seen]
    assert kinds[0] == "turn_start" and kinds[-1] == "done"
    assert {"tool_call", "tool_result", "text"} <= set(kinds)
    assert seen[-1].data["status"] == "completed"
    # Events that were each committed alone would take one transaction apiece.
    assert total < len(seen), (total, kinds)
    stored = (await client_get(live_server, f"/api/sessions/{sid}/messages")).json()
    roles = [m["role"] for m in stored["data"]][-4:]
    assert roles == ["user", "assistant", "tool", "assistant"]


async def client_get(url: str, path: str) -> httpx.Response:
    async with httpx.AsyncClient(base_url=url, timeout=30) as client:
        return await client.get(path)
