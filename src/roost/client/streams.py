"""A turn's events as an iterator that survives dropped connections.

Every event of a turn is stored before it is sent, with a ``seq`` that counts from 1
without gaps and is the SSE ``id``. So when a connection drops before the ``done``
event, the stream asks again for the events after the last seq it has seen
(``Last-Event-ID``) and the caller gets each event exactly once, in order. Events seen
twice (a replayed start) are skipped by their seq.
"""

import asyncio
import time
from collections.abc import AsyncGenerator, AsyncIterator, Generator, Iterator
from types import TracebackType
from typing import Self

import httpx

from roost.client import _calls
from roost.client._http import AsyncHTTP, Call, SyncHTTP
from roost.client._retry import TRANSIENT_ERRORS, RetryPolicy
from roost.client._sse import Decoder, Frame, event_of
from roost.client.errors import APIConnectionError
from roost.client.models import Event

TURN_HEADER = "X-Turn-ID"


class _Position:
    """Where a reader is in a turn's log, and what it has read."""

    def __init__(
        self,
        policy: RetryPolicy,
        session_id: str,
        turn_id: str | None,
        after: int,
        start: Call[None] | None,
    ) -> None:
        self.session_id = session_id
        self.turn_id = turn_id
        self.last_seq = after
        self.reconnects = 0
        self.done: Event | None = None
        self._policy = policy
        self._start = start
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

    def _call(self) -> Call[None]:
        if self.turn_id is not None:
            return _calls.follow(self.session_id, self.turn_id, self.last_seq)
        # No turn known yet (cut off before the answer's headers): the start again,
        # under the same Idempotency-Key, which the server answers with the same turn.
        assert self._start is not None
        return self._start

    def _learn(self, response: httpx.Response) -> None:
        self.turn_id = response.headers.get(TURN_HEADER) or self.turn_id

    def _accept(self, frame: Frame) -> Event | None:
        """The frame's event, if it is one not read before."""
        event = event_of(frame)
        if event is None or event.seq <= self.last_seq:
            return None
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


class TurnStream(_Position):
    """Iterate to get the turn's events until ``done``; ``with`` closes the connection
    when leaving early."""

    def __init__(
        self,
        http: SyncHTTP,
        session_id: str,
        *,
        turn_id: str | None = None,
        after: int = 0,
        start: Call[None] | None = None,
    ) -> None:
        super().__init__(http.policy, session_id, turn_id, after, start)
        self._http = http
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
                with self._http.open(self._call()) as response:
                    self._learn(response)
                    decoder = Decoder()
                    for line in response.iter_lines():
                        frame = decoder.feed(line)
                        heard = heard or frame is not None
                        event = self._accept(frame) if frame is not None else None
                        if event is None:
                            continue
                        yield event
                        if self.done is not None:
                            return
            except TRANSIENT_ERRORS as error:
                cause = error
            failures = 1 if heard else failures + 1
            time.sleep(self._lost(failures, cause))


class AsyncTurnStream(_Position):
    """``async for`` to get the turn's events until ``done``; ``async with`` closes the
    connection when leaving early."""

    def __init__(
        self,
        http: AsyncHTTP,
        session_id: str,
        *,
        turn_id: str | None = None,
        after: int = 0,
        start: Call[None] | None = None,
    ) -> None:
        super().__init__(http.policy, session_id, turn_id, after, start)
        self._http = http
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
                async with self._http.open(self._call()) as response:
                    self._learn(response)
                    decoder = Decoder()
                    async for line in response.aiter_lines():
                        frame = decoder.feed(line)
                        heard = heard or frame is not None
                        event = self._accept(frame) if frame is not None else None
                        if event is None:
                            continue
                        yield event
                        if self.done is not None:
                            return
            except TRANSIENT_ERRORS as error:
                cause = error
            failures = 1 if heard else failures + 1
            await asyncio.sleep(self._lost(failures, cause))
