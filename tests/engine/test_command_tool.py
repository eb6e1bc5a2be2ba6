"""``run_command``: its refusals, its scrubbed environment, its limits, and that nothing
it starts outlives the call. These run it as on a server without a sandbox (for an admin);
``test_command_sandbox`` runs it inside bubblewrap."""

import asyncio
import os
import stat
import time
import tracemalloc
from pathlib import Path
from typing import Any

import pytest

from roost.config import Settings
from roost.engine.tools.command import command_tool
from roost.engine.tools.policy import SandboxPolicy
from roost.engine.tools.registry import ToolContext, ToolOutcome, ToolRegistry


@pytest.fixture
def project(tmp_path: Path) -> Path:
    root = tmp_path / "project"
    (root / "src").mkdir(parents=True)
    (tmp_path / "outside").mkdir()
    return root.resolve()


MISSING_BWRAP = "/nonexistent/bwrap"


def registry(tmp_path: Path, **settings: Any) -> ToolRegistry:
    tools = ToolRegistry()
    chosen: dict[str, Any] = {
        "run_command_enabled": True,
        "run_command_bwrap": MISSING_BWRAP,
        **settings,
    }
    tools.register(command_tool(Settings(home=tmp_path / "home", **chosen)))
    return tools


def context(
    project: Path | None, policy: SandboxPolicy | None = None, *, admin: bool = True
) -> ToolContext:
    return ToolContext(
        session_id="ses_x",
        turn_id="turn_x",
        owner_id="usr_x",
        working_directory=str(project) if project is not None else None,
        policy=policy or SandboxPolicy(),
        admin=admin,
    )


async def run(
    project: Path | None,
    args: dict[str, Any],
    policy: SandboxPolicy | None = None,
    **settings: Any,
) -> ToolOutcome:
    home = project.parent if project is not None else Path("/nonexistent")
    tools = registry(home, **settings)
    return await tools.execute("run_command", args, context(project, policy))


def gone(pid: int) -> bool:
    """No such process any more, or only its exit status waiting to be collected."""
    try:
        state = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()[0]
    except (FileNotFoundError, ProcessLookupError):
        return True
    return state in ("Z", "X")


async def wait_until_gone(pids: list[int], seconds: float = 3.0) -> bool:
    deadline = time.monotonic() + seconds
    while time.monotonic() < deadline:
        if all(gone(pid) for pid in pids):
            return True
        await asyncio.sleep(0.02)
    return False


def test_the_tool_asks_for_approval_and_outlasts_the_commands_own_limit(tmp_path: Path) -> None:
    tool = command_tool(Settings(home=tmp_path, run_command_timeout_seconds=7))
    assert tool.name == "run_command"
    assert tool.requires_approval is True
    assert tool.timeout_seconds is not None and tool.timeout_seconds > 7
    assert tool.input_schema["properties"]["timeout_seconds"]["maximum"] == 7
    relaxed = command_tool(Settings(home=tmp_path, tools_requiring_approval=[]))
    assert relaxed.requires_approval is False


async def test_without_a_sandbox_only_admins_may_run_commands(project: Path) -> None:
    tools = registry(project.parent)
    assert tools.tools["run_command"].admin_only
    assert "admins only" in tools.tools["run_command"].description
    assert await tools.available_specs(admin=False) == []
    command = {"command": "touch made"}
    refused = await tools.execute("run_command", command, context(project, admin=False))
    assert not refused.success and refused.error == "Only admins may use run_command on this server"
    assert not (project / "made").exists()
    ran = await tools.execute("run_command", command, context(project))
    assert ran.success and (project / "made").exists()


async def test_a_disabled_server_refuses(project: Path) -> None:
    outcome = await run(project, {"command": "echo hi"}, run_command_enabled=False)
    assert not outcome.success
    assert outcome.error is not None and "disabled" in outcome.error


async def test_a_session_without_a_project_is_refused() -> None:
    outcome = await run(None, {"command": "echo hi"})
    assert not outcome.success
    assert outcome.error is not None and "no project" in outcome.error


@pytest.mark.parametrize(
    ("policy", "reason"),
    [
        (SandboxPolicy(allow_commands=False), "does not allow commands"),
        (SandboxPolicy(read_only=True), "read-only"),
    ],
)
async def test_the_projects_policy_can_refuse(
    project: Path, policy: SandboxPolicy, reason: str
) -> None:
    outcome = await run(project, {"command": "touch made"}, policy)
    assert not outcome.success
    assert outcome.error is not None and reason in outcome.error
    assert not (project / "made").exists()


async def test_it_runs_in_the_project_or_a_folder_inside(project: Path) -> None:
    root = await run(project, {"command": "pwd"})
    assert root.success and root.result.splitlines()[0] == str(project)
    inside = await run(project, {"command": "pwd", "cwd": "src"})
    assert inside.success and inside.result.splitlines()[0] == str(project / "src")


@pytest.mark.parametrize("cwd", ["..", "src/../..", "/", "OUTSIDE", "link", "link/deeper"])
async def test_a_working_directory_outside_the_project_is_refused(project: Path, cwd: str) -> None:
    outside = project.parent / "outside"
    (outside / "deeper").mkdir()
    (project / "link").symlink_to(outside)
    given = str(outside) if cwd == "OUTSIDE" else cwd
    outcome = await run(project, {"command": "touch escaped", "cwd": given})
    assert not outcome.success
    assert outcome.error is not None and "outside the project" in outcome.error
    assert not (outside / "escaped").exists() and not (outside / "deeper" / "escaped").exists()


async def test_a_denied_folder_is_refused_as_working_directory(project: Path) -> None:
    outcome = await run(
        project, {"command": "pwd", "cwd": "src"}, SandboxPolicy(denied_paths=("src",))
    )
    assert not outcome.success
    assert outcome.error is not None and "denied" in outcome.error


async def test_a_non_zero_exit_is_a_result_with_its_code_and_both_streams(project: Path) -> None:
    outcome = await run(project, {"command": "echo out; echo err >&2; exit 3"})
    assert outcome.success
    assert outcome.result == "out\nerr\n[exit code 3]"


async def test_the_environment_holds_no_secrets_of_the_server(
    project: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("OPENAI_API_KEY", "sk-leak-openai")
    monkeypatch.setenv("ROOST_SECRET_KEY", "leak-roost")
    monkeypatch.setenv("GITHUB_TOKEN", "leak-github")
    monkeypatch.setenv("LC_ALL", "C.UTF-8")
    outcome = await run(project, {"command": "env", "cwd": "src"})
    assert outcome.success
    assert "leak" not in outcome.result
    variables = dict(line.split("=", 1) for line in outcome.result.splitlines()[:-1] if "=" in line)
    allowed = {"PATH", "LANG", "TZ", "TERM", "HOME", "PWD", "LC_ALL", "SHLVL", "_"}
    assert set(variables) <= allowed | {"GIT_CONFIG_NOSYSTEM"}
    # HOME is the call's own empty folder, gone afterwards: not the project, where the
    # agent could plant a .gitconfig for an allowed program to obey.
    assert not Path(variables["HOME"]).is_relative_to(project)
    assert not await asyncio.to_thread(os.path.exists, variables["HOME"])
    assert variables["PWD"] == str(project / "src")
    assert variables["LC_ALL"] == "C.UTF-8"


async def test_stdin_is_empty(project: Path) -> None:
    outcome = await run(project, {"command": "cat; echo done"}, run_command_timeout_seconds=5)
    assert outcome.success and outcome.result == "done\n[exit code 0]"


async def test_an_allowed_program_runs_without_a_shell(project: Path) -> None:
    command = "echo 'a|b;c' '$HOME' \"*\" x\\>y"  # all quoted or escaped: plain text
    outcome = await run(project, {"command": command}, run_command_allow=["echo"])
    assert outcome.success
    assert outcome.result == "a|b;c $HOME * x>y\n[exit code 0]"


async def test_a_program_not_on_the_allow_list_is_refused(project: Path) -> None:
    outcome = await run(project, {"command": "touch made"}, run_command_allow=["echo", "ls"])
    assert not outcome.success
    assert outcome.error is not None and "'touch' is not an allowed program" in outcome.error
    assert not (project / "made").exists()


@pytest.mark.parametrize(
    "command",
    [
        "echo hi | tee made",
        "echo hi > made",
        "echo hi; touch made",
        "echo hi && touch made",
        "echo $(touch made)",
        "echo `touch made`",
        'echo "$(touch made)"',
        "echo *",
        "echo hi\ntouch made",
    ],
)
async def test_shell_syntax_is_refused_when_there_is_no_shell(project: Path, command: str) -> None:
    outcome = await run(project, {"command": command}, run_command_allow=["echo", "tee"])
    assert not outcome.success
    assert outcome.error is not None and "without a shell" in outcome.error
    assert not (project / "made").exists()


async def test_a_file_named_like_an_allowed_program_cannot_stand_in(project: Path) -> None:
    impostor = project / "echo"
    impostor.write_text("#!/bin/sh\ntouch made\n")
    impostor.chmod(impostor.stat().st_mode | stat.S_IXUSR)
    outcome = await run(project, {"command": "./echo hi"}, run_command_allow=["echo"])
    assert not outcome.success
    assert outcome.error is not None and "not by a path" in outcome.error
    assert not (project / "made").exists()


async def test_a_time_limit_over_the_servers_is_refused(project: Path) -> None:
    outcome = await run(
        project, {"command": "true", "timeout_seconds": 60}, run_command_timeout_seconds=30
    )
    assert not outcome.success
    assert outcome.error is not None and "at most 30" in outcome.error


async def test_a_timeout_kills_the_whole_process_group(project: Path) -> None:
    # Both ignore SIGTERM, so only the SIGKILL after the grace ends them.
    command = "trap '' TERM; echo $$; sleep 30 & echo $!; wait"
    # It ends at the 0.5 s limit, not after the 30 s sleep: 10 s tells the two apart.
    outcome = await asyncio.wait_for(run(project, {"command": command, "timeout_seconds": 0.5}), 10)
    assert outcome.success
    lines = outcome.result.splitlines()
    assert lines[-1] == "[timed out after 0.5 s; process killed]"
    pids = [int(line) for line in lines[:2]]
    assert await wait_until_gone(pids)


async def test_background_processes_end_with_the_command(project: Path) -> None:
    outcome = await run(project, {"command": "sleep 30 > /dev/null & echo $!"})
    assert outcome.success and outcome.result.endswith("[exit code 0]")
    assert await wait_until_gone([int(outcome.result.splitlines()[0])])


async def test_huge_output_is_cut_while_reading(project: Path) -> None:
    tracemalloc.start()
    try:
        outcome = await run(
            project, {"command": "yes | head -c 50000000"}, tool_output_cap_bytes=4096
        )
        _, peak = tracemalloc.get_traced_memory()
    finally:
        tracemalloc.stop()
    assert outcome.success and not outcome.truncated
    assert "[output truncated: 50000000 bytes, showing the first 4096]" in outcome.result
    assert outcome.result.endswith("[exit code 0]")
    assert outcome.result.startswith("y\ny\n")
    assert len(outcome.result) < 4096 + 200
    assert peak < 5_000_000  # a tenth of what was printed


async def test_cancelling_the_call_kills_the_command(project: Path) -> None:
    tools = registry(project.parent)
    command = "echo $$ > pids; sleep 30 & echo $! >> pids; wait"
    call = asyncio.create_task(tools.execute("run_command", {"command": command}, context(project)))
    pids_file = project / "pids"
    deadline = time.monotonic() + 5
    while len(pids_file.read_text().split() if pids_file.exists() else []) < 2:
        assert time.monotonic() < deadline, "the command did not start"
        await asyncio.sleep(0.02)
    pids = [int(pid) for pid in pids_file.read_text().split()]
    call.cancel()
    with pytest.raises(asyncio.CancelledError):
        await call
    assert await wait_until_gone(pids)


async def test_without_an_allow_list_the_shell_is_available(project: Path) -> None:
    outcome = await run(project, {"command": "printf 'b\\na\\n' | sort > sorted; cat sorted"})
    assert outcome.success and outcome.result == "a\nb\n[exit code 0]"


async def test_binary_output_stays_within_the_cap_with_its_exit_code(project: Path) -> None:
    outcome = await run(
        project, {"command": "head -c 100000 /dev/urandom"}, tool_output_cap_bytes=2048
    )
    assert outcome.success and not outcome.truncated
    assert outcome.result.endswith(
        "[output truncated: 100000 bytes, showing the first 2048]\n[exit code 0]"
    )
