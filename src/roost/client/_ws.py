"""The sources of ``streams`` that read a turn's events over the WebSocket ``/api/ws``.

Each connection follows the turn with ``subscribe {session_id, turn_id, after}``, which
replays the turn's events after ``after`` and then follows it live; after a drop the
next connection subscribes again after the last seq read, so every event arrives once.
The server's ``ping`` frames are answered with ``pong``; an error frame raises.

A turn to stream is started over HTTP (``POST …/messages?background=true`` under its
Idempotency-Key), not with a ``prompt`` frame: a prompt carries no key, so a connection
lost between the prompt and its reply could not tell whether the turn started, and a
prompt sent again could start a second one. The HTTP start is retried safely (the
server answers a repeated key with the same turn), and the subscription from seq 0
misses nothing the turn did before it.
"""

import json
from collections.abc import AsyncGenerator, Generator
from typing import Any

import httpx
from websockets.asyncio.client import connect as connect_async
from websockets.exceptions import ConnectionClosed, InvalidHandshake, InvalidStatus
from websockets.sync.client import connect

from roost.client._http import AsyncHTTP, Call, Settings, SyncHTTP
from roost.client._retry import RetryPolicy
from roost.client.errors import error_from_frame, error_from_response
from roost.client.models import Event, Turn
from roost.client.streams import AsyncSource, Dropped, Position, Source

PATH = "/api/ws"
FOLLOW = "follow"  # the subscribe frame's id, which its reply (or error) carries
PONG = json.dumps({"channel": "system", "type": "pong"})
# A connection that broke, or could not be opened for now: reconnect. (A refused
# handshake, InvalidStatus, is sorted apart by its status.)
BROKEN: tuple[type[Exception], ...] = (OSError, ConnectionClosed, InvalidHandshake)


def _options(settings: Settings) -> tuple[str, dict[str, Any]]:
    """The socket's URL (``ws://`` for ``http://``, ``wss://`` for ``https://``) and how
    to open it: the client's credential and headers, its connect timeout."""
    scheme, _, rest = settings.base_url.partition("://")
    url = f"{'wss' if scheme.lower() == 'https' else 'ws'}://{rest}{PATH}"
    skipped = {"accept", "user-agent"}
    headers = {k: v for k, v in settings.headers.items() if k.lower() not in skipped}
    agent = next((v for k, v in settings.headers.items() if k.lower() == "user-agent"), None)
    return url, {
        "additional_headers": headers,
        "user_agent_header": agent,
        "open_timeout": settings.timeout.connect,
        "max_size": None,  # as over SSE: an event is as large as the turn makes it
    }


def _subscribe(at: Position) -> str:
    frame: dict[str, Any] = {"channel": "agent", "type": "subscribe", "id": FOLLOW}
    frame |= {"session_id": at.session_id, "turn_id": at.turn_id, "after": at.last_seq}
    return json.dumps(frame)


def _frame(message: str | bytes) -> dict[str, Any]:
    frame = json.loads(message)
    return frame if isinstance(frame, dict) else {}


def _is_ping(frame: dict[str, Any]) -> bool:
    return frame.get("channel") == "system" and frame.get("type") == "ping"


def _event(frame: dict[str, Any]) -> Event | None:
    """The turn event a frame carries (the SSE event's fields, without ``channel``);
    None for any other frame. An error frame, the subscription's or a follower's (no
    ``id``), raises; a turn's ``error`` event is an event (it has a ``seq``)."""
    if frame.get("channel") == "agent" and "seq" in frame:
        return Event.model_validate({k: v for k, v in frame.items() if k != "channel"})
    if frame.get("type") == "error" and frame.get("id", FOLLOW) == FOLLOW:
        raise error_from_frame(frame.get("error"))
    return None


def _refused(policy: RetryPolicy, error: InvalidStatus) -> Exception:
    """A handshake answered with an HTTP error: the error, or Dropped when the status
    is worth another try (429, 503)."""
    answer = error.response
    response = httpx.Response(
        answer.status_code,
        headers=list(answer.headers.raw_items()),
        content=bytes(answer.body or b""),
    )
    failure = error_from_response(response)
    return Dropped(failure) if policy.retries(failure) else failure


def source(http: SyncHTTP, start: Call[Turn] | None = None) -> Source:
    """The turn's events over the WebSocket; ``start`` (a background start) is sent
    once, before the first connection, when no turn is known yet."""
    url, options = _options(http.settings)

    def read(at: Position) -> Generator[Event | None, None, None]:
        if at.turn_id is None:
            assert start is not None
            at.turn_id = http.run(start).id
        try:
            with connect(url, **options) as socket:
                socket.send(_subscribe(at))
                for message in socket:
                    frame = _frame(message)
                    if _is_ping(frame):
                        socket.send(PONG)
                    yield _event(frame)
        except InvalidStatus as error:
            raise _refused(http.policy, error) from error
        except BROKEN as error:
            raise Dropped(error) from error

    return read


def async_source(http: AsyncHTTP, start: Call[Turn] | None = None) -> AsyncSource:
    """``source``, for ``AsyncRoost``."""
    url, options = _options(http.settings)

    async def read(at: Position) -> AsyncGenerator[Event | None, None]:
        if at.turn_id is None:
            assert start is not None
            at.turn_id = (await http.run(start)).id
        try:
            async with connect_async(url, **options) as socket:
                await socket.send(_subscribe(at))
                async for message in socket:
                    frame = _frame(message)
                    if _is_ping(frame):
                        await socket.send(PONG)
                    yield _event(frame)
        except InvalidStatus as error:
            raise _refused(http.policy, error) from error
        except BROKEN as error:
            raise Dropped(error) from error

    return read
