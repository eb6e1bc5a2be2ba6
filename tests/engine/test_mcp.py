"""MCP servers' tools in the registry, against the real test server over stdio and HTTP."""

import asyncio
import re
import time
from collections.abc import AsyncIterator, Callable, Iterator
from pathlib import Path

import pytest
from mcp import types

from roost.engine.tools.mcp import McpServerConfig, result_text
from roost.engine.tools.mcp_source import McpServers, tool_name
from roost.engine.tools.plan import UPDATE_PLAN
from roost.engine.tools.registry import ToolContext, ToolRegistry
from tests.support.live import free_port
from tests.support.mcp_fixtures import ARGS, COMMAND, alive, http_mcp_server

CONTEXT = ToolContext(session_id="", turn_id="", owner_id="")
MODEL_SAFE = re.compile(r"^[a-zA-Z0-9_-]{1,64}$")


def stdio(
    name: str = "t", env: dict[str, str] | None = None, requires_approval: bool = False
) -> McpServerConfig:
    return McpServerConfig(
        id=f"mcp_{name}",
        name=name,
        transport="stdio",
        command=COMMAND,
        args=tuple(ARGS),
        env=env or {},
        requires_approval=requires_approval,
    )


class Setup:
    def __init__(self, tmp_path: Path) -> None:
        self.configs: list[McpServerConfig] = []
        self.tmp_path = tmp_path
        self.servers: McpServers | None = None

    def make(
        self, *configs: McpServerConfig, timeout: float = 5, start_timeout: float = 10
    ) -> tuple[McpServers, ToolRegistry]:
        """Servers whose calls end at ``timeout``; starting one (a Python process) may
        take longer on a busy machine, as it may in Roost (at least 10 s)."""
        self.configs[:] = configs

        async def load() -> list[McpServerConfig]:
            return list(self.configs)

        self.servers = McpServers(
            load,
            timeout=timeout,
            start_timeout=start_timeout,
            output_cap=10_000,
            log_dir=self.tmp_path,
        )
        registry = ToolRegistry()
        registry.register(UPDATE_PLAN)
        registry.add_source(self.servers)
        return self.servers, registry


@pytest.fixture
async def setup(tmp_path: Path) -> AsyncIterator[Setup]:
    made = Setup(tmp_path)
    yield made
    if made.servers is not None:
        await made.servers.aclose()


@pytest.fixture(scope="module")
def http_url() -> Iterator[str]:
    with http_mcp_server() as url:
        yield url


def test_tool_names_fit_what_model_apis_accept() -> None:
    assert tool_name("files", "read_file") == "files__read_file"
    odd = [tool_name("srv", "a.b"), tool_name("srv", "a_b"), tool_name("srv", "a b")]
    assert odd[1] == "srv__a_b" and len(set(odd)) == 3
    long = [tool_name("s" * 40, "x" * 60 + suffix) for suffix in ("1", "2")]
    assert long[0] != long[1]
    assert all(MODEL_SAFE.match(name) for name in [*odd, *long, tool_name("s", "ünïcode/é")])


def test_results_join_text_and_name_other_parts() -> None:
    result = types.CallToolResult(
        content=[
            types.TextContent(type="text", text="first"),
            types.ImageContent(type="image", data="AAAA", mime_type="image/png"),
            types.EmbeddedResource(
                type="resource",
                resource=types.TextResourceContents(uri="file:///a.txt", text="inside"),
            ),
        ]
    )
    assert result_text(result) == "first\n[image image/png, 3 bytes, not shown]\ninside"
    structured = types.CallToolResult(content=[], structured_content={"n": 1})
    assert result_text(structured) == '{"n":1}'


async def test_a_stdio_server_starts_on_first_use_and_its_tools_run(setup: Setup) -> None:
    servers, registry = setup.make(stdio(env={"TOKEN": "s3cret"}, requires_approval=True))
    assert servers.status("mcp_t").state == "stopped"
    assert registry.get("t__echo") is None  # nothing listed yet, and nothing started
    in_a_turn = ToolContext(session_id="ses_1", turn_id="turn_1", owner_id="usr_1")
    unlisted = await registry.execute("t__echo", {"text": "x"}, in_a_turn)
    assert unlisted.error == "Unknown tool 't__echo'" and servers.status("mcp_t").pid is None
    tools = {t.name: t for t in await registry.available()}
    status = servers.status("mcp_t")
    assert status.state == "running" and status.tool_count == len(tools) - 1
    assert status.pid is not None and alive(status.pid)
    echo = tools["t__echo"]
    assert echo.source == "mcp:t" and echo.requires_approval is True
    assert echo.input_schema["properties"]["text"]["type"] == "string"
    known = registry.get("t__echo")
    assert "update_plan" in tools and known is not None and known.source == "mcp:t"
    specs = await registry.available_specs(["t__add", "update_plan", "missing"])
    assert [s.name for s in specs] == ["t__add", "update_plan"]

    added = await registry.execute("t__add", {"a": 2, "b": 40}, in_a_turn)
    assert added.success and added.result == "42"
    assert (await registry.execute("t__secret", {"name": "TOKEN"}, CONTEXT)).result == "s3cret"
    failed = await registry.execute("t__fail", {"reason": "no luck"}, CONTEXT)
    assert not failed.success and "no luck" in (failed.error or "")
    picture = await registry.execute("t__picture", {}, CONTEXT)
    assert picture.result == "a red dot\n[image image/png, 8 bytes, not shown]"
    unknown = await registry.execute("t__nothing", {}, CONTEXT)
    assert not unknown.success and unknown.error == "Unknown tool 't__nothing'"

    await servers.aclose()
    assert not alive(status.pid)


async def test_a_crash_is_a_clear_error_and_the_next_call_restarts_it(setup: Setup) -> None:
    servers, registry = setup.make(stdio())
    assert (await registry.execute("t__echo", {"text": "one"}, CONTEXT)).success
    first = servers.status("mcp_t").pid
    crashed = await registry.execute("t__crash", {}, CONTEXT)
    assert not crashed.success and "closed the connection" in (crashed.error or "")
    status = servers.status("mcp_t")
    assert status.state == "failed"
    assert status.last_error == "the server closed the connection; see mcp/t.log in Roost's home"
    again = await registry.execute("t__echo", {"text": "two"}, CONTEXT)
    assert again.success and again.result == "two"
    restarted = servers.status("mcp_t")
    assert restarted.state == "running" and restarted.pid not in (None, first)


async def test_a_hung_call_ends_at_the_time_limit_and_the_server_stays(setup: Setup) -> None:
    servers, registry = setup.make(stdio(), timeout=1)
    await registry.available()
    # The 30 s call must end at the 1 s limit: waiting 10 s for it tells the two apart.
    slow = await asyncio.wait_for(registry.execute("t__slow", {"seconds": 30}, CONTEXT), 10)
    assert not slow.success and slow.error == "Tool t__slow timed out after 1 s"
    assert (await registry.execute("t__echo", {"text": "still"}, CONTEXT)).result == "still"
    assert servers.status("mcp_t").state == "running"


async def test_a_server_that_never_answers_does_not_hold_up_a_listing(setup: Setup) -> None:
    mute = McpServerConfig(
        id="mcp_mute",
        name="mute",
        transport="stdio",
        command=COMMAND,
        args=("-c", "import time; time.sleep(60)"),
    )
    servers, registry = setup.make(mute, timeout=1, start_timeout=1)
    # Listing gives up on the mute server after its 1 s limit, not after its 60 s sleep.
    listed = await asyncio.wait_for(registry.available(), 10)
    assert [t.name for t in listed] == ["update_plan"]
    await until(lambda: servers.status("mcp_mute").state == "failed")
    status = servers.status("mcp_mute")
    assert (status.last_error or "").startswith("the server did not answer within 1 s")
    await until(lambda: not _children_running("time.sleep(60)"))  # the process was ended


async def test_a_command_that_cannot_start_fails_fast_and_rests(setup: Setup) -> None:
    broken = McpServerConfig(
        id="mcp_b",
        name="b",
        transport="stdio",
        command="/nonexistent/s3cr3t-value",
        env={"TOKEN": "s3cr3t-value"},
    )
    servers, registry = setup.make(broken, stdio())
    names = [t.name for t in await asyncio.wait_for(registry.available(), 10)]  # no retry loop
    assert "t__echo" in names and not any(n.startswith("b__") for n in names)
    status = servers.status("mcp_b")
    assert status.state == "failed" and "FileNotFoundError" in (status.last_error or "")
    assert "/nonexistent/***" in (status.last_error or "")  # secrets never shown
    call = await registry.execute("b__anything", {}, CONTEXT)
    assert not call.success and "FileNotFoundError" in (call.error or "")
    resting = await registry.execute("b__anything", {}, CONTEXT)
    assert not resting.success and "tries it again in 1 s" in (resting.error or "")


async def test_tools_follow_the_configured_servers(setup: Setup) -> None:
    servers, registry = setup.make(stdio("one"), stdio("two"))
    names = {t.name for t in await registry.available()}
    assert {"one__echo", "two__echo"} <= names
    pid = servers.status("mcp_two").pid
    assert pid is not None
    setup.configs[:] = [stdio("one")]
    names = {t.name for t in await registry.available()}
    assert "one__echo" in names and "two__echo" not in names
    assert servers.status("mcp_two").state == "stopped" and not alive(pid)
    assert not (await registry.execute("two__echo", {"text": "x"}, CONTEXT)).success


async def test_streamable_http_servers_get_their_headers(setup: Setup, http_url: str) -> None:
    remote = McpServerConfig(
        id="mcp_web", name="web", transport="http", url=http_url, headers={"X-Token": "abc123"}
    )
    servers, registry = setup.make(remote)
    added = await registry.execute("web__add", {"a": 1, "b": 2}, CONTEXT)
    assert added.success and added.result == "3"
    header = await registry.execute("web__header", {"name": "X-Token"}, CONTEXT)
    assert header.result == "abc123"
    status = servers.status("mcp_web")
    assert status.state == "running" and status.pid is None


async def test_an_http_server_that_is_not_there_fails_fast(setup: Setup) -> None:
    url = f"http://127.0.0.1:{free_port()}/mcp"
    servers, registry = setup.make(
        McpServerConfig(id="mcp_gone", name="gone", transport="http", url=url)
    )
    listed = await asyncio.wait_for(registry.available(), 10)  # no waiting on a refusal
    assert [t.name for t in listed] == ["update_plan"]
    call = await registry.execute("gone__echo", {"text": "x"}, CONTEXT)
    assert not call.success and "gone" in (call.error or "")
    assert servers.status("mcp_gone").state == "failed"


async def until(condition: Callable[[], bool], seconds: float = 8) -> None:
    deadline = time.monotonic() + seconds
    while not condition():
        assert time.monotonic() < deadline, "it never happened"
        await asyncio.sleep(0.05)


def _children_running(*words: str) -> list[int]:
    """Processes whose command line has all of ``words``."""
    found = []
    for cmdline in Path("/proc").glob("[0-9]*/cmdline"):
        try:
            text = cmdline.read_bytes().replace(b"\0", b" ").decode(errors="replace")
        except OSError:
            continue
        if all(word in text for word in words):
            found.append(int(cmdline.parent.name))
    return found
