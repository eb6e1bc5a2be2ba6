"""Reading from the user: the chat's lines, with readline's editing and a history kept
in a file, and the answers to a turn's approvals and questions."""

import contextlib
import os
from collections.abc import Callable
from pathlib import Path
from types import ModuleType, TracebackType
from typing import Literal, Self

PROMPT = "> "
APPROVAL_PROMPT = "Allow? [y]es / [a]lways in this chat / [n]o: "
ANSWER_PROMPT = "answer: "
HISTORY_LENGTH = 1000

Approval = Literal["yes", "always", "no"]
APPROVALS: dict[str, Approval] = {
    "y": "yes",
    "yes": "yes",
    "a": "always",
    "always": "always",
    "n": "no",
    "no": "no",
}


def _readline() -> ModuleType | None:
    """The readline module where Python has one (not on Windows): importing it is what
    gives ``input()`` arrow keys, editing and history."""
    try:
        import readline
    except ImportError:
        return None
    return readline


class LineReader:
    """``input()`` with a history file: loaded on entering, saved on leaving."""

    def __init__(self, history: Path) -> None:
        self.history = history
        self._readline = _readline()

    def __enter__(self) -> Self:
        if self._readline is not None:
            self._readline.set_history_length(HISTORY_LENGTH)
            with contextlib.suppress(OSError):
                self._readline.read_history_file(self.history)
        return self

    def __exit__(
        self,
        kind: type[BaseException] | None,
        error: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        if self._readline is None:
            return
        with contextlib.suppress(OSError):
            self.history.parent.mkdir(parents=True, exist_ok=True, mode=0o700)
            self._readline.write_history_file(self.history)
            os.chmod(self.history, 0o600)  # what was typed can be private

    def line(self, prompt: str = PROMPT) -> str:
        """A line of the chat, kept in the history. Raises EOFError on Ctrl-D and
        KeyboardInterrupt on Ctrl-C."""
        return input(prompt)

    def answer(self, prompt: str) -> str:
        """A reply to a question or an approval: not kept in the history."""
        reply = input(prompt)
        readline = self._readline
        if readline is not None and reply:
            last = readline.get_current_history_length()
            if last and readline.get_history_item(last) == reply:
                readline.remove_history_item(last - 1)
        return reply


def ask_approval(read: Callable[[str], str]) -> Approval:
    """``yes``, ``always`` (this tool, for the rest of the session) or ``no``; Ctrl-D is
    no."""
    while True:
        try:
            reply = read(APPROVAL_PROMPT).strip().lower()
        except EOFError:
            print()
            return "no"
        if reply in APPROVALS:
            return APPROVALS[reply]


def ask_question(read: Callable[[str], str], options: list[str]) -> str | None:
    """The answer: an option by its number, or any text; None (declined) on Ctrl-D."""
    while True:
        try:
            reply = read(ANSWER_PROMPT).strip()
        except EOFError:
            print()
            return None
        if reply.isdigit() and 1 <= int(reply) <= len(options):
            return options[int(reply) - 1]
        if reply:
            return reply
