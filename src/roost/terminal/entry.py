"""What ``roost chat``, ``roost login`` and ``roost logout`` do; each returns its exit
code. ``home`` is the Roost home (``--home``, ``ROOST_HOME``, else ``~/.roost``)."""

import getpass
from pathlib import Path

from rich.console import Console
from rich.text import Text

from roost.client import APIConnectionError, AuthenticationError, RoostError
from roost.terminal import calls
from roost.terminal.chat import Chat
from roost.terminal.connection import Connection
from roost.terminal.credentials import CredentialStore, normalise
from roost.terminal.prompts import LineReader

HISTORY_FILE = "chat_history"


def _say(console: Console, text: str, style: str = "") -> None:
    console.print(Text(text, style=style))


def chat(
    url: str,
    home: Path,
    *,
    session: str | None = None,
    agent: str | None = None,
    model: str | None = None,
    token: str | None = None,
) -> int:
    console = Console(highlight=False)
    connection = Connection(url, token, CredentialStore(home))
    try:
        try:
            accepted = connection.check()
        except APIConnectionError as error:
            _say(console, f"error: cannot reach {connection.url}: {error.message}", "red")
            return 1
        except AuthenticationError as error:
            _say(console, f"error: the stored login has ended ({error.message})", "red")
            _say(console, f"log in again with: roost login --url {connection.url}")
            return 1
        if not accepted:
            _say(console, f"warning: {connection.url} does not accept the token", "yellow")
        with LineReader(home / HISTORY_FILE) as reader:
            Chat(connection, console, reader, agent=agent, model=model).run(session)
    finally:
        connection.close()
    return 0


def login(url: str, home: Path, email: str | None = None) -> int:
    console = Console(highlight=False)
    url = normalise(url)
    try:
        email = (email or input("Email: ")).strip()
        password = getpass.getpass("Password: ")
    except (EOFError, KeyboardInterrupt):
        console.print()
        return 1
    try:
        made = calls.log_in(url, email, password)
    except RoostError as error:
        _say(console, f"error: {error.message}", "red")
        return 1
    CredentialStore(home).save(made)
    _say(console, f"logged in to {url} as {made.email}", "green")
    return 0


def logout(url: str, home: Path) -> int:
    """Forgets the login kept for ``url``, and asks the server to end it."""
    console = Console(highlight=False)
    url = normalise(url)
    forgotten = CredentialStore(home).forget(url)
    if forgotten is None:
        _say(console, f"no login kept for {url}")
        return 0
    try:
        calls.log_out(forgotten)
    except RoostError as error:
        _say(console, f"(the server was not told: {error.message})", "dim")
    _say(console, f"logged out of {url}")
    return 0
