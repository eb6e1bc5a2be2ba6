"""A TCP proxy that cuts a live connection partway, as a real network does."""

import asyncio

import httpx

# What the answer of a connection to cut starts with: an SSE stream, a WebSocket.
SSE = b"text/event-stream"
WEBSOCKET = b"upgrade: websocket"


class CuttingProxy:
    """A TCP proxy in front of the server that cuts the first stream it carries (the
    first answer holding ``marker``, lower-cased) after ``cut_after`` bytes of it
    (mid-frame), and keeps the requests it forwarded."""

    def __init__(self, target: str, cut_after: int, marker: bytes = SSE) -> None:
        self.port = httpx.URL(target).port
        self.cut_after = cut_after
        self.marker = marker
        self.cuts = 0
        self.requests: list[bytes] = []
        self._writers: list[asyncio.StreamWriter] = []

    async def __aenter__(self) -> str:
        self._server = await asyncio.start_server(self._serve, "127.0.0.1", 0)
        return f"http://127.0.0.1:{self._server.sockets[0].getsockname()[1]}"

    async def __aexit__(self, *_exc: object) -> None:
        self._server.close()
        for writer in self._writers:
            writer.close()

    async def _serve(self, reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        up_reader, up_writer = await asyncio.open_connection("127.0.0.1", self.port)
        self._writers += [writer, up_writer]

        async def forward() -> None:
            while data := await reader.read(65536):
                self.requests.append(data)
                up_writer.write(data)
            up_writer.close()

        async def back() -> None:
            streaming, sent = False, 0
            while data := await up_reader.read(65536):
                if not self.cuts and (streaming or self.marker in data.lower()):
                    streaming = True
                    if sent + len(data) >= self.cut_after:
                        writer.write(data[: self.cut_after - sent])
                        self.cuts += 1
                        break
                    sent += len(data)
                writer.write(data)
            writer.close()
            up_writer.close()

        await asyncio.gather(forward(), back(), return_exceptions=True)
