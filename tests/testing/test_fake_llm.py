"""The fake LLM speaks both wire formats well enough for the official SDKs' own clients."""

import asyncio
import json
import socket
import subprocess
import sys
import time

import anthropic
import httpx
import openai
import pytest
from anthropic.types import MessageParam
from openai.types.chat import ChatCompletionMessageParam

import roost.testing
from roost.testing import FakeLLM

# The same message in each SDK's own type.
USER: list[ChatCompletionMessageParam] = [{"role": "user", "content": "hello there, fake model"}]
ANTHROPIC_USER: list[MessageParam] = [{"role": "user", "content": "hello there, fake model"}]


def openai_client(fake: FakeLLM, timeout: float = 600) -> openai.AsyncOpenAI:
    return openai.AsyncOpenAI(
        base_url=fake.url, api_key=fake.api_key, max_retries=0, timeout=timeout
    )


def anthropic_client(fake: FakeLLM) -> anthropic.AsyncAnthropic:
    return anthropic.AsyncAnthropic(base_url=fake.root_url, api_key=fake.api_key, max_retries=0)


def test_public_names_are_pinned() -> None:
    assert roost.testing.__all__ == [
        "FakeConfig",
        "FakeLLM",
        "FakeStats",
        "RecordedRequest",
        "create_app",
    ]


async def test_openai_stream_carries_thinking_text_usage_and_finish(fake_llm: FakeLLM) -> None:
    fake_llm.add_replies({"thinking": "Let me see.", "text": "Hello, world! How are you?"})
    stream = await openai_client(fake_llm).chat.completions.create(
        model="gpt-fake", messages=USER, stream=True, stream_options={"include_usage": True}
    )
    chunks = [chunk async for chunk in stream]

    assert chunks[0].choices[0].delta.role == "assistant"
    deltas = [chunk.choices[0].delta for chunk in chunks if chunk.choices]
    assert "".join(d.content or "" for d in deltas) == "Hello, world! How are you?"
    thinking = "".join(getattr(d, "reasoning_content", None) or "" for d in deltas)
    assert thinking == "Let me see."
    assert [c.choices[0].finish_reason for c in chunks if c.choices][-1] == "stop"
    assert chunks[-1].choices == []
    assert chunks[-1].usage is not None
    assert chunks[-1].usage.completion_tokens == 3 + 5
    assert chunks[-1].usage.prompt_tokens == 4


async def test_openai_stream_helper_gathers_parallel_tool_calls(fake_llm: FakeLLM) -> None:
    fake_llm.add_replies(
        {
            "text": "Looking.",
            "tool_calls": [
                {"name": "read_file", "arguments": {"path": 'a "quoted" name.txt'}},
                {"name": "list_dir", "arguments": {"path": ".", "depth": 2}, "id": "call_mine"},
            ],
        }
    )
    client = openai_client(fake_llm)
    async with client.chat.completions.stream(model="gpt-fake", messages=USER) as stream:
        completion = await stream.get_final_completion()

    choice = completion.choices[0]
    assert choice.finish_reason == "tool_calls"
    assert choice.message.content == "Looking."
    calls = choice.message.tool_calls or []
    assert [call.function.name for call in calls] == ["read_file", "list_dir"]
    assert json.loads(calls[0].function.arguments) == {"path": 'a "quoted" name.txt'}
    assert json.loads(calls[1].function.arguments) == {"path": ".", "depth": 2}
    assert calls[1].id == "call_mine"
    assert calls[0].id != calls[1].id


async def test_openai_non_streamed_completion(fake_llm: FakeLLM) -> None:
    fake_llm.add_replies({"text": "All done.", "tool_calls": [{"name": "ls", "arguments": {}}]})
    completion = await openai_client(fake_llm).chat.completions.create(
        model="gpt-fake", messages=USER
    )
    assert completion.object == "chat.completion"
    assert completion.choices[0].message.content == "All done."
    assert completion.choices[0].finish_reason == "tool_calls"
    assert completion.usage is not None
    assert completion.usage.completion_tokens == 2 + 1 + 1


async def test_max_tokens_cuts_the_answer_with_a_length_finish(fake_llm: FakeLLM) -> None:
    fake_llm.add_replies({"text": "one two three four five"})
    completion = await openai_client(fake_llm).chat.completions.create(
        model="gpt-fake", messages=USER, max_tokens=3
    )
    assert completion.choices[0].message.content == "one two three "
    assert completion.choices[0].finish_reason == "length"


async def test_anthropic_stream_accumulates_thinking_text_and_tool_use(fake_llm: FakeLLM) -> None:
    fake_llm.add_replies(
        {
            "thinking": "Which file?",
            "text": "Reading it now.",
            "tool_calls": [
                {"name": "read_file", "arguments": {"path": "notes.md"}},
                {"name": "grep", "arguments": {"pattern": "a{2,}"}},
            ],
            "usage": {"input_tokens": 321},
        }
    )
    async with anthropic_client(fake_llm).messages.stream(
        model="claude-fake", max_tokens=100, messages=ANTHROPIC_USER
    ) as stream:
        kinds = [event.type async for event in stream]
        message = await stream.get_final_message()

    assert kinds[0] == "message_start"
    assert kinds[-1] == "message_stop"
    assert [block.type for block in message.content] == ["thinking", "text", "tool_use", "tool_use"]
    thinking, text, first, second = message.content
    assert thinking.type == "thinking" and thinking.thinking == "Which file?"
    assert text.type == "text" and text.text == "Reading it now."
    assert first.type == "tool_use" and first.input == {"path": "notes.md"}
    assert second.type == "tool_use" and second.input == {"pattern": "a{2,}"}
    assert first.id != second.id
    assert message.stop_reason == "tool_use"
    assert message.usage.input_tokens == 321
    assert message.usage.output_tokens == 2 + 3 + (1 + 3) + (1 + 3)


async def test_anthropic_non_streamed_message(fake_llm: FakeLLM) -> None:
    fake_llm.add_replies({"text": "Cut short", "finish": "length"})
    message = await anthropic_client(fake_llm).messages.create(
        model="claude-fake", max_tokens=100, system="Be brief.", messages=ANTHROPIC_USER
    )
    assert message.type == "message"
    assert message.content[0].type == "text" and message.content[0].text == "Cut short"
    assert message.stop_reason == "max_tokens"
    assert message.usage.output_tokens == 2


async def test_models_are_listed_in_each_providers_shape(fake_llm: FakeLLM) -> None:
    fake_llm.configure(models=["alpha-1", "beta-2"])
    openai_models = [model.id async for model in openai_client(fake_llm).models.list()]
    anthropic_models = [model async for model in anthropic_client(fake_llm).models.list()]
    assert openai_models == ["alpha-1", "beta-2"]
    assert [model.id for model in anthropic_models] == ["alpha-1", "beta-2"]
    assert anthropic_models[0].display_name == "Alpha 1"


@pytest.mark.parametrize(
    ("status", "openai_error", "anthropic_error"),
    [
        (401, openai.AuthenticationError, anthropic.AuthenticationError),
        (429, openai.RateLimitError, anthropic.RateLimitError),
        (500, openai.InternalServerError, anthropic.InternalServerError),
        (529, openai.InternalServerError, anthropic.OverloadedError),
    ],
)
async def test_faults_raise_the_sdks_typed_errors(
    fake_llm: FakeLLM,
    status: int,
    openai_error: type[openai.APIStatusError],
    anthropic_error: type[anthropic.APIStatusError],
) -> None:
    fault = {"fault": status, "retry_after": 3}
    fake_llm.add_replies(fault, fault)
    with pytest.raises(openai_error) as caught:
        await openai_client(fake_llm).chat.completions.create(model="m", messages=USER)
    assert caught.value.status_code == status
    assert caught.value.response.headers["retry-after"] == "3"
    assert isinstance(caught.value.body, dict) and caught.value.body["message"]
    with pytest.raises(anthropic_error) as anthropic_caught:
        await anthropic_client(fake_llm).messages.create(
            model="m", max_tokens=5, messages=ANTHROPIC_USER
        )
    assert anthropic_caught.value.status_code == status
    assert anthropic_caught.value.type is not None


async def test_a_request_without_a_key_gets_401_and_leaves_the_queue_alone(
    fake_llm: FakeLLM,
) -> None:
    fake_llm.add_replies({"text": "for a keyed request"})
    async with httpx.AsyncClient(base_url=fake_llm.root_url) as http:
        chat = await http.post("/v1/chat/completions", json={"model": "m", "messages": USER})
        messages = await http.post(
            "/v1/messages", json={"model": "m", "max_tokens": 5, "messages": USER}
        )
    assert chat.status_code == 401
    assert chat.json()["error"]["code"] == "invalid_api_key"
    assert messages.status_code == 401
    assert messages.json() == {
        "type": "error",
        "error": {"type": "authentication_error", "message": "You didn't provide an API key."},
    }
    stats = fake_llm.stats()
    assert stats.replies_queued == 1
    assert stats.last_request.auth is None


async def test_requests_are_recorded_without_their_credentials(fake_llm: FakeLLM) -> None:
    await anthropic_client(fake_llm).messages.create(
        model="claude-x", max_tokens=5, messages=ANTHROPIC_USER
    )
    request = fake_llm.stats().last_request
    assert (request.api, request.path, request.model, request.stream) == (
        "anthropic",
        "/v1/messages",
        "claude-x",
        False,
    )
    assert request.auth in ("bearer", "x-api-key")
    assert "authorization" not in request.headers and "x-api-key" not in request.headers
    assert request.headers["anthropic-version"]
    assert request.body["messages"] == USER


async def test_paths_without_the_v1_prefix_work(fake_llm: FakeLLM) -> None:
    client = openai.AsyncOpenAI(base_url=fake_llm.root_url, api_key="k", max_retries=0)
    completion = await client.chat.completions.create(model="m", messages=USER)
    assert completion.choices[0].message.content


async def test_default_reply_echoes_the_last_user_message(fake_llm: FakeLLM) -> None:
    fake_llm.configure(tokens=12)
    completion = await openai_client(fake_llm).chat.completions.create(
        model="m",
        messages=[
            *USER,
            {"role": "assistant", "content": "ok"},
            {"role": "user", "content": "ping"},
        ],
    )
    content = completion.choices[0].message.content or ""
    assert content.startswith("Echo: ping ")
    assert completion.usage is not None and completion.usage.completion_tokens == 12


async def test_match_routes_a_reply_to_the_request_that_contains_it(fake_llm: FakeLLM) -> None:
    fake_llm.add_replies({"text": "plain"}, {"text": "sunny", "match": "weather"})
    client = openai_client(fake_llm)

    async def ask(question: str) -> str | None:
        messages: list[ChatCompletionMessageParam] = [{"role": "user", "content": question}]
        completion = await client.chat.completions.create(model="m", messages=messages)
        return completion.choices[0].message.content

    assert await ask("what is the weather like?") == "sunny"
    assert await ask("anything") == "plain"
    assert (await ask("anything else") or "").startswith("Echo: anything else")


async def test_for_model_routes_a_reply_to_requests_for_that_model(fake_llm: FakeLLM) -> None:
    fake_llm.add_replies(
        {"text": "large one", "for_model": "fake-large", "match": "q1"},
        {"text": "small any", "for_model": "fake-small"},
        {"text": "large any", "for_model": "fake-large"},
    )
    client = openai_client(fake_llm)

    async def ask(model: str, question: str) -> str | None:
        messages: list[ChatCompletionMessageParam] = [{"role": "user", "content": question}]
        completion = await client.chat.completions.create(model=model, messages=messages)
        return completion.choices[0].message.content

    assert await ask("fake-large", "q2") == "large any"  # the q1 reply waits for q1
    assert await ask("fake-small", "q1") == "small any"
    assert await ask("fake-large", "q1") == "large one"
    assert (await ask("fake-large", "q1") or "").startswith("Echo: q1")


async def test_embeddings_are_deterministic_and_close_for_texts_sharing_words(
    fake_llm: FakeLLM,
) -> None:
    client = openai_client(fake_llm)
    texts = ["the cat sat on the mat", "a cat on a mat", "stock prices fell sharply"]
    made = await client.embeddings.create(model="fake-embed", input=texts)  # base64 by default
    vectors = [item.embedding for item in made.data]
    again = await client.embeddings.create(
        model="fake-embed", input=texts[0], encoding_format="float"
    )
    assert again.data[0].embedding == pytest.approx(vectors[0], abs=1e-6)
    assert [len(v) for v in vectors] == [64, 64, 64]

    def cosine(a: list[float], b: list[float]) -> float:
        return sum(x * y for x, y in zip(a, b, strict=True))

    assert cosine(vectors[0], vectors[0]) == pytest.approx(1.0, abs=1e-5)
    assert cosine(vectors[0], vectors[1]) > cosine(vectors[0], vectors[2])
    assert made.usage.prompt_tokens == 6 + 5 + 4
    sized = await client.embeddings.create(model="m", input="x y", dimensions=8)
    assert len(sized.data[0].embedding) == 8
    with pytest.raises(openai.BadRequestError):
        await client.embeddings.create(model="m", input=[])


async def test_anthropic_rules_are_enforced(fake_llm: FakeLLM) -> None:
    client = anthropic_client(fake_llm)
    with pytest.raises(anthropic.BadRequestError, match="alternate"):
        await client.messages.create(
            model="m", max_tokens=5, messages=ANTHROPIC_USER + ANTHROPIC_USER
        )
    async with httpx.AsyncClient(base_url=fake_llm.root_url) as http:
        missing = await http.post(
            "/v1/messages", json={"model": "m", "messages": USER}, headers={"x-api-key": "k"}
        )
    assert missing.status_code == 400
    assert missing.json()["error"]["type"] == "invalid_request_error"


async def read_into(response: httpx.Response, received: bytearray) -> None:
    """Read the body into ``received``: what came before a failure is kept."""
    async for chunk in response.aiter_bytes():
        received += chunk


async def test_drop_cuts_the_connection_after_the_given_tokens(fake_llm: FakeLLM) -> None:
    fake_llm.add_replies({"text": "one two three four", "fault": "drop", "fault_after_tokens": 2})
    body = {"model": "m", "messages": USER, "stream": True}
    received = bytearray()
    async with (
        httpx.AsyncClient(base_url=fake_llm.url, headers={"x-api-key": "k"}) as http,
        http.stream("POST", "/chat/completions", json=body) as response,
    ):
        assert response.status_code == 200
        with pytest.raises(httpx.RemoteProtocolError):
            await read_into(response, received)
    assert b'"one "' in received and b'"two "' in received
    assert b'"three "' not in received and b"[DONE]" not in received
    stats = await fake_llm.wait_for(lambda s: s.streams_open == 0)
    assert (stats.streams_dropped, stats.streams_completed, stats.streams_aborted) == (1, 0, 0)


async def test_drop_cuts_a_non_streamed_answer_midway(fake_llm: FakeLLM) -> None:
    fake_llm.add_replies({"fault": "drop"})
    with pytest.raises(openai.APIConnectionError):
        await openai_client(fake_llm).chat.completions.create(model="m", messages=USER)


async def test_hang_sends_nothing_until_the_client_gives_up(fake_llm: FakeLLM) -> None:
    fake_llm.add_replies({"fault": "hang"})
    with pytest.raises(openai.APITimeoutError):
        await openai_client(fake_llm, timeout=0.2).chat.completions.create(
            model="m", messages=USER, stream=True
        )
    stats = await fake_llm.wait_for(lambda s: s.streams_open == 0)
    assert (stats.streams_started, stats.streams_aborted) == (1, 1)


async def test_closing_a_stream_early_counts_it_aborted(fake_llm: FakeLLM) -> None:
    fake_llm.add_replies({"tokens": 500, "token_delay_ms": 2})
    stream = await openai_client(fake_llm).chat.completions.create(
        model="m", messages=USER, stream=True
    )
    seen = 0
    async for _chunk in stream:
        seen += 1
        if seen == 3:
            break
    assert fake_llm.stats().streams_open == 1
    await stream.close()
    stats = await fake_llm.wait_for(lambda s: s.streams_open == 0)
    assert (stats.streams_started, stats.streams_aborted, stats.streams_completed) == (1, 1, 0)


async def test_a_stream_read_to_the_end_counts_completed(fake_llm: FakeLLM) -> None:
    stream = await anthropic_client(fake_llm).messages.create(
        model="m", max_tokens=50, messages=ANTHROPIC_USER, stream=True
    )
    async for _event in stream:
        pass
    stats = await fake_llm.wait_for(lambda s: s.streams_open == 0)
    assert (stats.streams_completed, stats.streams_aborted) == (1, 0)


async def test_time_to_first_token_delays_the_first_chunk(fake_llm: FakeLLM) -> None:
    fake_llm.configure(ttft_ms=150)
    started = time.monotonic()
    stream = await openai_client(fake_llm).chat.completions.create(
        model="m", messages=USER, stream=True
    )
    async for chunk in stream:
        if chunk.choices and chunk.choices[0].delta.content:
            break
    assert time.monotonic() - started >= 0.14
    await stream.close()


async def test_control_api_over_http(fake_llm: FakeLLM) -> None:
    initial = fake_llm.app.state.config
    async with httpx.AsyncClient(base_url=fake_llm.root_url) as http:
        queued = await http.post("/_fake/replies", json=[{"text": "a"}, {"text": "b"}])
        config = await http.post("/_fake/config", json={"tokens": 7, "token_delay_ms": 1})
        typo = await http.post("/_fake/replies", json={"txet": "oops"})
        stats = await http.get("/_fake/stats")
        reset = await http.post("/_fake/reset")
        after = await http.get("/_fake/stats")
    assert queued.json() == {"queued": 2}
    assert config.json()["tokens"] == 7 and config.json()["token_delay_ms"] == 1
    assert typo.status_code == 400 and "txet" in typo.json()["error"]
    assert stats.json()["replies_queued"] == 2
    assert set(stats.json()) >= {
        "requests",
        "streams_started",
        "streams_completed",
        "streams_aborted",
        "streams_dropped",
        "streams_open",
        "last_requests",
    }
    assert reset.status_code == 200
    assert after.json()["replies_queued"] == 0
    assert fake_llm.app.state.config == initial


async def test_stopping_ends_a_hanging_request_at_once() -> None:
    fake = FakeLLM().start()
    fake.add_replies({"fault": "hang"})
    client = openai_client(fake)
    call = asyncio.create_task(client.chat.completions.create(model="m", messages=USER))
    await fake.wait_for(lambda s: s.requests == 1)
    await asyncio.to_thread(fake.stop)
    with pytest.raises(openai.APIStatusError) as caught:
        await call
    assert caught.value.status_code == 503


def test_sync_context_manager_serves_on_a_free_port() -> None:
    with FakeLLM(tokens=3) as fake:
        response = httpx.post(
            f"{fake.url}/chat/completions",
            json={"model": "m", "messages": USER},
            headers={"authorization": "Bearer k"},
        )
    assert response.json()["choices"][0]["message"]["content"] == "Echo: hello there, "


def test_the_cli_serves_the_fake() -> None:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        port = probe.getsockname()[1]
    command = [sys.executable, "-m", "roost", "fake-llm", "--port", str(port), "--tokens", "4"]
    server = subprocess.Popen(command, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    try:
        deadline = time.monotonic() + 20
        while True:
            try:
                stats = httpx.get(f"http://127.0.0.1:{port}/_fake/stats")
                break
            except httpx.ConnectError:
                assert time.monotonic() < deadline, "roost fake-llm did not start"
                time.sleep(0.05)
        answer = httpx.post(
            f"http://127.0.0.1:{port}/v1/chat/completions",
            json={"model": "m", "messages": USER},
            headers={"authorization": "Bearer k"},
        )
    finally:
        server.terminate()
        server.wait(timeout=10)
    assert stats.json()["requests"] == 0
    assert answer.json()["usage"]["completion_tokens"] == 4
