"""``run_command``: one command in the project folder, with a time limit, an output cap
and a scrubbed environment; nothing it starts outlives the call.

Where bubblewrap works (:mod:`command_sandbox`), the command runs inside it: it can
write the project and nothing else of the system, cannot see Roost's home, database,
keys or other projects, and has no network unless the server allows it. Where it does
not, the command runs as the server's user and can read whatever that user can: then
only admins may use the tool. Either way the working directory starts inside the
project, the server's environment (keys, tokens, ``ROOST_*``) is not passed on, and
everything the command started is killed when the call ends, times out or is cancelled
(outside the sandbox, a process that starts a session of its own leaves the group that
is killed; inside, its whole process namespace ends with the call).
"""

import asyncio
import os
import shlex
import shutil
import signal
import tempfile
from collections.abc import Awaitable, Callable, Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from sqlalchemy.engine import make_url

from roost.config import Settings, config_file
from roost.engine.tools.command_sandbox import Bubblewrap, Confinement, find_bubblewrap
from roost.engine.tools.registry import Tool, ToolContext, ToolError
from roost.engine.tools.sandbox import Sandbox

KILL_GRACE_SECONDS = 1.0  # between SIGTERM and SIGKILL of the process group
LEFTOVER_GRACE_SECONDS = 0.1  # the same, for what a finished command left running
DRAIN_SECONDS = 1.0  # to read what is left in the pipe once the group is gone
READ_CHUNK_BYTES = 64 * 1024
NOTE_ROOM_BYTES = 1024  # the status lines after the output, never cut by the registry
DEFAULT_PATH = "/usr/local/bin:/usr/bin:/bin"
PASSED_VARIABLES = ("PATH", "LANG", "TZ", "TERM")
# Without a shell these would reach the program as plain arguments, which is never
# what a command written with them means.
SHELL_METACHARACTERS = frozenset("|&;<>()$`*?\n\r")
KEY_FILES = ("jwt.key", "secret.key")  # in the home; see services.tokens and crypto

# The folders of every project location, for the sandbox to hide (all but the project
# the command runs in, which it shows again).
Locations = Callable[[], Awaitable[list[Path]]]


async def _no_locations() -> list[Path]:
    return []


def _schema(limit: float) -> dict[str, Any]:
    return {
        "type": "object",
        "properties": {
            "command": {"type": "string", "description": "The command line to run"},
            "cwd": {
                "type": "string",
                "description": "Folder to run in, relative to the project root (default: the root)",
            },
            "timeout_seconds": {
                "type": "number",
                "exclusiveMinimum": 0,
                "maximum": limit,
                "description": f"Time limit in seconds (at most {limit:g})",
            },
        },
        "required": ["command"],
        "additionalProperties": False,
    }


def scrubbed_environment(source: Mapping[str, str], home: Path, cwd: Path) -> dict[str, str]:
    """A few harmless variables of ``source``, never its secrets. HOME is an empty folder
    of the call's own: in the project, where the agent writes, a ``.gitconfig`` or the like
    would make an allowed program run whatever the agent put there."""
    kept = {
        name: value
        for name, value in source.items()
        if name in PASSED_VARIABLES or name.startswith("LC_")
    }
    # Relative PATH entries would resolve inside the project, where the agent writes.
    entries = [entry for entry in kept.get("PATH", "").split(os.pathsep) if os.path.isabs(entry)]
    kept["PATH"] = os.pathsep.join(entries) or DEFAULT_PATH
    kept["HOME"] = str(home)
    kept["PWD"] = str(cwd)
    kept["GIT_CONFIG_NOSYSTEM"] = "1"
    return kept


def active_metacharacters(command: str) -> list[str]:
    """Shell metacharacters a shell would act on (not quoted or escaped), first seen first."""
    found: list[str] = []
    quote: str | None = None
    escaped = False
    for character in command:
        if escaped:
            escaped = False
        elif quote is not None:
            if character == quote:
                quote = None
            elif quote == '"' and character == "\\":
                escaped = True
            elif quote == '"' and character in "$`" and character not in found:
                found.append(character)  # a shell expands these inside double quotes
        elif character == "\\":
            escaped = True
        elif character in "'\"":
            quote = character
        elif character in SHELL_METACHARACTERS and character not in found:
            found.append(character)
    return found


def allowed_argv(command: str, allowed: list[str], path: str) -> list[str]:
    """``command`` split into arguments, its program checked against the allow-list.

    The program is run by the absolute path found on ``path``, so a file of the same
    name in the project (``./git``) cannot stand in for an allowed one.
    """
    odd = active_metacharacters(command)
    if odd:
        shown = " ".join(repr(c) for c in odd)
        raise ToolError(
            f"Commands run without a shell here, so pipes, redirections, ;, &&, $(…), "
            f"backticks and wildcards do not work (found {shown}). Run one program with "
            "its arguments, and quote arguments that contain these characters."
        )
    try:
        argv = shlex.split(command)
    except ValueError as error:
        raise ToolError(f"The command cannot be parsed: {error}") from error
    if not argv:
        raise ToolError("The command is empty")
    program = os.path.basename(argv[0])
    if program not in allowed:
        raise ToolError(f"{program!r} is not an allowed program; allowed: {', '.join(allowed)}")
    found = shutil.which(program, path=path)
    if found is None:
        raise ToolError(f"{program!r} is not installed on this server")
    if argv[0] != program and Path(argv[0]).resolve() != Path(found).resolve():
        raise ToolError(f"Name the program as {program!r}, not by a path to another file")
    return [found, *argv[1:]]


@dataclass
class CappedOutput:
    """What a stream said: the first ``cap`` bytes kept, the rest only counted."""

    cap: int
    kept: bytearray
    total: int = 0

    async def read_from(self, stream: asyncio.StreamReader) -> None:
        while chunk := await stream.read(READ_CHUNK_BYTES):
            self.total += len(chunk)
            room = self.cap - len(self.kept)
            if room > 0:
                self.kept += chunk[:room]

    def text(self) -> str:
        """The kept bytes as text, still within the cap once undecodable bytes are marked."""
        text = self.kept.decode("utf-8", errors="replace")
        encoded = text.encode()
        return text if len(encoded) <= self.cap else encoded[: self.cap].decode(errors="ignore")


def _signal_group(group: int, signal_number: int) -> bool:
    """Whether any process of ``group`` was there to receive the signal."""
    try:
        os.killpg(group, signal_number)
    except ProcessLookupError:
        return False
    except PermissionError:  # the id now belongs to someone else's group: ours is gone
        return False
    return True


async def leader_exited(process: asyncio.subprocess.Process, seconds: float) -> bool:
    """Whether the process itself ends within ``seconds``.

    Polled, because ``Process.wait()`` also waits for its pipes to close, which a
    child left running in the background can put off for as long as it lives.
    """
    loop = asyncio.get_running_loop()
    deadline = loop.time() + seconds
    pause = 0.005
    while process.returncode is None:
        left = deadline - loop.time()
        if left <= 0:
            return False
        await asyncio.sleep(min(pause, left))
        pause = min(pause * 2, 0.05)
    return True


async def end_process_group(process: asyncio.subprocess.Process) -> None:
    """SIGTERM to every process of its group; SIGKILL to all of it once the leader is
    gone or after a grace.

    SIGKILL is sent even when the wait is itself cancelled, so a cancelled call leaves
    nothing behind. The leader is waited for rather than the whole group, because
    orphans that have exited stay in the group as zombies until their new parent reaps
    them, and some init processes take their time.
    """
    group = process.pid  # start_new_session: the leader's id is the group's
    if not _signal_group(group, signal.SIGTERM):
        return
    try:
        if process.returncode is None:
            await leader_exited(process, KILL_GRACE_SECONDS)
        else:  # the command ended on its own and left something running
            await asyncio.sleep(LEFTOVER_GRACE_SECONDS)
    finally:
        _signal_group(group, signal.SIGKILL)
    await leader_exited(process, KILL_GRACE_SECONDS)  # collected while this loop runs


def _folder(context: ToolContext, settings: Settings, args: dict[str, Any]) -> Path:
    """The folder to run in, inside the project, or the reason the call is refused."""
    if not settings.run_command_enabled:
        raise ToolError("run_command is disabled on this server (ROOST_RUN_COMMAND_ENABLED)")
    if context.working_directory is None:
        raise ToolError("This session has no project: run_command runs inside a project's folder")
    if not context.policy.allow_commands:
        raise ToolError("The project's sandbox policy does not allow commands")
    if context.policy.read_only:
        raise ToolError("The project is read-only, and a command could change it")
    sandbox = Sandbox.of(context)
    given = args.get("cwd", ".")
    if not isinstance(given, str):
        raise ToolError("cwd must be a string")
    folder = sandbox.path(given, must_exist=True)
    if not folder.is_dir():
        raise ToolError(f"{sandbox.relative(folder)} is not a directory")
    return folder


def _time_limit(args: dict[str, Any], limit: float) -> float:
    given = args.get("timeout_seconds", limit)
    if not isinstance(given, int | float) or isinstance(given, bool) or not 0 < given <= limit:
        raise ToolError(f"timeout_seconds must be a number above 0 and at most {limit:g}")
    return float(given)


def _report(output: CappedOutput, exit_code: int | None, timed_out_after: float | None) -> str:
    """The output, then what became of it and of the command, for the model to read."""
    lines = [output.text().rstrip("\n")] if output.kept else []
    if output.total > len(output.kept):
        lines.append(
            f"[output truncated: {output.total} bytes, showing the first {len(output.kept)}]"
        )
    if timed_out_after is not None:
        lines.append(f"[timed out after {timed_out_after:g} s; process killed]")
    elif exit_code is not None and exit_code < 0:
        lines.append(f"[killed by signal {_signal_name(-exit_code)}]")
    else:
        lines.append(f"[exit code {exit_code}]")
    return "\n".join(lines)


def _signal_name(number: int) -> str:
    try:
        return signal.Signals(number).name
    except ValueError:
        return str(number)


def server_paths(settings: Settings) -> list[Path]:
    """Where Roost keeps what no command may read: its home, database, keys and config."""
    paths = [settings.home, *(settings.home / name for name in KEY_FILES), config_file()]
    url = make_url(settings.effective_database_url)
    if url.get_backend_name() == "sqlite" and url.database and url.database != ":memory:":
        database = Path(url.database)
        paths += [database.parent, *(Path(f"{database}{end}") for end in ("", "-wal", "-shm"))]
    return paths


async def run_command(
    argv: list[str], cwd: Path, env: dict[str, str], limit: float, cap: int
) -> str:
    """Run ``argv`` to its end."""
    common: dict[str, Any] = {
        "cwd": cwd,
        "env": env,
        "stdin": asyncio.subprocess.DEVNULL,
        "stdout": asyncio.subprocess.PIPE,
        "stderr": asyncio.subprocess.STDOUT,  # one stream, in the order it was written
        "start_new_session": True,  # its own process group, to be ended as a whole
    }
    process = await asyncio.create_subprocess_exec(*argv, **common)
    assert process.stdout is not None
    output = CappedOutput(cap, bytearray())
    reader = asyncio.create_task(output.read_from(process.stdout))
    timed_out = False
    try:
        timed_out = not await leader_exited(process, limit)
    finally:
        # After a normal end too: whatever the command left running goes with it.
        await end_process_group(process)
        if not reader.done():
            done, _ = await asyncio.wait({reader}, timeout=DRAIN_SECONDS)
            if not done:  # a process that left the group still holds the pipe open
                reader.cancel()
    return _report(output, process.returncode, limit if timed_out else None)


def command_tool(settings: Settings, locations: Locations = _no_locations) -> Tool:
    """``run_command``, refusing every call unless enabled on the server and the project;
    sandboxed by bubblewrap when it works here, else for admins only."""
    limit = settings.run_command_timeout_seconds
    cap = settings.tool_output_cap_bytes
    bubblewrap = find_bubblewrap(settings.run_command_bwrap)

    async def handler(args: dict[str, Any], context: ToolContext) -> str:
        cwd = _folder(context, settings, args)
        command = args.get("command")
        if not isinstance(command, str) or not command.strip():
            raise ToolError("command must be a non-empty string")
        if "\x00" in command:
            raise ToolError("command must not contain NUL characters")
        with tempfile.TemporaryDirectory(prefix="roost-home-") as home:
            env = scrubbed_environment(os.environ, Path(home), cwd)
            argv = (
                allowed_argv(command, settings.run_command_allow, env["PATH"])
                if settings.run_command_allow
                else ["/bin/sh", "-c", command]
            )
            if bubblewrap is not None:
                argv = await _confined(bubblewrap, argv, context, cwd, Path(home))
            return await run_command(argv, cwd, env, _time_limit(args, limit), cap)

    async def _confined(
        bubblewrap: Bubblewrap, argv: list[str], context: ToolContext, cwd: Path, home: Path
    ) -> list[str]:
        assert context.working_directory is not None  # checked by _folder
        confinement = Confinement(
            project=Path(context.working_directory),
            cwd=cwd,
            home=home,
            hidden=(*server_paths(settings), *await locations()),
            network=settings.run_command_network and context.policy.allow_network,
        )
        return await asyncio.to_thread(bubblewrap.argv, argv, confinement)  # reads the disk

    allowed = ", ".join(settings.run_command_allow)
    return Tool(
        "run_command",
        "Run a command in the project folder and return its exit code and combined "
        f"output. Time limit {limit:g} s; stdin is empty; "
        + (
            f"only these programs, without a shell: {allowed}."
            if allowed
            else "runs through /bin/sh."
        )
        + (
            " It runs in a sandbox: only the project folder and /tmp are writable"
            + ("." if settings.run_command_network else ", and there is no network.")
            if bubblewrap is not None
            else " No sandbox on this server: admins only."
        ),
        _schema(limit),
        handler,
        requires_approval="run_command" in settings.tools_requiring_approval,
        admin_only=bubblewrap is None,
        # The command's own limit fires first and reports what it printed; this one
        # only covers the kill grace and draining the pipe.
        timeout_seconds=limit + KILL_GRACE_SECONDS + DRAIN_SECONDS + 3,
        output_cap_bytes=cap + NOTE_ROOM_BYTES,
    )
