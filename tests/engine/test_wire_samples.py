"""The adapters against streams in the providers' published wire formats, and the fake
upstream against the same samples.

The samples in ``wire/`` follow the providers' API references: OpenAI's Chat Completions
stream (``chat.completion.chunk`` objects, tool calls streamed by index, ``"usage": null``
on every chunk and a usage chunk with no choices when ``stream_options.include_usage`` is
set, then ``[DONE]``) and Anthropic's Messages stream (named events, ``thinking`` with its
``signature_delta``, ``text``, ``tool_use`` with ``input_json_delta`` pieces, ``ping``,
``message_delta`` with the stop reason and output tokens, and an ``error`` event). They are
served byte for byte over real HTTP, so the adapters are not only checked against the fake,
which could share their misunderstanding of the wire; and the fake's frames must have the
samples' keys, so the two cannot drift apart.
"""

from collections.abc import AsyncIterator
from pathlib import Path
from typing import Any

import httpx
import orjson
import pytest

from roost.engine.providers.anthropic import AnthropicProvider
from roost.engine.providers.base import (
    ChatMessage,
    Finish,
    ModelRequest,
    ProviderError,
    ProviderEvent,
    TextDelta,
    ThinkingDelta,
    ToolCall,
    ToolCallDone,
    ToolSpec,
    UsageReport,
    merge_deltas,
)
from roost.engine.providers.openai_compat import OpenAICompatProvider
from roost.testing import FakeLLM
from tests.support.live import serving

WIRE = Path(__file__).parent / "wire"
REQUEST = ModelRequest(
    model="sample-model",
    messages=[ChatMessage("user", "What is the weather like in San Francisco?")],
    tools=[ToolSpec("get_weather", "The current weather", {"type": "object"})],
)

OPENAI_TEXT: list[ProviderEvent] = [
    *(TextDelta(piece) for piece in ["Hello", "!", " How", " can", " I", " help", " you"]),
    *(TextDelta(piece) for piece in [" today", "?"]),
    UsageReport(input_tokens=19, output_tokens=10),
    Finish("stop"),
]
OPENAI_TOOLS: list[ProviderEvent] = [
    ToolCallDone(
        ToolCall("call_DdmO9pD3xa9XTPNJ32zg2hcA", "get_weather", {"location": "Paris, France"})
    ),
    ToolCallDone(
        ToolCall("call_ABRPCpAkLqHN2FWJBy4ANrOp", "get_weather", {"location": "Bogotá, Colombia"})
    ),
    UsageReport(input_tokens=82, output_tokens=51),
    Finish("tool_calls"),
]
ANTHROPIC_THINKING_TOOLS: list[ProviderEvent] = [
    ThinkingDelta("The user wants the weather in San Francisco."),
    ThinkingDelta(" I'll call get_weather with the city and state — in °F."),
    TextDelta("Okay, let's check the weather for San Francisco, CA:"),
    ToolCallDone(
        ToolCall(
            "toolu_01T1x1fJ34qAmk2tNTrN7Up6",
            "get_weather",
            {"location": "San Francisco, CA", "unit": "fahrenheit"},
        )
    ),
    # Input tokens count the cached prompt too: 472 + 0 created + 100 read.
    UsageReport(input_tokens=572, output_tokens=89),
    Finish("tool_calls"),
]
SAMPLES = [
    ("openai", "openai_chat_stream_text.txt", OPENAI_TEXT),
    ("openai", "openai_chat_stream_tools.txt", OPENAI_TOOLS),
    ("anthropic", "anthropic_messages_stream_thinking_tools.txt", ANTHROPIC_THINKING_TOOLS),
]
# How the bytes reach the adapter: in one piece, in 7-byte pieces (cutting lines, JSON and
# UTF-8 characters apart), and with CRLF line ends, which SSE allows.
DELIVERIES = ["whole", "pieces", "crlf"]


class Replay:
    """An ASGI app that answers every request with ``body`` as ``text/event-stream``,
    written in ``piece``-byte chunks, and keeps each request's path and JSON body."""

    def __init__(self, body: bytes, piece: int | None = None) -> None:
        self.body = body
        self.piece = piece or len(body)
        self.requests: list[tuple[str, Any]] = []

    async def __call__(self, scope: dict[str, Any], receive: Any, send: Any) -> None:
        assert scope["type"] == "http"
        received, more = b"", True
        while more:
            message = await receive()
            received += message.get("body", b"")
            more = message.get("more_body", False)
        self.requests.append((scope["path"], orjson.loads(received)))
        headers = [(b"content-type", b"text/event-stream; charset=utf-8")]
        await send({"type": "http.response.start", "status": 200, "headers": headers})
        for start in range(0, len(self.body), self.piece):
            chunk = self.body[start : start + self.piece]
            await send({"type": "http.response.body", "body": chunk, "more_body": True})
        await send({"type": "http.response.body", "body": b""})


def delivered(name: str, delivery: str) -> Replay:
    body = (WIRE / name).read_bytes()
    if delivery == "crlf":
        return Replay(body.replace(b"\n", b"\r\n"))
    return Replay(body, piece=7 if delivery == "pieces" else None)


def adapter(kind: str, url: str) -> OpenAICompatProvider | AnthropicProvider:
    if kind == "openai":
        return OpenAICompatProvider("oa", base_url=f"{url}/v1", api_key="sk-sample", timeout=5)
    return AnthropicProvider("an", base_url=url, api_key="sk-sample", timeout=5)


async def replayed(kind: str, replay: Replay) -> AsyncIterator[ProviderEvent]:
    async with serving(replay) as url:
        provider = adapter(kind, url)
        try:
            async for event in provider.stream(REQUEST):
                yield event
        finally:
            await provider.aclose()


@pytest.mark.parametrize("delivery", DELIVERIES)
@pytest.mark.parametrize(("kind", "name", "expected"), SAMPLES, ids=[s[1] for s in SAMPLES])
async def test_the_adapter_reads_the_published_stream(
    kind: str, name: str, expected: list[ProviderEvent], delivery: str
) -> None:
    replay = delivered(name, delivery)
    events = [event async for event in replayed(kind, replay)]
    # The deltas one read brings are one event, and where reads end is up to the network.
    assert merge_deltas(events) == merge_deltas(expected)
    [(path, body)] = replay.requests
    assert path == ("/v1/chat/completions" if kind == "openai" else "/v1/messages")
    assert body["stream"] is True
    if kind == "openai":
        assert body["stream_options"] == {"include_usage": True}


async def test_a_burst_read_at_once_is_one_delta() -> None:
    events = [event async for event in replayed("openai", delivered(SAMPLES[0][1], "whole"))]
    assert events == [TextDelta("Hello! How can I help you today?"), *OPENAI_TEXT[-2:]]


@pytest.mark.parametrize("delivery", DELIVERIES)
async def test_an_anthropic_error_event_fails_the_stream_after_its_text(delivery: str) -> None:
    events: list[ProviderEvent] = []
    replay = delivered("anthropic_messages_stream_error.txt", delivery)

    async def collect() -> None:
        async for event in replayed("anthropic", replay):
            events.append(event)

    with pytest.raises(ProviderError) as caught:
        await collect()
    assert events == [TextDelta("Hello")]
    assert caught.value.status == 529
    assert caught.value.retryable is True
    assert "overloaded_error: Overloaded" in caught.value.message


# --- the fake upstream against the samples --------------------------------------------


def shape(value: Any) -> Any:
    """The keys of ``value`` all the way down; lists by their first item, values erased."""
    if isinstance(value, dict):
        return {key: shape(item) for key, item in value.items()}
    if isinstance(value, list):
        return [shape(item) for item in value[:1]]
    return "null" if value is None else "value"


def sse_events(body: bytes) -> list[tuple[str | None, Any]]:
    """Each event of an SSE body as (its ``event:`` name, its ``data:`` JSON)."""
    events: list[tuple[str | None, Any]] = []
    for block in body.replace(b"\r\n", b"\n").split(b"\n\n"):
        fields = dict(line.split(b": ", 1) for line in block.split(b"\n") if b": " in line)
        if b"data" in fields and fields[b"data"] != b"[DONE]":
            name = fields.get(b"event")
            events.append((name.decode() if name else None, orjson.loads(fields[b"data"])))
    return events


def openai_shapes(body: bytes) -> dict[str, Any]:
    """Each kind of chunk (the shape of its delta, or ``usage``) and its envelope's shape."""
    kinds: dict[str, Any] = {}
    for _, chunk in sse_events(body):
        choices = chunk["choices"]
        kind = repr(shape(choices[0]["delta"])) if choices else "usage"
        envelope = {**chunk, "choices": [{**choice, "delta": {}} for choice in choices]}
        assert kinds.setdefault(kind, shape(envelope)) == shape(envelope), kind
    return kinds


def anthropic_shapes(body: bytes) -> dict[tuple[str, ...], Any]:
    """Each kind of event (its name and the type of its block or delta) and its shape."""
    kinds: dict[tuple[str, ...], Any] = {}
    for name, data in sse_events(body):
        assert name == data["type"]  # the event line names the data's type
        inner = data.get("content_block") or data.get("delta") or {}
        kind = (data["type"], str(inner.get("type", "")))
        assert kinds.setdefault(kind, shape(data)) == shape(data), kind
    return kinds


async def fake_stream(fake: FakeLLM, path: str, body: dict[str, Any]) -> bytes:
    headers = {"authorization": f"Bearer {fake.api_key}"}
    async with httpx.AsyncClient(base_url=fake.root_url, headers=headers) as client:
        response = await client.post(path, json={"model": "fake-model", **body})
    assert response.status_code == 200
    return response.content


TOOL_REPLY = {
    "text": "Okay, let's check.",
    "tool_calls": [
        {"name": "get_weather", "arguments": {"location": "Paris, France"}},
        {"name": "get_weather", "arguments": {"location": "Bogotá, Colombia"}},
    ],
}
ASKED = {"messages": [{"role": "user", "content": "Weather?"}], "stream": True}


async def test_the_fakes_openai_chunks_have_the_published_shape(fake_llm: FakeLLM) -> None:
    fake_llm.add_replies({"text": "Hello! How can I help you today?"}, TOOL_REPLY)
    published = {
        **openai_shapes((WIRE / "openai_chat_stream_text.txt").read_bytes()),
        **openai_shapes((WIRE / "openai_chat_stream_tools.txt").read_bytes()),
    }
    options = {**ASKED, "stream_options": {"include_usage": True}}
    for _ in range(2):
        fake = openai_shapes(await fake_stream(fake_llm, "/v1/chat/completions", options))
        assert len(fake) >= 4  # the role, some content or tool calls, the finish, the usage
        for kind, envelope in fake.items():
            assert kind in published, f"the fake sends a chunk no sample has: {kind}"
            assert envelope == published[kind], kind


async def test_the_fakes_anthropic_events_have_the_published_shape(fake_llm: FakeLLM) -> None:
    fake_llm.add_replies({"thinking": "Let me see.", **TOOL_REPLY})
    published = anthropic_shapes(
        (WIRE / "anthropic_messages_stream_thinking_tools.txt").read_bytes()
    )
    body = await fake_stream(fake_llm, "/v1/messages", {**ASKED, "max_tokens": 1024})
    assert anthropic_shapes(body) == published
