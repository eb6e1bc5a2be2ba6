"""``run_command`` inside bubblewrap: the project is writable, the rest of the system is
not, Roost's home and other projects are out of sight, and there is no network unless
the server allows it. CI installs bubblewrap; without a working one these fail."""

import asyncio
import shutil
import tempfile
from collections.abc import AsyncIterator, Iterator
from pathlib import Path
from typing import Any

import pytest

from roost.config import Settings
from roost.engine.tools.command import command_tool
from roost.engine.tools.command_sandbox import find_bubblewrap
from roost.engine.tools.policy import SandboxPolicy
from roost.engine.tools.registry import ToolContext, ToolRegistry


@pytest.fixture
def place() -> Iterator[Path]:
    """A folder outside /tmp, which the sandbox hides anyway: here only what Roost hides
    on purpose is out of sight."""
    folder = Path(tempfile.mkdtemp(prefix="roost-sandbox-test-", dir="/var/tmp")).resolve()
    yield folder
    shutil.rmtree(folder)


@pytest.fixture
def home(place: Path) -> Path:
    home = place / "home"
    home.mkdir()
    (home / "jwt.key").write_text("the-signing-key")
    return home


@pytest.fixture
def location(place: Path) -> Path:
    location = place / "projects"
    (location / "mine").mkdir(parents=True)
    (location / "theirs").mkdir()
    (location / "theirs" / "notes.txt").write_text("their notes")
    return location


def registry(home: Path, location: Path, **settings: Any) -> ToolRegistry:
    async def locations() -> list[Path]:
        return [location]

    assert find_bubblewrap("bwrap") is not None, "bubblewrap must be installed and working"
    chosen = Settings(home=home, run_command_enabled=True, project_locations=[location], **settings)
    tools = ToolRegistry()
    tools.register(command_tool(chosen, locations))
    return tools


async def run(
    tools: ToolRegistry, location: Path, command: str, policy: SandboxPolicy | None = None
) -> str:
    context = ToolContext(
        "ses_x",
        "turn_x",
        "usr_x",
        working_directory=str(location / "mine"),
        policy=policy or SandboxPolicy(),
    )
    outcome = await tools.execute("run_command", {"command": command}, context)
    assert outcome.success, outcome.error
    return str(outcome.result)


async def test_an_ordinary_user_may_run_sandboxed_commands(home: Path, location: Path) -> None:
    tools = registry(home, location)
    assert not tools.tools["run_command"].admin_only
    assert "sandbox" in tools.tools["run_command"].description
    assert await run(tools, location, "echo hi") == "hi\n[exit code 0]"


async def test_roosts_home_and_other_projects_are_out_of_sight(home: Path, location: Path) -> None:
    tools = registry(home, location)
    for path in (home / "jwt.key", location / "theirs" / "notes.txt"):
        result = await run(tools, location, f"cat {path}")
        assert "No such file or directory" in result and result.endswith("[exit code 1]")
    listed = await run(tools, location, f"ls -a {home} {location}")
    assert "jwt.key" not in listed and "theirs" not in listed


async def test_only_the_project_is_writable(home: Path, location: Path, place: Path) -> None:
    tools = registry(home, location)
    for path in (place / "escaped", location / "escaped", "/etc/escaped", "/var/tmp/escaped"):
        result = await run(tools, location, f"touch {path}")
        assert "Read-only file system" in result and result.endswith("[exit code 1]"), result
        assert not await asyncio.to_thread(Path(path).exists)
    result = await run(tools, location, "mkdir -p deep/er && echo made > deep/er/file")
    assert result == "[exit code 0]"
    scratch = f"/tmp/roost-scratch-{place.name}"
    assert await run(tools, location, f"echo x > {scratch} && cat {scratch}") == "x\n[exit code 0]"
    assert not await asyncio.to_thread(Path(scratch).exists)  # its /tmp was its own
    assert (location / "mine" / "deep" / "er" / "file").read_text() == "made\n"


async def test_the_config_file_is_hidden_even_inside_the_project(
    home: Path, location: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    config = location / "mine" / "roost.toml"
    config.write_text('openai_api_key = "sk-secret"\n')
    monkeypatch.setenv("ROOST_CONFIG", str(config))
    result = await run(registry(home, location), location, "cat roost.toml")
    assert "sk-secret" not in result


@pytest.fixture
async def listener() -> AsyncIterator[int]:
    """A loopback port of the host that accepts connections."""
    server = await asyncio.start_server(lambda _r, w: w.close(), "127.0.0.1", 0)
    port = int(server.sockets[0].getsockname()[1])
    async with server:
        yield port


def connecting(port: int) -> str:
    return f"bash -c 'echo > /dev/tcp/127.0.0.1/{port} && echo reached'"


async def test_there_is_no_network_by_default(home: Path, location: Path, listener: int) -> None:
    result = await run(registry(home, location), location, connecting(listener))
    assert "reached" not in result and "Connection refused" in result


async def test_the_network_is_there_when_the_server_and_project_allow_it(
    home: Path, location: Path, listener: int
) -> None:
    tools = registry(home, location, run_command_network=True)
    assert "reached" in await run(tools, location, connecting(listener))
    closed = await run(tools, location, connecting(listener), SandboxPolicy(allow_network=False))
    assert "reached" not in closed


def running(marker: str) -> bool:
    for cmdline in Path("/proc").glob("[0-9]*/cmdline"):
        try:
            if marker in cmdline.read_text():
                return True
        except OSError:
            continue
    return False


async def test_nothing_outlives_the_call_not_even_a_new_session(home: Path, location: Path) -> None:
    result = await run(registry(home, location), location, "setsid sleep 31415 & echo started")
    assert result == "started\n[exit code 0]"
    for _ in range(100):
        if not await asyncio.to_thread(running, "31415"):
            break
        await asyncio.sleep(0.03)
    assert not await asyncio.to_thread(running, "31415")


def test_a_missing_bubblewrap_is_no_sandbox() -> None:
    assert find_bubblewrap("/nonexistent/bwrap") is None
    assert find_bubblewrap("bwrap") is not None
