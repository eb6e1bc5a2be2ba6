"""Configuring MCP servers (``/api/mcp/servers``): shapes, secrets, bad input, who may.

Nothing here starts a server (they start on first use); tests/api/test_mcp_tools.py
runs them."""

from typing import Any

import httpx
from sqlalchemy import select

from roost.config import Settings
from roost.store.models import McpServer
from tests.support.admin import admin_team, error_code

Client = httpx.AsyncClient
SECRET = "sk-live-0123456789abcdefXYZW"
UNKNOWN_ID = "mcp_01m8a97z54byzvm9agg9cemc09"


def stdio_body(name: str = "files", **extra: Any) -> dict[str, Any]:
    return {
        "name": name,
        "transport": "stdio",
        "command": "mcp-files",
        "args": ["--root", "/srv"],
        "env": {"API_KEY": SECRET},
        **extra,
    }


async def create(client: Client, body: dict[str, Any]) -> dict[str, Any]:
    response = await client.post("/api/mcp/servers", json=body)
    assert response.status_code == 201, response.text
    return dict(response.json())


async def stored(app: Any, server_id: str) -> McpServer:
    async with app.state.services.database.read() as db:
        row = await db.scalar(select(McpServer).where(McpServer.id == server_id))
    assert isinstance(row, McpServer)
    return row


async def test_a_server_is_created_read_changed_and_deleted(client: Client) -> None:
    made = await create(client, stdio_body(requiresApproval=True))
    assert made["id"].startswith("mcp_") and made["name"] == "files"
    assert made["transport"] == "stdio" and made["command"] == "mcp-files"
    assert made["args"] == ["--root", "/srv"] and made["url"] is None
    assert made["enabled"] is True and made["requires_approval"] is True
    assert made["status"] == {
        "state": "stopped",
        "last_error": None,
        "tool_count": 0,
        "pid": None,
        "started_at": None,
    }
    assert made["created_at"].endswith("Z") and made["created_by"] is not None

    listed = (await client.get("/api/mcp/servers")).json()
    assert listed["servers"] == listed["data"] == [made]
    assert listed["has_more"] is False and listed["next_cursor"] is None
    url = f"/api/mcp/servers/{made['id']}"
    assert (await client.get(url)).json() == made

    changed = await client.patch(url, json={"name": "files-2", "enabled": False})
    assert changed.status_code == 200
    assert changed.json()["name"] == "files-2" and changed.json()["enabled"] is False
    assert changed.json()["command"] == "mcp-files" and changed.json()["env"] == made["env"]

    moved = await client.patch(
        url, json={"transport": "http", "url": "https://mcp.example.com/mcp"}
    )
    assert moved.status_code == 200, moved.text
    body = moved.json()
    assert body["transport"] == "http" and body["url"] == "https://mcp.example.com/mcp"
    assert body["command"] is None and body["args"] == [] and body["env"] == {}

    status = await client.get(f"{url}/status")
    assert status.status_code == 200 and status.json()["state"] == "stopped"
    deleted = await client.delete(url)
    assert deleted.status_code == 204 and deleted.content == b""
    gone = await client.get(url)
    assert gone.status_code == 404 and error_code(gone) == "MCP_SERVER_NOT_FOUND"
    assert gone.json()["error"]["details"] == {"server_id": made["id"]}


async def test_secrets_are_sealed_at_rest_and_shown_only_as_previews(
    app: Any, client: Client
) -> None:
    made = await create(client, stdio_body(env={"API_KEY": SECRET, "PIN": "1234"}))
    assert made["env"] == {"API_KEY": "...XYZW", "PIN": "****"}
    row = await stored(app, made["id"])
    assert row.env_encrypted and SECRET not in row.env_encrypted and "1234" not in row.env_encrypted
    assert "API_KEY" not in row.env_encrypted

    url = f"/api/mcp/servers/{made['id']}"
    patched = await client.patch(url, json={"env": {"PIN": None, "REGION": "eu-west-1"}})
    assert patched.json()["env"] == {"API_KEY": "...XYZW", "REGION": "*********"}
    everything = [
        (await client.get(url)).text,
        (await client.get("/api/mcp/servers")).text,
        patched.text,
    ]
    assert not any(SECRET in text for text in everything)
    cleared = await client.patch(url, json={"env": None})
    assert cleared.json()["env"] == {} and (await stored(app, made["id"])).env_encrypted is None

    remote = await create(
        client,
        {
            "name": "remote",
            "transport": "http",
            "url": "https://user:hunter2@mcp.example.com/mcp",
            "headers": {"Authorization": f"Bearer {SECRET}"},
        },
    )
    assert remote["headers"] == {"Authorization": "Bearer sk-...XYZW"}
    assert remote["url"] == "https://user:***@mcp.example.com/mcp"
    sealed = (await stored(app, remote["id"])).headers_encrypted
    assert sealed and SECRET not in sealed


async def test_bad_input_is_refused_in_the_error_envelope(client: Client) -> None:
    schema_errors = [
        stdio_body(name=""),
        stdio_body(name="has space"),
        stdio_body(name="x" * 41),
        stdio_body(name="a__b"),
        {**stdio_body(), "name": 7},
        stdio_body(transport="sse"),
        stdio_body(env={"1BAD": "x"}),
        stdio_body(env={"OK": 5}),
        stdio_body(args="--root /srv"),
        stdio_body(enabled="yes"),
        {"name": "web", "transport": "http", "url": "ftp://example.com"},
        {"name": "web", "transport": "http", "url": "https://h", "headers": {"X": "a\r\nb"}},
        {"name": "web", "transport": "http", "url": "https://h", "headers": {"Bad Name": "v"}},
        {"transport": "stdio", "command": "x"},
    ]
    for body in schema_errors:
        response = await client.post("/api/mcp/servers", json=body)
        assert response.status_code == 422, (body, response.text)
        assert error_code(response) == "VALIDATION_ERROR" and response.json()["request_id"]
    unusable = [
        {"name": "cmdless", "transport": "stdio"},
        {"name": "urlless", "transport": "http"},
        stdio_body(name="mixed", url="https://example.com/mcp"),
        {"name": "mixed", "transport": "http", "url": "https://h/mcp", "command": "x"},
    ]
    for body in unusable:
        response = await client.post("/api/mcp/servers", json=body)
        assert response.status_code == 400, (body, response.text)
        assert error_code(response) == "INVALID_REQUEST"
    assert (await client.get("/api/mcp/servers")).json()["data"] == []

    first = await create(client, stdio_body())
    second = await create(client, stdio_body(name="other"))
    for response in (
        await client.post("/api/mcp/servers", json=stdio_body()),
        await client.patch(f"/api/mcp/servers/{second['id']}", json={"name": "files"}),
    ):
        assert response.status_code == 409 and error_code(response) == "MCP_SERVER_EXISTS"
        assert response.json()["error"]["details"]["field"] == "name"
    emptied = await client.patch(f"/api/mcp/servers/{first['id']}", json={"command": None})
    assert emptied.status_code == 400 and error_code(emptied) == "INVALID_REQUEST"
    assert (await client.get(f"/api/mcp/servers/{first['id']}")).json()["command"] == "mcp-files"

    for unknown in (UNKNOWN_ID, "nope", "ses_01m8a97z54byzvm9agg9cemc09"):
        base = f"/api/mcp/servers/{unknown}"
        for method, url in (
            ("GET", base),
            ("PATCH", base),
            ("DELETE", base),
            ("GET", f"{base}/status"),
            ("POST", f"{base}/restart"),
        ):
            response = await client.request(method, url, json={} if method == "PATCH" else None)
            assert response.status_code == 404, (method, url, response.text)
            assert error_code(response) == "MCP_SERVER_NOT_FOUND"
    bad_cursor = await client.get("/api/mcp/servers", params={"after": "nope"})
    assert bad_cursor.status_code == 400


async def test_lists_come_in_pages(client: Client) -> None:
    made = [await create(client, stdio_body(name=f"s{n}")) for n in range(3)]
    page = (await client.get("/api/mcp/servers", params={"limit": 2})).json()
    assert [s["id"] for s in page["data"]] == [m["id"] for m in made[:2]]
    assert page["has_more"] is True and page["next_cursor"] == made[1]["id"]
    rest = await client.get("/api/mcp/servers", params={"after": page["next_cursor"]})
    assert [s["id"] for s in rest.json()["data"]] == [made[2]["id"]]
    assert rest.json()["has_more"] is False


async def test_everyone_may_look_but_only_admins_change_servers(settings: Settings) -> None:
    async with admin_team(settings) as team:
        member = await team.member("bob@example.com")
        made = await team.call("POST", "/api/mcp/servers", json=stdio_body())
        assert made.status_code == 201, made.text
        url = f"/api/mcp/servers/{made.json()['id']}"
        for method, path, body in (
            ("POST", "/api/mcp/servers", stdio_body(name="mine")),
            ("PATCH", url, {"enabled": False}),
            ("DELETE", url, None),
            ("POST", f"{url}/restart", None),
        ):
            refused = await team.client.request(method, path, json=body, headers=member.headers)
            assert refused.status_code == 403, (method, path, refused.text)
            assert error_code(refused) == "FORBIDDEN"
            anonymous = await team.client.request(method, path, json=body)
            assert anonymous.status_code == 401 and error_code(anonymous) == "UNAUTHORIZED"
        listed = await team.client.get("/api/mcp/servers", headers=member.headers)
        assert [s["name"] for s in listed.json()["data"]] == ["files"]
        # Members see what a server is, not how it is reached: arguments and URLs often
        # carry credentials.
        seen = listed.json()["data"][0]
        assert seen["env"] == {} and seen["args"] == [] and seen["command"] is None
        assert (await team.call("GET", url)).json()["env"] == {"API_KEY": "...XYZW"}
        status = await team.client.get(f"{url}/status", headers=member.headers)
        assert status.status_code == 200 and status.json()["state"] == "stopped"
        assert (await team.call("GET", url)).json()["enabled"] is True
