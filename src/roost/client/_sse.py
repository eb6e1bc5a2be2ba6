"""Server-Sent Events, read line by line: frames, the turn events they carry, and the
sources of ``streams`` that read a turn over them."""

from collections.abc import AsyncGenerator, Generator
from dataclasses import dataclass, field

import httpx

from roost.client import _calls
from roost.client._http import AsyncHTTP, Call, SyncHTTP
from roost.client._retry import TRANSIENT_ERRORS
from roost.client.models import Event
from roost.client.streams import AsyncSource, Dropped, Position, Source

TURN_HEADER = "X-Turn-ID"


@dataclass(frozen=True)
class Frame:
    id: str | None
    event: str
    data: str


@dataclass
class Decoder:
    """Builds frames from a stream's lines (without their line endings), as the SSE
    specification reads them: ``field: value`` lines, a blank line ends a frame, lines
    starting with ``:`` are comments. A frame cut off by a dropped connection never
    completes, so it is never returned half-read."""

    _id: str | None = None
    _event: str = ""
    _data: list[str] = field(default_factory=list)

    def feed(self, line: str) -> Frame | None:
        if not line:
            return self._dispatch()
        if line.startswith(":"):
            return None
        name, colon, value = line.partition(":")
        if colon and value.startswith(" "):
            value = value[1:]
        if name == "data":
            self._data.append(value)
        elif name == "event":
            self._event = value
        elif name == "id" and "\x00" not in value:
            self._id = value
        return None

    def _dispatch(self) -> Frame | None:
        frame = None
        if self._data:
            frame = Frame(self._id, self._event or "message", "\n".join(self._data))
        self._id, self._event, self._data = None, "", []
        return frame


def event_of(frame: Frame) -> Event | None:
    """The turn event a frame carries; None for a heartbeat, which is not in the log
    (it has no ``id``) and says only that the connection is alive."""
    if frame.event == "heartbeat" or frame.id is None:
        return None
    return Event.model_validate_json(frame.data)


def _call(at: Position, start: Call[None] | None) -> Call[None]:
    if at.turn_id is not None:
        return _calls.follow(at.session_id, at.turn_id, at.last_seq)
    # No turn known yet (cut off before the answer's headers): the start again, under
    # the same Idempotency-Key, which the server answers with the same turn.
    assert start is not None
    return start


def _learn(at: Position, response: httpx.Response) -> None:
    at.turn_id = response.headers.get(TURN_HEADER) or at.turn_id


def source(http: SyncHTTP, start: Call[None] | None = None) -> Source:
    """The turn's events over SSE: ``start`` (a streamed start) until the turn is
    known, then ``GET …/events`` with ``Last-Event-ID``."""

    def read(at: Position) -> Generator[Event | None, None, None]:
        try:
            with http.open(_call(at, start)) as response:
                _learn(at, response)
                decoder = Decoder()
                for line in response.iter_lines():
                    frame = decoder.feed(line)
                    if frame is not None:
                        yield event_of(frame)
        except TRANSIENT_ERRORS as error:
            raise Dropped(error) from error

    return read


def async_source(http: AsyncHTTP, start: Call[None] | None = None) -> AsyncSource:
    """``source``, for ``AsyncRoost``."""

    async def read(at: Position) -> AsyncGenerator[Event | None, None]:
        try:
            async with http.open(_call(at, start)) as response:
                _learn(at, response)
                decoder = Decoder()
                async for line in response.aiter_lines():
                    frame = decoder.feed(line)
                    if frame is not None:
                        yield event_of(frame)
        except TRANSIENT_ERRORS as error:
            raise Dropped(error) from error

    return read
