"""A cursor names a row in its own list: another user's or another session's id is the
same 400 as an unknown one, in every list that pages by cursor, so a cursor can never
tell whether someone else's id exists."""

from typing import Any

import httpx
import pytest

from roost import ids
from roost.testing import FakeLLM
from tests.support.accounts import Account, account

Client = httpx.AsyncClient


@pytest.fixture
async def world(open_app: tuple[Any, Client]) -> tuple[Client, Account, Account, Account]:
    """An admin and two members, A and B, in required mode."""
    _, client = open_app
    admin = await account(client, "root@example.com")
    a = await account(client, "a@example.com")
    b = await account(client, "b@example.com")
    return client, admin, a, b


async def things(client: Client, who: Account, fake: FakeLLM) -> dict[str, str]:
    """A session with a message and a finished turn, a second such session, a project,
    and a question the user has not answered yet."""
    found: dict[str, str] = {}
    for name in ("session", "other_session"):
        sid = (await client.post("/api/sessions", headers=who.headers, json={})).json()["id"]
        sent = await client.post(
            f"/api/sessions/{sid}/messages", headers=who.headers, json={"content": "hi"}
        )
        assert sent.status_code == 200, sent.text
        found |= {name: sid, f"{name}_turn": sent.json()["turn"]["id"]}
        found[f"{name}_message"] = sent.json()["message"]["id"]
    project = await client.post("/api/projects", headers=who.headers, json={"name": f"p-{who.id}"})
    assert project.status_code == 201, project.text
    found["project"] = project.json()["id"]
    fake.add_replies(
        {"tool_calls": [{"id": "q", "name": "ask_user", "arguments": {"question": "Why?"}}]}
    )
    asking = (await client.post("/api/sessions", headers=who.headers, json={})).json()["id"]
    waiting = await client.post(
        f"/api/sessions/{asking}/messages", headers=who.headers, json={"content": "ask"}
    )
    found["input"] = waiting.json()["input_required"][0]["id"]
    return found


def assert_unknown_cursor(response: httpx.Response, field: str) -> None:
    assert response.status_code == 400, response.text
    error = response.json()["error"]
    assert error["code"] == "INVALID_REQUEST" and error["details"]["field"] == field
    assert "names nothing in this list" in error["message"]


async def assert_cursor_scoped(
    client: Client,
    who: Account,
    url: str,
    field: str,
    own: str,
    foreign: list[str],
    **query: str,
) -> None:
    """``own`` pages; each of ``foreign`` answers exactly as an unknown id would."""
    ok = await client.get(url, headers=who.headers, params={field: own, **query})
    assert ok.status_code == 200, (url, ok.text)
    unknown = ids.new_id(own.split("_", 1)[0])
    for cursor in (*foreign, unknown):
        answer = await client.get(url, headers=who.headers, params={field: cursor, **query})
        assert_unknown_cursor(answer, field)


async def test_a_cursor_from_another_user_or_session_names_nothing(
    world: tuple[Client, Account, Account, Account], fake_llm: FakeLLM
) -> None:
    client, _admin, a, b = world
    theirs, mine = await things(client, a, fake_llm), await things(client, b, fake_llm)
    session = mine["session"]
    for field in ("before", "after"):
        await assert_cursor_scoped(
            client, b, "/api/sessions", field, mine["other_session"], [theirs["session"]]
        )
        await assert_cursor_scoped(
            client,
            b,
            f"/api/sessions/{session}/messages",
            field,
            mine["session_message"],
            [theirs["session_message"], mine["other_session_message"]],
        )
        await assert_cursor_scoped(
            client, b, "/api/projects", field, mine["project"], [theirs["project"]]
        )
    await assert_cursor_scoped(
        client,
        b,
        f"/api/sessions/{session}/turns",
        "before",
        mine["session_turn"],
        [theirs["session_turn"], mine["other_session_turn"]],
    )
    await assert_cursor_scoped(client, b, "/api/inputs", "before", mine["input"], [theirs["input"]])


async def test_admin_lists_take_only_cursors_of_their_own_rows(
    world: tuple[Client, Account, Account, Account], fake_llm: FakeLLM
) -> None:
    client, admin, a, b = world
    theirs, mine = await things(client, a, fake_llm), await things(client, b, fake_llm)
    await assert_cursor_scoped(
        client,
        admin,
        "/api/admin/sessions",
        "after",
        mine["session"],
        [theirs["session"]],
        user_id=b.id,
    )
    await assert_cursor_scoped(client, admin, "/api/admin/users", "after", a.id, [])
    invite = await client.post("/api/admin/invite-codes", headers=admin.headers, json={})
    assert invite.status_code == 201, invite.text
    await assert_cursor_scoped(
        client, admin, "/api/admin/invite-codes", "after", invite.json()["id"], []
    )
    server = await client.post(
        "/api/mcp/servers",
        headers=admin.headers,
        json={"name": "s", "transport": "http", "url": "http://127.0.0.1:9/mcp"},
    )
    assert server.status_code == 201, server.text
    await assert_cursor_scoped(client, admin, "/api/mcp/servers", "after", server.json()["id"], [])
