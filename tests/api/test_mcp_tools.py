"""MCP servers at work through the API: started on first use, their tools listed and run
over stdio and streamable HTTP, restarted after a crash, stopped when disabled, deleted
or shut down. Each test starts real server processes (tests/support/mcp_server.py)."""

import shutil
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import httpx
import pytest

from roost.config import Settings
from tests.support.apps import running
from tests.support.mcp_fixtures import ARGS, COMMAND, alive, http_mcp_server

Client = httpx.AsyncClient


@pytest.fixture
def database_url(tmp_path: Path, sqlite_template: Path) -> str:
    """SQLite only: how a server process runs owes nothing to the database, and the
    configuration's storage is tested on both in test_mcp_servers.py."""
    path = tmp_path / "roost.db"
    shutil.copy(sqlite_template, path)
    return f"sqlite+aiosqlite:///{path}"


@pytest.fixture(scope="module")
def http_url() -> Iterator[str]:
    with http_mcp_server() as url:
        yield url


async def add_stdio(client: Client, name: str = "local", **extra: Any) -> dict[str, Any]:
    body = {"name": name, "transport": "stdio", "command": COMMAND, "args": ARGS, **extra}
    response = await client.post("/api/mcp/servers", json=body)
    assert response.status_code == 201, response.text
    return dict(response.json())


async def status_of(client: Client, server: dict[str, Any]) -> dict[str, Any]:
    response = await client.get(f"/api/mcp/servers/{server['id']}/status")
    assert response.status_code == 200, response.text
    return dict(response.json())


async def run(client: Client, tool: str, /, **args: Any) -> dict[str, Any]:
    response = await client.post("/api/tools/execute", json={"name": tool, "args": args})
    assert response.status_code == 200, response.text
    return dict(response.json())


async def tools_by_name(client: Client) -> dict[str, dict[str, Any]]:
    return {t["name"]: t for t in (await client.get("/api/tools")).json()["tools"]}


async def test_a_stdio_servers_tools_are_listed_and_run(client: Client) -> None:
    server = await add_stdio(client, env={"TOKEN": "t0ps3cret"}, requires_approval=True)
    assert (await status_of(client, server))["state"] == "stopped"  # not before first use

    tools = await tools_by_name(client)
    echo = tools["local__echo"]
    assert echo["source"] == "mcp:local" and echo["requires_approval"] is True
    assert echo["input_schema"]["required"] == ["text"] and echo["description"]
    assert tools["update_plan"]["source"] == "builtin"
    status = await status_of(client, server)
    assert status["state"] == "running" and status["tool_count"] == 8
    assert status["pid"] is not None and alive(status["pid"]) and status["started_at"]

    echoed = await run(client, "local__echo", text="hello")
    assert echoed["success"] is True and echoed["result"] == "hello" and echoed["error"] is None
    assert (await run(client, "local__secret", name="TOKEN"))["result"] == "t0ps3cret"
    failed = await run(client, "local__fail", reason="bad day")
    assert failed["success"] is False and "bad day" in failed["error"]


async def test_a_streamable_http_servers_tools_run(client: Client, http_url: str) -> None:
    body = {
        "name": "web",
        "transport": "http",
        "url": http_url,
        "headers": {"X-Token": "h3ader-secret-value"},
    }
    server = (await client.post("/api/mcp/servers", json=body)).json()
    assert (await run(client, "web__add", a=20, b=22))["result"] == "42"
    assert (await run(client, "web__header", name="x-token"))["result"] == "h3ader-secret-value"
    assert (await tools_by_name(client))["web__echo"]["source"] == "mcp:web"
    status = await status_of(client, server)
    assert status["state"] == "running" and status["pid"] is None


async def test_a_crash_is_a_clear_error_and_the_next_call_works(client: Client) -> None:
    server = await add_stdio(client)
    assert (await run(client, "local__echo", text="one"))["success"] is True
    first_pid = (await status_of(client, server))["pid"]
    crashed = await run(client, "local__crash")
    assert crashed["success"] is False
    assert crashed["error"].startswith("MCP server local closed the connection during the call")
    status = await status_of(client, server)
    assert status["state"] == "failed" and "closed the connection" in status["last_error"]
    assert (await run(client, "local__echo", text="two"))["result"] == "two"
    status = await status_of(client, server)
    assert status["state"] == "running" and status["pid"] != first_pid


async def test_a_server_may_take_longer_to_start_than_a_call_may_run(settings: Settings) -> None:
    async with running(settings, tool_timeout_seconds=1) as (_app, client):
        server = await add_stdio(client, env={"START_DELAY": "1.5"})
        assert (await run(client, "local__echo", text="late"))["result"] == "late"
        assert (await status_of(client, server))["state"] == "running"


async def test_a_hung_tool_times_out(settings: Settings) -> None:
    async with running(settings, tool_timeout_seconds=1) as (_app, client):
        await add_stdio(client)
        hung = await run(client, "local__slow", seconds=30)
        assert hung["success"] is False
        assert hung["error"] == "Tool local__slow timed out after 1 s"
        assert (await run(client, "local__echo", text="after"))["result"] == "after"


async def test_a_disabled_servers_tools_disappear_and_its_process_ends(client: Client) -> None:
    server = await add_stdio(client)
    assert "local__echo" in await tools_by_name(client)
    pid = (await status_of(client, server))["pid"]
    url = f"/api/mcp/servers/{server['id']}"
    off = await client.patch(url, json={"enabled": False})
    assert off.json()["status"]["state"] == "stopped" and not alive(pid)
    assert not any(name.startswith("local__") for name in await tools_by_name(client))
    refused = await run(client, "local__echo", text="x")
    assert refused["success"] is False and refused["error"] == "Unknown tool 'local__echo'"
    restart = await client.post(f"{url}/restart")
    assert restart.status_code == 400
    await client.patch(url, json={"enabled": True})
    assert (await run(client, "local__echo", text="back"))["result"] == "back"


async def test_restarting_starts_a_new_process_now(client: Client) -> None:
    server = await add_stdio(client)
    url = f"/api/mcp/servers/{server['id']}"
    started = await client.post(f"{url}/restart")
    assert started.status_code == 200 and started.json()["state"] == "running"
    first = started.json()["pid"]
    again = (await client.post(f"{url}/restart")).json()
    assert again["state"] == "running" and again["pid"] != first and alive(again["pid"])
    assert not alive(first)


async def test_a_server_that_fails_to_start_says_why(client: Client) -> None:
    server = await add_stdio(client, name="broken", args=[str(Path(ARGS[0]).parent / "nope.py")])
    status = (await client.post(f"/api/mcp/servers/{server['id']}/restart")).json()
    assert status["state"] == "failed" and status["pid"] is None
    assert "see mcp/broken.log in Roost's home" in status["last_error"]
    assert (await client.get("/api/tools")).status_code == 200


async def test_deleting_a_server_stops_its_process(client: Client) -> None:
    server = await add_stdio(client)
    await tools_by_name(client)
    pid = (await status_of(client, server))["pid"]
    assert alive(pid)
    assert (await client.delete(f"/api/mcp/servers/{server['id']}")).status_code == 204
    assert not alive(pid)
    assert "local__echo" not in await tools_by_name(client)


async def test_shutting_down_stops_every_server_process(settings: Settings) -> None:
    async with running(settings) as (_app, client):
        servers = [await add_stdio(client, name=name) for name in ("one", "two")]
        await tools_by_name(client)
        pids = [(await status_of(client, s))["pid"] for s in servers]
        assert all(pid is not None and alive(pid) for pid in pids)
    assert not any(alive(pid) for pid in pids)
