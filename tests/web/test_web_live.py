"""The web UI when the network drops mid-answer: the page reconnects its WebSocket and
goes on from the last event it showed, with nothing lost or shown twice."""

import asyncio
from typing import Any

import httpx

from roost.testing import FakeLLM
from tests.support.apps import ONE_DATABASE
from tests.web.conftest import open_page, send

pytestmark = ONE_DATABASE


class Wire:
    """A TCP proxy in front of the server whose every connection can be cut at once, as
    a network that drops does."""

    def __init__(self, target: str) -> None:
        self.port = httpx.URL(target).port
        self.links: list[asyncio.StreamWriter] = []
        self.tasks: set[asyncio.Task[None]] = set()

    async def __aenter__(self) -> str:
        self.server = await asyncio.start_server(self.serve, "127.0.0.1", 0)
        return f"http://127.0.0.1:{self.server.sockets[0].getsockname()[1]}"

    async def __aexit__(self, *_exc: object) -> None:
        self.server.close()
        self.cut()

    def cut(self) -> None:
        for writer in self.links:
            writer.transport.abort()
        self.links.clear()

    async def serve(self, reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        up_reader, up_writer = await asyncio.open_connection("127.0.0.1", self.port)
        self.links += [writer, up_writer]

        async def pipe(source: asyncio.StreamReader, sink: asyncio.StreamWriter) -> None:
            try:
                while data := await source.read(65536):
                    sink.write(data)
                    await sink.drain()
            except (ConnectionError, OSError):
                pass
            finally:
                sink.transport.abort()

        await asyncio.gather(pipe(reader, up_writer), pipe(up_reader, writer))


async def test_a_dropped_connection_resumes_after_the_last_event_shown(
    browser: Any, live_server: str, fake_llm: FakeLLM
) -> None:
    words = " ".join(f"w{i}" for i in range(80))
    fake_llm.add_replies({"text": words, "token_delay_ms": 40})
    wire = Wire(live_server)
    async with wire as url:
        page = await open_page(browser, url)
        await send(page, "Count slowly")
        await page.wait_for_selector(".msg-assistant .md:has-text('w5')")
        wire.cut()  # the WebSocket and every other connection, mid-answer
        await page.wait_for_selector(".msg-assistant[data-status='completed']", timeout=20000)
        shown = await page.locator(".msg-assistant .md").inner_text()
    assert shown == words  # every word once, in order
    async with httpx.AsyncClient(base_url=live_server) as client:
        sid = (await client.get("/api/sessions")).json()["data"][0]["id"]
        stored = (await client.get(f"/api/sessions/{sid}/messages")).json()["data"][-1]
    assert stored["content"] == words
    assert page.errors == []


async def test_a_second_tab_on_the_same_chat_sees_its_messages(
    browser: Any, live_server: str, fake_llm: FakeLLM
) -> None:
    fake_llm.add_replies(
        {"text": "Numbers", "match": "title"},
        {"text": "First."},
        {"text": "Second, seen in both."},
    )
    first = await open_page(browser, live_server)
    await send(first, "One")
    await first.wait_for_selector(".msg-assistant[data-status='completed']")
    second = await open_page(browser, first.url)
    await second.wait_for_selector(".msg-assistant .md:has-text('First.')")
    await send(first, "Two")
    await second.wait_for_selector(".msg-user .bubble:has-text('Two')")
    await second.wait_for_selector(".msg-assistant .md:has-text('Second, seen in both.')")
    assert await second.locator(".msg-user").count() == 2
    assert await second.locator(".msg-assistant").count() == 2
