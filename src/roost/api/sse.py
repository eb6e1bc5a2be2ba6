"""Server-Sent Events: a turn's (or an evaluation's) events as ``id`` / ``event`` /
``data`` frames."""

import re
from collections.abc import AsyncIterator, Sequence
from typing import Annotated, Protocol

from fastapi import Header, Query
from starlette.requests import Request
from starlette.responses import StreamingResponse

from roost.errors import ValidationFailed

SSE_HEADERS = {"Cache-Control": "no-cache", "X-Accel-Buffering": "no", "Connection": "keep-alive"}


class Framed(Protocol):
    """What an SSE frame is made of: a turn's event, or an evaluation's."""

    @property
    def seq(self) -> int: ...

    @property
    def type(self) -> str: ...

    def to_json(self) -> bytes: ...


def frame(event: Framed) -> bytes:
    """One SSE frame; heartbeats carry no ``id``, since they are not in the log."""
    data = event.to_json()
    if event.type == "heartbeat":
        return b"event: heartbeat\ndata: " + data + b"\n\n"
    return b"id: %d\nevent: %s\ndata: %s\n\n" % (event.seq, event.type.encode(), data)


async def _frames(batches: AsyncIterator[Sequence[Framed]]) -> AsyncIterator[bytes]:
    async for batch in batches:
        yield b"".join(frame(event) for event in batch)  # one write for what is ready


# A stream that starts a turn names it in its headers, before any event is sent: a client
# that loses the connection at once still knows which turn to resume.
TURN_HEADER, SESSION_HEADER = "X-Turn-ID", "X-Session-ID"


def event_stream(
    batches: AsyncIterator[Sequence[Framed]], *, turn_id: str | None = None, session_id: str = ""
) -> StreamingResponse:
    headers = dict(SSE_HEADERS)
    if turn_id is not None:
        headers |= {TURN_HEADER: turn_id, SESSION_HEADER: session_id}
    return StreamingResponse(_frames(batches), media_type="text/event-stream", headers=headers)


def wants_stream(request: Request, stream: bool | None) -> bool:
    """SSE when asked with ``stream: true`` or by ``Accept: text/event-stream``."""
    if stream is not None:
        return stream
    return "text/event-stream" in request.headers.get("accept", "")


# A seq is stored in a 32-bit INTEGER column: no turn can log more events than this.
MAX_SEQ = 2**31 - 1
RESUME_HEADER = "Last-Event-ID"
# Empty (unset), or a seq of 0 to MAX_SEQ in ASCII digits (at most 10 of them): the rule
# resume_point checks, spelled out so that the document holds it too.
RESUME_PATTERN = (
    "^(?:[0-9]{0,9}|[01][0-9]{9}|20[0-9]{8}|21[0-3][0-9]{7}|214[0-6][0-9]{6}"
    "|2147[0-3][0-9]{5}|21474[0-7][0-9]{4}|214748[0-2][0-9]{3}|2147483[0-5][0-9]{2}"
    "|21474836[0-3][0-9]|214748364[0-7])$"
)


# A stream's resume point, as the routes that serve event logs take it.
ResumeAfter = Annotated[int | None, Query(ge=0, le=MAX_SEQ, description="Resume after this seq.")]
LastEventId = Annotated[
    str,
    Header(
        alias=RESUME_HEADER,
        pattern=RESUME_PATTERN,
        description="Resume after this seq; `?after=` wins.",
    ),
]


def resume_point(after: int | None, last_event_id: str | None) -> int:
    """Where a reader resumes: ``?after=`` wins over the ``Last-Event-ID`` header (which
    an empty value leaves unset). Checked before the stream starts: once its 200 is out,
    an error could only cut the stream."""
    if after is not None:
        return after
    value = (last_event_id or "").strip()
    if not value:
        return 0
    if not re.fullmatch(RESUME_PATTERN, value):
        reason = f"a seq is a whole number from 0 to {MAX_SEQ}"
        raise ValidationFailed(
            f"{RESUME_HEADER} is not a seq",
            [{"field": RESUME_HEADER, "in": "header", "reason": reason}],
        )
    return int(value)
