"""The ``terminal`` channel: a shell in a real pseudo-terminal whose working directory is
a project's folder. Opt-in (``ROOST_TERMINAL_ENABLED``) and for admins only: the shell
runs as Roost's own user, with no sandbox."""

import asyncio
import contextlib
import fcntl
import os
import pty
import shutil
import signal
import struct
import termios

from roost import ids
from roost.api.ws import frames
from roost.api.ws.connection import Connection
from roost.errors import Forbidden, InvalidRequest
from roost.wiring import Services

MAX_TERMINALS = 4  # open at once on one connection
READ_BYTES = 64 * 1024


class Terminal:
    def __init__(self, terminal_id: str, master: int, process: asyncio.subprocess.Process) -> None:
        self.id = terminal_id
        self.master = master
        self.process = process

    def write(self, data: str) -> None:
        os.write(self.master, data.encode())

    def resize(self, cols: int, rows: int) -> None:
        fcntl.ioctl(self.master, termios.TIOCSWINSZ, struct.pack("HHHH", rows, cols, 0, 0))

    def kill(self) -> None:
        if self.process.returncode is None:
            with contextlib.suppress(ProcessLookupError):
                os.killpg(self.process.pid, signal.SIGKILL)


class Terminals:
    def __init__(self, connection: Connection, services: Services) -> None:
        self.connection = connection
        self.services = services
        self.open: dict[str, Terminal] = {}

    async def handle(self, kind: str, frame: dict[str, object]) -> None:
        if not self.services.settings.terminal_enabled:
            raise InvalidRequest(
                "The terminal is off on this server (ROOST_TERMINAL_ENABLED)",
                details={"channel": "terminal"},
            )
        if not self.connection.caller.acts_as_admin:
            raise Forbidden("Only an admin may open a terminal")
        if kind == "open":
            opening = frames.checked(frames.TerminalOpen, dict(frame))
            started = await self._start(opening)
            self.connection.reply(dict(frame), terminal_id=started.id)
        elif kind in ("input", "resize", "close"):
            named = frames.checked(frames.TerminalFrame, dict(frame))
            terminal = self.open.get(named.terminal_id)
            if terminal is None:
                raise InvalidRequest(
                    f"No open terminal {named.terminal_id}",
                    details={"terminal_id": named.terminal_id},
                )
            if kind == "input":
                terminal.write(frames.checked(frames.TerminalInput, dict(frame)).data)
            elif kind == "resize":
                size = frames.checked(frames.TerminalResize, dict(frame))
                terminal.resize(size.cols, size.rows)
            else:
                terminal.kill()
            self.connection.reply(dict(frame), terminal_id=terminal.id)
        else:
            raise InvalidRequest(
                f"Unknown frame: channel 'terminal', type {kind!r}",
                details={"channel": "terminal", "type": kind},
            )

    async def _start(self, opening: "frames.TerminalOpen") -> Terminal:
        if len(self.open) >= MAX_TERMINALS:
            raise InvalidRequest(f"At most {MAX_TERMINALS} terminals are open at once")
        caller = self.connection.caller
        sandbox = await self.services.projects.sandbox_for(caller.user_id, opening.project_id)
        master, slave = pty.openpty()
        shell = shutil.which("bash") or "/bin/sh"
        environment = {
            "PATH": os.environ.get("PATH", "/usr/bin:/bin"),
            "HOME": os.environ.get("HOME", str(sandbox.root)),
            "TERM": "xterm-256color",
            "LANG": os.environ.get("LANG", "C.UTF-8"),
        }
        try:
            process = await asyncio.create_subprocess_exec(
                shell,
                stdin=slave,
                stdout=slave,
                stderr=slave,
                cwd=str(sandbox.root),
                env=environment,
                start_new_session=True,
            )
        finally:
            os.close(slave)
        terminal = Terminal(ids.new_id("term"), master, process)
        terminal.resize(opening.cols, opening.rows)
        self.open[terminal.id] = terminal
        self.connection.spawn(self._relay(terminal))
        return terminal

    async def _relay(self, terminal: Terminal) -> None:
        """The shell's output as frames, then its exit."""
        loop = asyncio.get_running_loop()
        output: asyncio.Queue[bytes] = asyncio.Queue()
        loop.add_reader(terminal.master, _read, terminal.master, output)
        try:
            while True:
                chunk = await output.get()
                if not chunk:
                    break
                self.connection.send(
                    {
                        "channel": "terminal",
                        "type": "output",
                        "terminal_id": terminal.id,
                        "data": chunk.decode(errors="replace"),
                    }
                )
            code = await terminal.process.wait()
            self.connection.send(
                {"channel": "terminal", "type": "exit", "terminal_id": terminal.id, "code": code}
            )
        finally:
            loop.remove_reader(terminal.master)
            terminal.kill()
            os.close(terminal.master)
            self.open.pop(terminal.id, None)

    def stop(self) -> None:
        for terminal in list(self.open.values()):
            terminal.kill()


def _read(master: int, output: "asyncio.Queue[bytes]") -> None:
    try:
        chunk = os.read(master, READ_BYTES)
    except OSError:  # the shell ended: the pseudo-terminal is closed
        chunk = b""
    output.put_nowait(chunk)
    if not chunk:
        asyncio.get_running_loop().remove_reader(master)
