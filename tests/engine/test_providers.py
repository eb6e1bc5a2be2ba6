"""Both provider adapters against the fake LLM over real HTTP, and the retry helper."""

import asyncio
import socket
import time
from collections.abc import AsyncGenerator, AsyncIterator
from contextlib import aclosing
from typing import Any, Literal, cast

import pytest

from roost.engine.providers.anthropic import AnthropicProvider
from roost.engine.providers.base import (
    ChatMessage,
    Finish,
    ModelInfo,
    ModelRequest,
    Provider,
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
from roost.engine.providers.retry import complete, stream_with_retries
from roost.engine.providers.wire import RAW_ARGUMENTS_KEY
from roost.testing import FakeLLM

KINDS = ["openai", "anthropic"]
PNG = "iVBORw0KGgo="


def make_provider(
    kind: str, fake: FakeLLM, *, api_key: str | None = "sk-test", timeout: float = 5
) -> OpenAICompatProvider | AnthropicProvider:
    if kind == "openai":
        return OpenAICompatProvider("oa", base_url=fake.url, api_key=api_key, timeout=timeout)
    return AnthropicProvider("an", base_url=fake.root_url, api_key=api_key, timeout=timeout)


@pytest.fixture(params=KINDS)
async def provider(
    request: pytest.FixtureRequest, fake_llm: FakeLLM
) -> AsyncIterator[OpenAICompatProvider | AnthropicProvider]:
    adapter = make_provider(request.param, fake_llm)
    yield adapter
    await adapter.aclose()


def ask(text: str = "hello", **options: Any) -> ModelRequest:
    return ModelRequest(model="fake-model", messages=[ChatMessage("user", text)], **options)


async def collect(events: AsyncIterator[ProviderEvent]) -> list[ProviderEvent]:
    return [event async for event in events]


def text_of(events: list[ProviderEvent]) -> str:
    return "".join(event.text for event in events if isinstance(event, TextDelta))


async def test_streams_text_then_usage_then_finish(provider: Provider, fake_llm: FakeLLM) -> None:
    fake_llm.add_replies({"text": "Hello there, human.", "usage": {"input_tokens": 42}})
    events = await collect(provider.stream(ask()))
    assert [type(e) for e in merge_deltas(events)] == [TextDelta, UsageReport, Finish]
    assert text_of(events) == "Hello there, human."
    assert events[-2] == UsageReport(input_tokens=42, output_tokens=3)
    assert events[-1] == Finish("stop")
    assert fake_llm.stats().last_request.stream is True


async def test_streams_thinking_before_text(provider: Provider, fake_llm: FakeLLM) -> None:
    fake_llm.add_replies({"thinking": "Think first.", "text": "Answer."})
    events = await collect(provider.stream(ask()))
    kinds = [type(e) for e in merge_deltas(events) if isinstance(e, TextDelta | ThinkingDelta)]
    assert kinds == [ThinkingDelta, TextDelta]
    assert "".join(e.text for e in events if isinstance(e, ThinkingDelta)) == "Think first."


async def test_tokens_streamed_at_a_pace_arrive_one_by_one(
    provider: Provider, fake_llm: FakeLLM
) -> None:
    fake_llm.add_replies({"text": "one two three", "token_delay_ms": 150})
    events = await collect(provider.stream(ask()))
    texts = [e.text for e in events if isinstance(e, TextDelta)]
    # Each token is a read of its own unless this process stalled for 150 ms between two.
    assert len(texts) >= 2 and "".join(texts) == "one two three"


async def test_gathers_parallel_tool_calls(provider: Provider, fake_llm: FakeLLM) -> None:
    arguments = {"path": "src/a b.py", "lines": [1, 2], "note": 'say "hi"'}
    fake_llm.add_replies(
        {
            "text": "Two things.",
            "tool_calls": [
                {"name": "read_file", "arguments": arguments},
                {"name": "list_dir", "arguments": {}},
            ],
        }
    )
    tools = [ToolSpec("read_file", "Read a file", {"type": "object"})]
    events = await collect(provider.stream(ask(tools=tools)))
    calls = [event.call for event in events if isinstance(event, ToolCallDone)]
    assert [(call.name, call.arguments) for call in calls] == [
        ("read_file", arguments),
        ("list_dir", {}),
    ]
    assert len({call.id for call in calls}) == 2
    assert events[-1] == Finish("tool_calls")


async def test_malformed_tool_arguments_arrive_raw(provider: Provider, fake_llm: FakeLLM) -> None:
    fake_llm.add_replies({"tool_calls": [{"name": "run", "arguments": '{"cmd": "ls'}]})
    events = await collect(provider.stream(ask()))
    [call] = [event.call for event in events if isinstance(event, ToolCallDone)]
    assert call.arguments == {RAW_ARGUMENTS_KEY: '{"cmd": "ls'}


async def test_max_tokens_cut_is_a_length_finish(provider: Provider, fake_llm: FakeLLM) -> None:
    fake_llm.add_replies({"text": "one two three four five six"})
    events = await collect(provider.stream(ask(max_tokens=2)))
    assert text_of(events) == "one two "
    assert events[-1] == Finish("length")
    assert fake_llm.stats().last_request.body["max_tokens"] == 2


async def test_anthropic_gets_a_default_max_tokens_and_its_system_field(fake_llm: FakeLLM) -> None:
    provider = make_provider("anthropic", fake_llm)
    await collect(provider.stream(ask(system="You are terse.", temperature=0.2)))
    body = fake_llm.stats().last_request.body
    assert body["max_tokens"] == 4096
    assert body["system"] == "You are terse."
    assert "temperature" not in body  # the Messages API no longer takes it
    assert all(message["role"] != "system" for message in body["messages"])


async def test_openai_gets_the_system_prompt_first_and_usage_requested(fake_llm: FakeLLM) -> None:
    provider = make_provider("openai", fake_llm)
    tools = [ToolSpec("ls", "List", {"type": "object", "properties": {}})]
    await collect(provider.stream(ask(system="You are terse.", tools=tools)))
    body = fake_llm.stats().last_request.body
    assert body["messages"][0] == {"role": "system", "content": "You are terse."}
    assert body["stream_options"] == {"include_usage": True}
    assert body["tools"] == [
        {
            "type": "function",
            "function": {
                "name": "ls",
                "description": "List",
                "parameters": {"type": "object", "properties": {}},
            },
        }
    ]


@pytest.mark.parametrize("kind", KINDS)
async def test_images_go_in_the_providers_wire_shape(kind: str, fake_llm: FakeLLM) -> None:
    provider = make_provider(kind, fake_llm)
    images = [{"data": PNG, "media_type": "image/png"}, {"url": "https://example.org/cat.jpg"}]
    request = ModelRequest("m", [ChatMessage("user", "What is this?", images=images)])
    await collect(provider.stream(request))
    content = fake_llm.stats().last_request.body["messages"][0]["content"]
    if kind == "openai":
        assert content == [
            {"type": "text", "text": "What is this?"},
            {"type": "image_url", "image_url": {"url": f"data:image/png;base64,{PNG}"}},
            {"type": "image_url", "image_url": {"url": "https://example.org/cat.jpg"}},
        ]
    else:
        assert content == [
            {"type": "image", "source": {"type": "base64", "media_type": "image/png", "data": PNG}},
            {"type": "image", "source": {"type": "url", "url": "https://example.org/cat.jpg"}},
            {"type": "text", "text": "What is this?"},
        ]


TOOL_ROUND = [
    ChatMessage("user", "List and read."),
    ChatMessage(
        "assistant",
        "On it.",
        tool_calls=[ToolCall("c1", "ls", {"path": "."}), ToolCall("c2", "cat", {"path": "x"})],
    ),
    ChatMessage("tool", "a.txt b.txt", tool_call_id="c1"),
    ChatMessage("tool", "no such file", tool_call_id="c2", is_error=True),
]


async def test_openai_tool_results_round_trip(fake_llm: FakeLLM) -> None:
    fake_llm.add_replies({"text": "Done."})
    events = await collect(make_provider("openai", fake_llm).stream(ModelRequest("m", TOOL_ROUND)))
    assert text_of(events) == "Done."
    messages = fake_llm.stats().last_request.body["messages"]
    assert messages[1] == {
        "role": "assistant",
        "content": "On it.",
        "tool_calls": [
            {
                "id": "c1",
                "type": "function",
                "function": {"name": "ls", "arguments": '{"path":"."}'},
            },
            {
                "id": "c2",
                "type": "function",
                "function": {"name": "cat", "arguments": '{"path":"x"}'},
            },
        ],
    }
    assert messages[2:] == [
        {"role": "tool", "tool_call_id": "c1", "content": "a.txt b.txt"},
        {"role": "tool", "tool_call_id": "c2", "content": "no such file"},
    ]


async def test_anthropic_tool_results_round_trip(fake_llm: FakeLLM) -> None:
    fake_llm.add_replies({"text": "Done."})
    history = [*TOOL_ROUND, ChatMessage("user", "And then?")]
    provider = make_provider("anthropic", fake_llm)
    events = await collect(provider.stream(ModelRequest("m", history)))
    assert text_of(events) == "Done."
    messages = fake_llm.stats().last_request.body["messages"]
    assert [message["role"] for message in messages] == ["user", "assistant", "user"]
    assert messages[1]["content"] == [
        {"type": "text", "text": "On it."},
        {"type": "tool_use", "id": "c1", "name": "ls", "input": {"path": "."}},
        {"type": "tool_use", "id": "c2", "name": "cat", "input": {"path": "x"}},
    ]
    assert messages[2]["content"] == [
        {"type": "tool_result", "tool_use_id": "c1", "content": "a.txt b.txt"},
        {"type": "tool_result", "tool_use_id": "c2", "content": "no such file", "is_error": True},
        {"type": "text", "text": "And then?"},
    ]


async def test_anthropic_merges_same_role_turns_and_skips_empty_ones(fake_llm: FakeLLM) -> None:
    history = [
        ChatMessage("user", "first"),
        ChatMessage("user", "second"),
        ChatMessage("assistant", ""),
        ChatMessage("user", "third"),
    ]
    await collect(make_provider("anthropic", fake_llm).stream(ModelRequest("m", history)))
    assert fake_llm.stats().last_request.body["messages"] == [
        {
            "role": "user",
            "content": [
                {"type": "text", "text": "first"},
                {"type": "text", "text": "second"},
                {"type": "text", "text": "third"},
            ],
        }
    ]


@pytest.mark.parametrize(
    ("fault", "status", "retryable", "retry_after", "words"),
    [
        ({"fault": 401}, 401, False, None, "key was rejected"),
        ({"fault": 403}, 403, False, None, "key was rejected"),
        ({"fault": 429, "retry_after": 2}, 429, True, 2.0, "rate limited"),
        ({"fault": 500}, 500, True, None, "server error"),
        ({"fault": 529}, 529, True, None, "server error"),
        ({"fault": 400}, 400, False, None, "refused"),
    ],
)
async def test_http_faults_become_provider_errors(
    provider: Provider,
    fake_llm: FakeLLM,
    fault: dict[str, Any],
    status: int,
    retryable: bool,
    retry_after: float | None,
    words: str,
) -> None:
    fake_llm.add_replies(fault)
    with pytest.raises(ProviderError) as caught:
        await collect(provider.stream(ask()))
    error = caught.value
    assert (error.provider, error.status) == (provider.id, status)
    assert (error.retryable, error.retry_after) == (retryable, retry_after)
    assert words in error.message


@pytest.mark.parametrize("kind", KINDS)
async def test_without_a_key_no_credentials_are_sent(kind: str, fake_llm: FakeLLM) -> None:
    provider = make_provider(kind, fake_llm, api_key=None)
    with pytest.raises(ProviderError, match="no API key is configured") as caught:
        await collect(provider.stream(ask()))
    assert caught.value.status == 401
    assert fake_llm.stats().last_request.auth is None


async def collect_into(stream: AsyncIterator[ProviderEvent], into: list[ProviderEvent]) -> None:
    """Gather a stream's events into ``into``: what came before a failure is kept."""
    async for event in stream:
        into.append(event)


async def test_a_stream_cut_midway_is_not_retryable(provider: Provider, fake_llm: FakeLLM) -> None:
    fake_llm.add_replies({"text": "one two three", "fault": "drop", "fault_after_tokens": 2})
    events: list[ProviderEvent] = []
    with pytest.raises(ProviderError, match="stream was cut") as caught:
        await collect_into(provider.stream(ask()), events)
    assert text_of(events) == "one two "
    assert caught.value.retryable is False


async def test_a_hang_is_bounded_by_the_timeout(fake_llm: FakeLLM) -> None:
    fake_llm.add_replies({"fault": "hang"}, {"fault": "hang", "fault_after_tokens": 1})
    for kind in KINDS:
        provider = make_provider(kind, fake_llm, timeout=0.2)
        with pytest.raises(ProviderError, match=r"no answer within|stalled") as caught:
            await collect(provider.stream(ask()))
        assert caught.value.retryable is False
    stats = await fake_llm.wait_for(lambda s: s.streams_open == 0)
    assert stats.streams_aborted == 2


@pytest.mark.parametrize("kind", KINDS)
async def test_a_refused_connection_is_retryable(kind: str) -> None:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        port = probe.getsockname()[1]
    base = f"http://127.0.0.1:{port}"
    provider: Provider = (
        OpenAICompatProvider("oa", base_url=f"{base}/v1", api_key="k")
        if kind == "openai"
        else AnthropicProvider("an", base_url=base, api_key="k")
    )
    with pytest.raises(ProviderError, match="could not connect") as caught:
        await collect(provider.stream(ask()))
    assert caught.value.retryable is True


async def test_closing_the_stream_closes_the_upstream_request(
    provider: Provider, fake_llm: FakeLLM
) -> None:
    fake_llm.add_replies({"tokens": 1000, "token_delay_ms": 5})
    # The adapters' streams are async generators, which can be closed.
    stream = cast(AsyncGenerator[ProviderEvent, None], provider.stream(ask()))
    async with aclosing(stream) as events:
        async for event in events:
            assert isinstance(event, TextDelta)
            break
    stats = await fake_llm.wait_for(lambda s: s.streams_open == 0, within=1)
    assert (stats.streams_aborted, stats.streams_completed) == (1, 0)


async def test_cancelling_the_consumer_closes_the_upstream_request(
    provider: Provider, fake_llm: FakeLLM
) -> None:
    fake_llm.add_replies({"tokens": 1000, "token_delay_ms": 5})
    first = asyncio.Event()

    async def consume() -> None:
        async for _event in provider.stream(ask()):
            first.set()

    task = asyncio.create_task(consume())
    await first.wait()
    task.cancel()
    with pytest.raises(asyncio.CancelledError):
        await task
    stats = await fake_llm.wait_for(lambda s: s.streams_open == 0, within=1)
    assert (stats.streams_aborted, stats.streams_completed) == (1, 0)


async def test_cancelling_a_consumer_between_retried_events_closes_the_upstream_request(
    provider: Provider, fake_llm: FakeLLM
) -> None:
    fake_llm.add_replies({"tokens": 1000, "token_delay_ms": 5})
    first = asyncio.Event()

    async def consume() -> None:
        async for _event in stream_with_retries(provider, ask()):
            first.set()
            await asyncio.sleep(10)  # cancelled here, outside the generator, as a runner would be

    task = asyncio.create_task(consume())
    await first.wait()
    task.cancel()
    with pytest.raises(asyncio.CancelledError):
        await task
    stats = await fake_llm.wait_for(lambda s: s.streams_open == 0, within=1)
    assert stats.streams_aborted == 1


@pytest.mark.parametrize("fault", [{"fault": 429}, {"fault": 500}, {"fault": "drop"}])
async def test_retries_before_the_first_event(
    provider: Provider, fake_llm: FakeLLM, fault: dict[str, Any]
) -> None:
    fake_llm.add_replies(fault, {"text": "Recovered."})
    events = await collect(stream_with_retries(provider, ask(), base_delay=0.001))
    assert text_of(events) == "Recovered."
    assert fake_llm.stats().requests == 2


async def test_no_retry_once_an_event_was_yielded(provider: Provider, fake_llm: FakeLLM) -> None:
    fake_llm.add_replies({"text": "a b c", "fault": "drop", "fault_after_tokens": 1}, {"text": "x"})
    events: list[ProviderEvent] = []
    with pytest.raises(ProviderError):
        await collect_into(stream_with_retries(provider, ask(), base_delay=0.001), events)
    assert text_of(events) == "a "
    assert fake_llm.stats().requests == 1


class FailsAfterFirstEvent:
    """A provider whose retryable failure comes after an event: retrying would repeat text."""

    id = "flaky"
    kind: Literal["openai", "anthropic"] = "openai"

    def __init__(self) -> None:
        self.calls = 0

    async def stream(self, _request: ModelRequest) -> AsyncIterator[ProviderEvent]:
        self.calls += 1
        yield TextDelta("partial ")
        raise ProviderError("overloaded", provider=self.id, status=529, retryable=True)

    async def list_models(self) -> list[ModelInfo]:
        return []

    async def aclose(self) -> None:
        pass


async def test_a_retryable_error_after_an_event_propagates() -> None:
    flaky = FailsAfterFirstEvent()
    with pytest.raises(ProviderError, match="overloaded"):
        await collect(stream_with_retries(flaky, ask(), base_delay=0.001))
    assert flaky.calls == 1


async def test_retry_after_is_honoured(fake_llm: FakeLLM) -> None:
    fake_llm.add_replies({"fault": 429, "retry_after": 0.2}, {"text": "ok"})
    provider = make_provider("openai", fake_llm)
    started = time.monotonic()
    events = await collect(stream_with_retries(provider, ask(), base_delay=0.001))
    assert time.monotonic() - started >= 0.19
    assert text_of(events) == "ok"


async def test_retry_after_is_capped(fake_llm: FakeLLM) -> None:
    fake_llm.add_replies({"fault": 429, "retry_after": 60}, {"text": "ok"})
    provider = make_provider("anthropic", fake_llm)
    events = await collect(stream_with_retries(provider, ask(), max_delay=0.01))
    assert text_of(events) == "ok"


async def test_gives_up_after_the_attempts(provider: Provider, fake_llm: FakeLLM) -> None:
    fake_llm.add_replies(*[{"fault": 500}] * 3, {"text": "too late"})
    with pytest.raises(ProviderError) as caught:
        await collect(stream_with_retries(provider, ask(), attempts=3, base_delay=0.001))
    assert caught.value.status == 500
    assert fake_llm.stats().requests == 3


async def test_an_error_that_is_not_retryable_is_not_retried(
    provider: Provider, fake_llm: FakeLLM
) -> None:
    fake_llm.add_replies({"fault": 401}, {"text": "never"})
    with pytest.raises(ProviderError):
        await collect(stream_with_retries(provider, ask(), base_delay=0.001))
    assert fake_llm.stats().requests == 1


async def test_complete_drains_text_and_usage(provider: Provider, fake_llm: FakeLLM) -> None:
    fake_llm.add_replies({"text": "A short title", "usage": {"input_tokens": 9}})
    text, usage = await complete(provider, ask("name this chat"))
    assert text == "A short title"
    assert usage == UsageReport(input_tokens=9, output_tokens=3)


async def test_list_models_is_the_live_list(provider: Provider, fake_llm: FakeLLM) -> None:
    fake_llm.configure(models=["m-one", "m-two"])
    models = await provider.list_models()
    assert [model.id for model in models] == ["m-one", "m-two"]
    assert {model.provider for model in models} == {provider.id}


async def test_list_models_refused_key_raises(provider: Provider, fake_llm: FakeLLM) -> None:
    keyless = make_provider(provider.kind, fake_llm, api_key=None)
    with pytest.raises(ProviderError) as caught:
        await keyless.list_models()
    assert caught.value.status == 401


async def test_anthropic_list_models_is_empty_without_the_endpoint(fake_llm: FakeLLM) -> None:
    provider = AnthropicProvider("an", base_url=f"{fake_llm.root_url}/nowhere", api_key="k")
    assert await provider.list_models() == []


@pytest.mark.parametrize("kind", KINDS)
@pytest.mark.parametrize("key", ["sk-clé", "sk-\u2028x", "sk-\nInjected: yes"])
async def test_a_key_no_header_can_carry_is_a_provider_error_not_a_crash(
    kind: str, key: str, fake_llm: FakeLLM
) -> None:
    """A key stored before keys were checked must fail its calls cleanly, as a bad key."""
    adapter = make_provider(kind, fake_llm, api_key=key)
    try:
        with pytest.raises(ProviderError) as streamed:
            await collect(adapter.stream(ask()))
        with pytest.raises(ProviderError) as listed:
            await adapter.list_models()
    finally:
        await adapter.aclose()
    for caught in (streamed.value, listed.value):
        assert caught.status == 401 and not caught.retryable
        assert "API key" in caught.message and key not in caught.message
    assert fake_llm.stats().requests == 0


def test_merge_deltas_joins_each_run_of_one_kind_only() -> None:
    events: list[ProviderEvent] = [
        ThinkingDelta("a"),
        ThinkingDelta("b"),
        TextDelta("c"),
        TextDelta("d"),
        TextDelta("e"),
        ToolCallDone(ToolCall("1", "t", {})),
        TextDelta("f"),
        UsageReport(1, 2),
        Finish("stop"),
    ]
    assert merge_deltas(events) == [
        ThinkingDelta("ab"),
        TextDelta("cde"),
        ToolCallDone(ToolCall("1", "t", {})),
        TextDelta("f"),
        UsageReport(1, 2),
        Finish("stop"),
    ]
    assert merge_deltas([TextDelta("x")]) == [TextDelta("x")]
    assert merge_deltas([]) == []


async def test_the_environments_proxy_is_followed_and_no_proxy_is_not(
    fake_llm: FakeLLM, monkeypatch: pytest.MonkeyPatch
) -> None:
    # A plain-HTTP proxy that answers every request itself, keeping its request line.
    request_lines: list[bytes] = []
    body = b'data: {"choices":[{"index":0,"delta":{"content":"via proxy"}}]}\n\ndata: [DONE]\n\n'

    async def answer(reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        request_lines.append(await reader.readline())
        while (await reader.readline()).strip():
            pass  # the headers; the body is not needed
        writer.write(
            b"HTTP/1.1 200 OK\r\ncontent-type: text/event-stream\r\n"
            + f"content-length: {len(body)}\r\nconnection: close\r\n\r\n".encode()
            + body
        )
        await writer.drain()
        writer.close()

    proxy = await asyncio.start_server(answer, "127.0.0.1", 0)
    port = proxy.sockets[0].getsockname()[1]
    try:
        monkeypatch.setenv("HTTP_PROXY", f"http://127.0.0.1:{port}")
        monkeypatch.setenv("NO_PROXY", "")
        behind = OpenAICompatProvider("oa", base_url="http://models.invalid/v1", api_key="k")
        events = await collect(behind.stream(ask()))
        await behind.aclose()
        assert text_of(events) == "via proxy"
        assert request_lines == [b"POST http://models.invalid/v1/chat/completions HTTP/1.1\r\n"]

        monkeypatch.setenv("NO_PROXY", "127.0.0.1")  # the fake is not to be proxied
        fake_llm.add_replies({"text": "direct"})
        direct = make_provider("openai", fake_llm)
        events = await collect(direct.stream(ask()))
        await direct.aclose()
        assert text_of(events) == "direct" and len(request_lines) == 1
    finally:
        proxy.close()
        await proxy.wait_closed()
