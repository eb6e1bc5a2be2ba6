"""A WebSocket client for tests: a real connection to a real server, frames as dicts."""

import asyncio
import base64
import json
import os
import socket
import struct
from collections.abc import AsyncIterator, Callable
from contextlib import asynccontextmanager
from typing import Any

from websockets.asyncio.client import ClientConnection, connect

Frame = dict[str, Any]


class Socket:
    def __init__(self, connection: ClientConnection) -> None:
        self.connection = connection

    async def send(self, **frame: Any) -> None:
        await self.connection.send(json.dumps(frame))

    async def receive(self, within: float = 10) -> Frame:
        raw = await asyncio.wait_for(self.connection.recv(), within)
        return dict(json.loads(raw))

    async def until(self, wanted: Callable[[Frame], bool], within: float = 10) -> list[Frame]:
        """Frames up to and including the first ``wanted`` one (pings left out)."""
        seen: list[Frame] = []

        async def read() -> list[Frame]:
            while True:
                frame = await self.receive(within)
                if frame.get("channel") == "system" and frame.get("type") == "ping":
                    continue
                seen.append(frame)
                if wanted(frame):
                    return seen

        return await asyncio.wait_for(read(), within)

    async def request(self, **frame: Any) -> Frame:
        """Send a frame with an ``id`` and return its reply (``ok`` or ``error``)."""
        frame.setdefault("id", f"r{id(frame)}")
        await self.send(**frame)
        replies = await self.until(lambda f: f.get("id") == frame["id"])
        return replies[-1]


def ws_url(http_url: str, path: str) -> str:
    return http_url.replace("http://", "ws://", 1) + path


@asynccontextmanager
async def opened(url: str, path: str = "/api/ws", **options: Any) -> AsyncIterator[Socket]:
    async with connect(ws_url(url, path), open_timeout=10, **options) as connection:
        yield Socket(connection)


def client_frame(text: str) -> bytes:
    """A masked text frame, as a client sends it (RFC 6455 §5.2), under 64 KiB."""
    data = text.encode()
    mask = os.urandom(4)
    size = bytes([0x80 | len(data)]) if len(data) < 126 else b"\xfe" + struct.pack("!H", len(data))
    return b"\x81" + size + mask + bytes(byte ^ mask[i % 4] for i, byte in enumerate(data))


@asynccontextmanager
async def never_reading(url: str, path: str = "/api/ws") -> AsyncIterator[asyncio.StreamWriter]:
    """A WebSocket client that completes the handshake and then reads nothing: a small
    receive buffer, so that what the server sends soon backs up to it."""
    host, port = url.removeprefix("http://").rsplit(":", 1)
    raw = socket.socket()
    raw.setsockopt(socket.SOL_SOCKET, socket.SO_RCVBUF, 4096)
    raw.setblocking(False)
    await asyncio.get_running_loop().sock_connect(raw, (host, int(port)))
    reader, writer = await asyncio.open_connection(sock=raw)
    key = base64.b64encode(os.urandom(16)).decode()
    handshake = (
        f"GET {path} HTTP/1.1\r\nHost: {host}:{port}\r\nUpgrade: websocket\r\n"
        f"Connection: Upgrade\r\nSec-WebSocket-Key: {key}\r\nSec-WebSocket-Version: 13\r\n"
    )
    writer.write(f"{handshake}\r\n".encode())
    await writer.drain()
    status = (await asyncio.wait_for(reader.readuntil(b"\r\n\r\n"), 10)).split(b"\r\n")[0]
    assert b" 101 " in status, status
    try:
        yield writer
    finally:
        writer.transport.abort()
