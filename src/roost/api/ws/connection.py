"""One WebSocket connection: who it is, its bounded send queue, and its lifetime.

Frames out go through a bounded queue drained by one sender task: a client that stops
reading fills it, and is then cut off (1013) instead of the server holding ever more
for it. Frames in are read by the caller's loop, at most ``max_frame`` bytes each
(1009 beyond), and the connection is closed after ``idle`` seconds without one.
"""

import asyncio
import contextlib
import logging
from collections.abc import Coroutine
from typing import Any

import orjson
from starlette.websockets import WebSocket, WebSocketDisconnect, WebSocketState

from roost.config import Settings
from roost.errors import ApiError
from roost.services.caller import Caller

log = logging.getLogger("roost.ws")

# Close codes (RFC 6455 and the registry): why the server ended a connection.
NORMAL = 1000
GOING_AWAY = 1001
POLICY = 1008
TOO_BIG = 1009
TRY_LATER = 1013


class Closed(Exception):
    """The connection is over (the client left, or the server closed it)."""


class Connection:
    def __init__(self, websocket: WebSocket, caller: Caller, settings: Settings) -> None:
        self.websocket = websocket
        self.caller = caller
        self.max_frame = settings.ws_max_frame_bytes
        self.idle = settings.ws_idle_seconds
        self.ping_every = settings.ws_ping_seconds
        self._outbox: asyncio.Queue[bytes] = asyncio.Queue(settings.ws_send_queue)
        self._tasks: set[asyncio.Task[Any]] = set()
        self._closing: tuple[int, str] | None = None
        self._done = asyncio.Event()

    # Sending

    def send(self, frame: dict[str, Any]) -> None:
        """Queue a frame; a client too far behind is cut off rather than waited for."""
        if self._closing is not None:
            return
        try:
            self._outbox.put_nowait(orjson.dumps(frame, default=str))
        except asyncio.QueueFull:
            self.close(TRY_LATER, "Too far behind: the client does not read its frames")

    def reply(self, to: dict[str, Any], **data: Any) -> None:
        """The answer to a client frame that carried an ``id``."""
        if "id" in to:
            self.send({"channel": to.get("channel"), "type": "ok", "id": to["id"], **data})

    def error(self, request: dict[str, Any] | None, error: ApiError) -> None:
        """An error frame (the envelope's ``error``), with the request's id if it had one."""
        frame: dict[str, Any] = {
            "channel": (request or {}).get("channel"),
            "type": "error",
            "error": error.body(),
        }
        if request is not None and "id" in request:
            frame["id"] = request["id"]
        self.send(frame)

    def close(self, code: int, reason: str) -> None:
        """End the connection with ``code``; what is queued is dropped."""
        if self._closing is None:
            self._closing = (code, reason)
            self._done.set()

    # Work tied to the connection

    def spawn(self, work: Coroutine[Any, Any, Any]) -> asyncio.Task[Any]:
        """Run ``work`` while the connection lives; cancelled when it ends."""
        task = asyncio.create_task(self._guarded(work))
        self._tasks.add(task)
        task.add_done_callback(self._tasks.discard)
        return task

    async def _guarded(self, work: Coroutine[Any, Any, Any]) -> None:
        try:
            await work
        except (asyncio.CancelledError, Closed):
            raise
        except ApiError as error:
            self.error(None, error)
        except Exception:
            log.exception("a WebSocket task failed")

    # Lifetime

    async def serve(self, handle: Any) -> None:
        """Read frames and pass each to ``handle(frame)`` until the connection ends."""
        sender = asyncio.create_task(self._send_all())
        pinger = asyncio.create_task(self._ping())
        reader = asyncio.create_task(self._read_all(handle))
        ended = asyncio.create_task(self._done.wait())
        try:
            await asyncio.wait({sender, reader, ended}, return_when=asyncio.FIRST_COMPLETED)
        finally:
            for task in (sender, pinger, reader, ended, *self._tasks):
                task.cancel()
            await asyncio.gather(
                sender, pinger, reader, ended, *self._tasks, return_exceptions=True
            )
            await self._close_socket()

    async def _read_all(self, handle: Any) -> None:
        # A flooding client always has a frame ready: stop on the flag, not only on a
        # cancel (which asyncio.wait_for may swallow when its frame is ready at once).
        while self._closing is None:
            try:
                async with asyncio.timeout(self.idle):
                    message = await self.websocket.receive()
            except TimeoutError:
                self.close(NORMAL, f"Idle: no frame from the client for {self.idle:g} s")
                return
            if message["type"] == "websocket.disconnect":
                self.close(GOING_AWAY, "")
                return
            text = message.get("text")
            raw = text.encode() if text is not None else message.get("bytes") or b""
            if len(raw) > self.max_frame:
                self.close(TOO_BIG, f"A frame may hold at most {self.max_frame} bytes")
                return
            await handle(raw)

    async def _send_all(self) -> None:
        while True:
            frame = await self._outbox.get()
            await self.websocket.send_text(frame.decode())

    async def _ping(self) -> None:
        while True:
            await asyncio.sleep(self.ping_every)
            self.send({"channel": "system", "type": "ping"})

    async def _close_socket(self) -> None:
        code, reason = self._closing or (NORMAL, "")
        if self.websocket.application_state == WebSocketState.DISCONNECTED:
            return
        if self.websocket.client_state == WebSocketState.DISCONNECTED:
            return
        # A client that reads nothing may not take the close frame either: bounded.
        with contextlib.suppress(Exception):
            await asyncio.wait_for(self.websocket.close(code, reason[:120]), 2)


async def refuse(websocket: WebSocket, code: int, reason: str) -> None:
    """Close a connection before it is accepted (the client sees a failed handshake)."""
    with contextlib.suppress(WebSocketDisconnect, RuntimeError):
        await websocket.close(code, reason[:120])
