"""The chat loop: read a line, send it (or run a slash command), follow the turn's events
until it ends, answering its approvals and questions at the prompt. Ctrl-C while a turn
runs cancels it and comes back to the prompt; Ctrl-C at the prompt says how to quit."""

from collections.abc import Callable
from functools import partial
from typing import Any

from rich.console import Console
from rich.text import Text

from roost.client import (
    AuthenticationError,
    ConflictError,
    Event,
    Roost,
    RoostError,
    Session,
    TurnStream,
)
from roost.client._calls import TurnOptions
from roost.terminal import commands
from roost.terminal.connection import Connection
from roost.terminal.prompts import LineReader, ask_approval, ask_question
from roost.terminal.render import Renderer

MESSAGES_SHOWN = 6
QUIT_HINT = "(Ctrl-D or /quit to quit)"

# Cancels what a stream follows; whether anything was running to cancel.
Canceller = Callable[[TurnStream], bool]


class Chat:
    def __init__(
        self,
        connection: Connection,
        console: Console,
        reader: LineReader,
        *,
        agent: str | None = None,
        model: str | None = None,
    ) -> None:
        self.conn = connection
        self.console = console
        self.reader = reader
        self.render = Renderer(console)
        self.session_id: str | None = None
        self.agent = agent
        self.model = model
        self.listed: list[Session] = []  # the last /sessions, for /open N
        self.always: set[tuple[str, str]] = set()  # (session, tool) allowed for good

    def call(self, work: Callable[[Roost], Any]) -> Any:
        return self.conn.call(work)

    def run(self, session_id: str | None = None) -> None:
        hint = f"Roost at {self.conn.url} · /help lists the commands · Ctrl-D quits"
        self.console.print(Text(hint, style="dim"))
        if session_id:
            self.guarded(lambda: self.open(session_id))
        while True:
            try:
                line = self.reader.line().strip()
            except EOFError:
                self.console.print()
                return
            except KeyboardInterrupt:
                self.console.print()
                self.render.note(QUIT_HINT)
                continue
            try:
                self.guarded(partial(self.handle, line))
            except commands.Quit:
                return

    def guarded(self, work: Callable[[], None]) -> None:
        """Runs ``work``; a server's error is shown in red and the chat goes on."""
        try:
            work()
        except AuthenticationError as error:
            self.render.error(f"{error.message} (log in with: roost login --url {self.conn.url})")
        except RoostError as error:
            self.render.error(error.message)
        except KeyboardInterrupt:
            self.render.note("(interrupted)", "yellow")

    def handle(self, line: str) -> None:
        if line.startswith("/"):
            commands.run(self, line)
        elif line:
            self.send(line)

    def send(self, text: str) -> None:
        """Sends a message (in a new session on the first one) and follows its turn."""
        if self.session_id is None:
            made = self.call(lambda r: r.sessions.create(agent=self.agent, model=self.model))
            self.session_id = made.id
            self.render.note(f"new session {made.id}")
        session_id = self.session_id
        options = TurnOptions()
        if self.agent:
            options["agent"] = self.agent
        if self.model:
            options["model"] = self.model
        self.follow(
            lambda r: r.turns.stream(session_id, text, **options),
            lambda stream: self.cancel_turn(session_id, stream.turn_id),
        )

    def open(self, session_id: str) -> None:
        """Switches to a session: its last messages, then its running turn if it has one,
        followed from its first event."""
        detail = self.call(lambda r: r.sessions.get(session_id, limit=MESSAGES_SHOWN))
        newest = self.call(lambda r: r.turns.list(detail.id, limit=1)).data
        running = newest[0] if newest and not newest[0].finished else None
        self.session_id = detail.id
        self.console.rule(Text(f"{detail.display_title} · {detail.id}", style="bold"))
        # The running turn's answers are shown by its replay, from its first event.
        replayed = running.id if running is not None else None
        self.render.messages(
            m for m in detail.messages if m.role == "user" or m.turn_id != replayed
        )
        if running is not None:
            self.render.note(f"joining the turn that is {running.status}…")
            self.follow(
                lambda r: r.turns.events(detail.id, running.id, after=0),
                lambda _stream: self.cancel_turn(detail.id, running.id),
            )

    def cancel_turn(self, session_id: str, turn_id: str | None) -> bool:
        return bool(self.call(lambda r: r.turns.cancel(session_id, turn_id)))

    def follow(self, open_stream: Callable[[Roost], TurnStream], cancel: Canceller) -> None:
        """Shows a turn's events until ``done``. A 401 before any event is tried again
        once with a refreshed login; Ctrl-C cancels the turn with ``cancel``."""
        stream = open_stream(self.conn.client)
        try:
            try:
                self._read(stream)
            except AuthenticationError:
                if stream.last_seq or not self.conn.renew():
                    raise
                stream = open_stream(self.conn.client)
                self._read(stream)
        except KeyboardInterrupt:
            stream.close()
            self.render.settle()
            self._cancel(stream, cancel)
        finally:
            stream.close()
            self.render.settle()

    def _read(self, stream: TurnStream) -> None:
        with stream:
            for event in stream:
                self.render.event(event)
                if event.type == "input_required":
                    self.render.settle()
                    self._answer(event)

    def _cancel(self, stream: TurnStream, cancel: Canceller) -> None:
        try:
            cancelled = cancel(stream)
        except RoostError as error:
            self.render.error(f"the turn could not be cancelled: {error.message}")
        except KeyboardInterrupt:
            self.render.note("(left the turn running)", "yellow")
        else:
            self.render.note("(cancelled)" if cancelled else "(the turn had ended)", "yellow")

    def _answer(self, event: Event) -> None:
        """Asks the user what an ``input_required`` event asks, unless it was answered
        already (a turn replayed from its start, or answered elsewhere)."""
        asked = event.payload
        session_id, turn_id = event.session_id, event.turn_id
        request_id = str(asked.get("request_id"))
        inputs = self.call(lambda r: r.turns.inputs(session_id, turn_id))
        if not any(i.request_id == request_id and i.status == "pending" for i in inputs):
            self.render.note("(answered already)")
            return
        answer: dict[str, Any]
        if asked.get("kind") == "tool_approval":
            tool = str(asked.get("tool"))
            allowed = (session_id, tool) in self.always
            choice = "yes" if allowed else ask_approval(self.reader.answer)
            if allowed:
                self.render.note(f"(allowed: {tool} is allowed in this chat)")
            elif choice == "always":
                self.always.add((session_id, tool))
            answer = {"approve": choice != "no", "deny": choice == "no"}
            answer["remember"] = choice == "always"
        else:
            reply = ask_question(self.reader.answer, [str(o) for o in asked.get("options") or []])
            answer = {"answer": reply} if reply is not None else {"deny": True}
        try:
            self.call(lambda r: r.turns.answer(session_id, turn_id, request_id, **answer))
        except ConflictError as error:
            if error.code != "INPUT_NOT_PENDING":
                raise
            self.render.note("(answered already)")
