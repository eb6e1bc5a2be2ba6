"""Sessions and turns for tests, through the API the way a client uses them."""

import asyncio
from typing import Any

import httpx

from tests.support.sse import Frame, assert_well_formed, parse

Client = httpx.AsyncClient


async def new_session(client: Client, **body: Any) -> str:
    response = await client.post("/api/sessions", json=body)
    assert response.status_code == 201, response.text
    return str(response.json()["id"])


async def send(client: Client, sid: str, content: str = "go") -> dict[str, Any]:
    """Send a message and wait: the answer comes back when the turn ends or waits."""
    response = await client.post(f"/api/sessions/{sid}/messages", json={"content": content})
    assert response.status_code == 200, response.text
    return dict(response.json())


async def events_of(client: Client, sid: str, turn_id: str) -> list[Frame]:
    """The turn's whole log, once it is done, checked to be well formed."""
    events = parse((await client.get(f"/api/sessions/{sid}/turns/{turn_id}/events")).text)
    assert_well_formed(events)
    return events


async def status_of(client: Client, sid: str, turn_id: str) -> str:
    return str((await client.get(f"/api/sessions/{sid}/turns/{turn_id}")).json()["status"])


async def until_logged(client: Client, sid: str, turn_id: str, events: int = 4) -> None:
    """Wait until the turn has logged ``events`` events (it is under way)."""
    for _ in range(500):
        turn = (await client.get(f"/api/sessions/{sid}/turns/{turn_id}")).json()
        if turn["last_seq"] >= events:
            return
        await asyncio.sleep(0.01)
    raise AssertionError(f"the turn never logged {events} events")


def ask(question: str, options: list[str] | None = None) -> dict[str, Any]:
    """A scripted reply that calls ask_user."""
    arguments: dict[str, Any] = {"question": question}
    if options:
        arguments["options"] = options
    return {"tool_calls": [{"id": "ask_1", "name": "ask_user", "arguments": arguments}]}
