"""A turn's events, and a session's messages, as rich output in the terminal.

The answer is shown as markdown while it streams (a ``Live`` region redrawn a few times
a second, showing the tail that fits the screen), then printed whole once its piece of
the answer ends; the model's thinking is one dimmed line; each tool call is one line,
``⚙ tool(args…)``, finished by ``✓ 120 ms`` or ``✗ error`` when its result arrives."""

import json
from collections.abc import Callable, Iterable
from typing import Any

from rich.console import Console, ConsoleOptions, RenderResult
from rich.live import Live
from rich.markdown import Markdown
from rich.segment import Segment
from rich.text import Text

from roost.client import Event, Message

REFRESHES_PER_SECOND = 8
STREAMED_TAIL = 8000  # characters of a long answer parsed at each redraw while it streams
ARGS_SHOWN = 60
STEP_MARKS = {"completed": "✓", "in_progress": "▸", "skipped": "-", "pending": "·"}


def call_line(tool: str, args: Any, width: int = ARGS_SHOWN) -> str:
    """``tool(name="value", …)`` cut to ``width`` characters of arguments."""
    if isinstance(args, dict):
        shown = ", ".join(f"{k}={json.dumps(v, ensure_ascii=False)}" for k, v in args.items())
    else:
        shown = json.dumps(args, ensure_ascii=False) if args is not None else ""
    return f"{tool}({shown[: width - 1] + '…' if len(shown) > width else shown})"


def one_line(text: str) -> str:
    return " ".join(text.split())


class _Streaming:
    """The piece of text being streamed, rendered at each refresh: as markdown, only the
    lines that fit the screen (the newest), or as one dimmed line for thinking."""

    def __init__(self, kind: str) -> None:
        self.kind = kind
        self.parts: list[str] = []

    @property
    def text(self) -> str:
        return "".join(self.parts)

    def __rich_console__(self, console: Console, options: ConsoleOptions) -> RenderResult:
        if self.kind == "thinking":
            tail = one_line(self.text)[-max(options.max_width - 14, 10) :]
            yield Text(f"thinking… {tail}", style="dim", no_wrap=True, overflow="ellipsis")
            return
        text = self.text
        if len(text) > STREAMED_TAIL:  # more than a screen: only the tail is redrawn
            text = text[-STREAMED_TAIL:].partition("\n")[2]
        lines = console.render_lines(Markdown(text), options.reset_height(), pad=False)
        for line in lines[-max(console.height - 2, 3) :]:
            yield from line
            yield Segment.line()


class Renderer:
    def __init__(self, console: Console) -> None:
        self.console = console
        self._live: Live | None = None
        self._streaming: _Streaming | None = None
        self._open_call: str | None = None  # the call whose line waits for its result
        self._handlers: dict[str, Callable[[dict[str, Any]], None]] = {
            "tool_call": self._tool_call,
            "tool_result": self._tool_result,
            "input_required": self._input_required,
            "plan_update": self._plan,
            "status": lambda p: self.note(f"· {p.get('message', '')}"),
            "title": lambda p: self.note(f"· titled “{p.get('title', '')}”"),
            "image": lambda p: self.note(f"· an image ({p.get('format', '?')})"),
            "error": lambda p: self.error(str(p.get("message", "error"))),
            "done": self._done,
        }

    def event(self, event: Event) -> None:
        payload = event.payload
        if event.type in ("text", "thinking"):
            self._stream(event.type, str(payload.get("content", "")))
            return
        handler = self._handlers.get(event.type)
        if handler is None:  # turn_start, usage and types yet unknown show nothing
            return
        if event.type == "tool_result" and payload.get("call_id") == self._open_call:
            self._open_call = None  # the result ends its call's own line
            self.console.print(Text(f" {self._outcome(payload)}", style=self._style(payload)))
            return
        self.settle()
        handler(payload)

    def settle(self) -> None:
        """Ends what is in progress (a streamed piece, a tool call's line), so that the
        next output starts on a line of its own."""
        if self._live is not None and self._streaming is not None:
            self._live.stop()
            finished, self._live, self._streaming = self._streaming, None, None
            if finished.kind == "thinking":
                thought = one_line(finished.text)
                if thought:
                    line = Text(f"thinking: {thought}", style="dim", no_wrap=True)
                    line.truncate(self.console.width, overflow="ellipsis")
                    self.console.print(line)
            elif finished.text.strip():
                self.console.print(Markdown(finished.text))
        if self._open_call is not None:
            self._open_call = None
            self.console.print()

    def note(self, text: str, style: str = "dim") -> None:
        self.settle()
        self.console.print(Text(text, style=style))

    def error(self, message: str) -> None:
        self.note(f"error: {message}", "red")

    def messages(self, messages: Iterable[Message]) -> None:
        """A session's history as it was: the user's lines, the answers and their calls."""
        for message in messages:
            if message.role == "user":
                self.console.print(Text(f"> {message.content}", style="bold"))
            elif message.role == "assistant":
                if message.content.strip():
                    self.console.print(Markdown(message.content))
                for part in message.parts:
                    if part.get("type") == "tool_call":
                        self.note(f"⚙ {call_line(str(part.get('tool')), part.get('args'))}")

    def _stream(self, kind: str, content: str) -> None:
        if self._streaming is None or self._streaming.kind != kind:
            self.settle()
            self._streaming = _Streaming(kind)
            self._live = Live(
                self._streaming,
                console=self.console,
                refresh_per_second=REFRESHES_PER_SECOND,
                transient=True,
                redirect_stdout=False,
                redirect_stderr=False,
            )
            self._live.start()
        self._streaming.parts.append(content)

    def _tool_call(self, payload: dict[str, Any]) -> None:
        line = call_line(str(payload.get("tool")), payload.get("args"))
        self.console.print(Text(f"⚙ {line}", style="cyan"), end="")
        self._open_call = str(payload.get("call_id"))

    def _tool_result(self, payload: dict[str, Any]) -> None:
        """A result whose call's line has ended already: on a line of its own, named."""
        line = f"  {payload.get('tool')} {self._outcome(payload)}"
        self.console.print(Text(line, style=self._style(payload)))

    @staticmethod
    def _outcome(payload: dict[str, Any]) -> str:
        if payload.get("success"):
            return f"✓ {payload.get('duration_ms', 0)} ms"
        return f"✗ {one_line(str(payload.get('error') or 'failed'))}"

    @staticmethod
    def _style(payload: dict[str, Any]) -> str:
        return "green" if payload.get("success") else "red"

    def _input_required(self, payload: dict[str, Any]) -> None:
        self.console.print(Text(f"? {payload.get('prompt', '')}", style="bold yellow"))
        if payload.get("kind") == "tool_approval":
            args = call_line(str(payload.get("tool")), payload.get("args") or {}, width=400)
            self.console.print(Text(f"  {args}", style="yellow"))
        for number, option in enumerate(payload.get("options") or [], 1):
            self.console.print(Text(f"  {number}. {option}"))

    def _plan(self, payload: dict[str, Any]) -> None:
        self.console.print(Text("plan:", style="bold"))
        for step in (payload.get("plan") or {}).get("steps", []):
            status = str(step.get("status"))
            mark = STEP_MARKS.get(status, "·")
            style = "dim" if status in ("completed", "skipped") else ""
            self.console.print(Text(f"  {mark} {step.get('description', '')}", style=style))

    def _done(self, payload: dict[str, Any]) -> None:
        status = payload.get("status")
        if status == "cancelled":
            self.console.print(Text("(cancelled)", style="yellow"))
        elif status != "completed":
            self.console.print(Text(f"(the turn {status})", style="red"))
