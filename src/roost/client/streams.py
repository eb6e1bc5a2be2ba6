"""A turn's events as an iterator that survives dropped connections.

Every event of a turn is stored before it is sent, with a ``seq`` that counts from 1
without gaps. So when a connection drops before the ``done`` event, the stream asks
again for the events after the last seq it has seen and the caller gets each event
exactly once, in order. Events seen twice (a replayed start) are skipped by their seq.

The streams here keep that account; where the events come from is a *source*: a
generator that opens one connection for a position in the log (after ``last_seq``),
yields what each frame it reads carries (an event, or None for a frame that says only
that the connection is alive) and raises :class:`Dropped` when the connection breaks.
``_sse`` reads them over Server-Sent Events, ``_ws`` over the WebSocket.
"""

import asyncio
import time
from collections.abc import AsyncGenerator, AsyncIterator, Callable, Generator, Iterator
from contextlib import aclosing, closing
from types import TracebackType
from typing import Literal, Self

from roost.client._retry import RetryPolicy
from roost.client.errors import APIConnectionError
from roost.client.models import Event

# How a stream reads a turn's events: Server-Sent Events, or the WebSocket ``/api/ws``.
Via = Literal["sse", "websocket"]


def by_websocket(via: Via) -> bool:
    """Whether ``via`` names the WebSocket (it must name one of the two ways)."""
    if via not in ("sse", "websocket"):
        raise ValueError(f"via must be 'sse' or 'websocket', not {via!r}")
    return via == "websocket"


class Dropped(Exception):
    """A source's connection broke off (or never opened): the stream reconnects."""

    def __init__(self, cause: Exception) -> None:
        super().__init__(str(cause))
        self.cause = cause


class Position:
    """Where a reader is in a turn's log, and what it has read."""

    def __init__(
        self, policy: RetryPolicy, session_id: str, turn_id: str | None, after: int
    ) -> None:
        self.session_id = session_id
        self.turn_id = turn_id
        self.last_seq = after
        self.reconnects = 0
        self.done: Event | None = None
        self._policy = policy
        self._text: list[str] = []

    @property
    def text(self) -> str:
        """The answer's text as far as it has been read."""
        return "".join(self._text)

    @property
    def status(self) -> str | None:
        """The turn's final status from ``done``; None until it has been read."""
        value = self.done.payload.get("status") if self.done else None
        return value if isinstance(value, str) else None

    def _accept(self, event: Event | None) -> Event | None:
        """The event, if it is one of this turn not read before."""
        if event is None or event.seq <= self.last_seq:
            return None
        if self.turn_id is not None and event.turn_id != self.turn_id:
            return None  # another turn of the session (a WebSocket follows them all)
        self.turn_id, self.last_seq = event.turn_id, event.seq
        if event.type == "text":
            self._text.append(event.text)
        elif event.type == "done":
            self.done = event
        return event

    def _lost(self, failures: int, cause: Exception | None) -> float:
        """The wait before reconnecting, or the error once ``failures`` connections in a
        row have brought nothing (not even a heartbeat) and retries are spent."""
        if failures > self._policy.max_retries:
            why = f"{type(cause).__name__}: {cause}" if cause else "the stream ended early"
            raise APIConnectionError(
                f"the turn's event stream broke off after seq {self.last_seq} and could "
                f"not be resumed ({why})",
                code="STREAM_INTERRUPTED",
            ) from cause
        self.reconnects += 1
        return self._policy.backoff(failures - 1)


Source = Callable[[Position], Generator[Event | None, None, None]]
AsyncSource = Callable[[Position], AsyncGenerator[Event | None, None]]


class TurnStream(Position):
    """Iterate to get the turn's events until ``done``; ``with`` closes the connection
    when leaving early."""

    def __init__(
        self,
        source: Source,
        policy: RetryPolicy,
        session_id: str,
        *,
        turn_id: str | None = None,
        after: int = 0,
    ) -> None:
        super().__init__(policy, session_id, turn_id, after)
        self._source = source
        self._events: Generator[Event, None, None] | None = None

    def __iter__(self) -> Iterator[Event]:
        if self._events is None:
            self._events = self._read()
        return self._events

    def wait(self) -> Event | None:
        """Read to the end; the ``done`` event (None only if the stream was closed)."""
        for _ in self:
            pass
        return self.done

    def close(self) -> None:
        if self._events is not None:
            self._events.close()

    def __enter__(self) -> Self:
        return self

    def __exit__(
        self,
        kind: type[BaseException] | None,
        error: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        self.close()

    def _read(self) -> Generator[Event, None, None]:
        failures = 0
        while self.done is None:
            cause: Exception | None = None
            heard = False  # anything, a heartbeat too: the server serves this stream
            try:
                with closing(self._source(self)) as frames:
                    for frame in frames:
                        heard = True
                        event = self._accept(frame)
                        if event is None:
                            continue
                        yield event
                        if self.done is not None:
                            return
            except Dropped as dropped:
                cause = dropped.cause
            failures = 1 if heard else failures + 1
            time.sleep(self._lost(failures, cause))


class AsyncTurnStream(Position):
    """``async for`` to get the turn's events until ``done``; ``async with`` closes the
    connection when leaving early."""

    def __init__(
        self,
        source: AsyncSource,
        policy: RetryPolicy,
        session_id: str,
        *,
        turn_id: str | None = None,
        after: int = 0,
    ) -> None:
        super().__init__(policy, session_id, turn_id, after)
        self._source = source
        self._events: AsyncGenerator[Event, None] | None = None

    def __aiter__(self) -> AsyncIterator[Event]:
        if self._events is None:
            self._events = self._read()
        return self._events

    async def wait(self) -> Event | None:
        """Read to the end; the ``done`` event (None only if the stream was closed)."""
        async for _ in self:
            pass
        return self.done

    async def aclose(self) -> None:
        if self._events is not None:
            await self._events.aclose()

    async def __aenter__(self) -> Self:
        return self

    async def __aexit__(
        self,
        kind: type[BaseException] | None,
        error: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        await self.aclose()

    async def _read(self) -> AsyncGenerator[Event, None]:
        failures = 0
        while self.done is None:
            cause: Exception | None = None
            heard = False  # anything, a heartbeat too: the server serves this stream
            try:
                async with aclosing(self._source(self)) as frames:
                    async for frame in frames:
                        heard = True
                        event = self._accept(frame)
                        if event is None:
                            continue
                        yield event
                        if self.done is not None:
                            return
            except Dropped as dropped:
                cause = dropped.cause
            failures = 1 if heard else failures + 1
            await asyncio.sleep(self._lost(failures, cause))
