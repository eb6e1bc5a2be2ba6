"""OpenAI's chat completions and models at /v1, driven by the official `openai` SDK over
a real server."""

from typing import Any

import httpx
import openai
import pytest

from roost.testing import FakeLLM
from tests.support.apps import ONE_DATABASE
from tests.support.openai_sdk import register_lookup, sent_messages

pytestmark = ONE_DATABASE


async def test_every_agent_is_a_model(sdk: openai.AsyncOpenAI) -> None:
    models = [model.id async for model in sdk.models.list()]
    assert "roost/assistant" in models
    assert (await sdk.models.retrieve("roost/assistant")).owned_by == "roost"
    with pytest.raises(openai.NotFoundError) as missing:
        await sdk.models.retrieve("roost/nobody")
    assert missing.value.body["code"] == "AGENT_NOT_FOUND"  # type: ignore[index]


async def test_a_completion_answers_the_whole_conversation(
    sdk: openai.AsyncOpenAI, fake_llm: FakeLLM, live_server: str
) -> None:
    fake_llm.add_replies({"text": "Paris, as before."})
    completion = await sdk.chat.completions.create(
        model="roost/assistant",
        messages=[
            {"role": "system", "content": "Answer in five words."},
            {"role": "user", "content": "Capital of France?"},
            {"role": "assistant", "content": "Paris."},
            {"role": "user", "content": [{"type": "text", "text": "And still?"}]},
        ],
        temperature=0.2,  # accepted; the agent's settings decide
    )
    assert completion.choices[0].message.content == "Paris, as before."
    assert completion.choices[0].finish_reason == "stop"
    assert completion.model == "roost/assistant"
    assert completion.id.startswith("chatcmpl-")
    assert completion.usage is not None and completion.usage.completion_tokens > 0
    sent = sent_messages(fake_llm)
    assert "Answer in five words." in sent[0]["content"] and sent[0]["role"] == "system"
    assert [(m["role"], m["content"]) for m in sent[1:]] == [
        ("user", "Capital of France?"),
        ("assistant", "Paris."),
        ("user", "And still?"),
    ]
    # The exchange is kept, in a session of its own, out of the session list.
    roost = completion.model_extra["roost"]  # type: ignore[index]
    async with httpx.AsyncClient(base_url=live_server) as client:
        stored = (await client.get(f"/api/sessions/{roost['session_id']}/messages")).json()
        listed = (await client.get("/api/sessions")).json()["data"]
    assert [m["content"] for m in stored["data"]][-2:] == ["And still?", "Paris, as before."]
    assert roost["session_id"] not in [s["id"] for s in listed]


async def test_a_streamed_completion_sends_chunks_then_usage_then_done(
    sdk: openai.AsyncOpenAI, fake_llm: FakeLLM
) -> None:
    fake_llm.add_replies({"text": "one two three four five six", "token_delay_ms": 2})
    stream = await sdk.chat.completions.create(
        model="assistant",
        messages=[{"role": "user", "content": "Count"}],
        stream=True,
        stream_options={"include_usage": True},
    )
    chunks = [chunk async for chunk in stream]
    assert chunks[0].choices[0].delta.role == "assistant"
    text = "".join(c.choices[0].delta.content or "" for c in chunks if c.choices)
    assert text == "one two three four five six"
    assert len([c for c in chunks if c.choices and c.choices[0].delta.content]) > 1
    finishing = [c.choices[0].finish_reason for c in chunks if c.choices]
    assert finishing[-1] == "stop" and set(finishing[:-1]) == {None}
    assert not chunks[-1].choices and chunks[-1].usage is not None
    assert chunks[-1].usage.total_tokens > 0
    assert len({c.id for c in chunks}) == 1


async def test_the_agent_runs_its_tools_on_the_server(
    app: Any, sdk: openai.AsyncOpenAI, fake_llm: FakeLLM
) -> None:
    register_lookup(app)
    fake_llm.add_replies(
        {"text": "Checking.", "tool_calls": [{"name": "lookup", "arguments": {}}]},
        {"text": "It is sunny."},
    )
    stream = await sdk.chat.completions.create(
        model="roost/assistant", messages=[{"role": "user", "content": "Weather?"}], stream=True
    )
    text = "".join([c.choices[0].delta.content or "" async for c in stream if c.choices])
    assert text == "Checking.\n\nIt is sunny."
    assert sent_messages(fake_llm)[-1]["role"] == "tool"


async def test_a_cut_answer_finishes_with_length(
    sdk: openai.AsyncOpenAI, fake_llm: FakeLLM
) -> None:
    fake_llm.add_replies({"text": "Too long to", "finish": "length"})
    completion = await sdk.chat.completions.create(
        model="roost/assistant", messages=[{"role": "user", "content": "Tell me all"}]
    )
    assert completion.choices[0].finish_reason == "length"


async def test_a_provider_failure_is_an_error_the_sdk_raises(
    sdk: openai.AsyncOpenAI, fake_llm: FakeLLM
) -> None:
    fake_llm.add_replies({"fault": 401})
    with pytest.raises(openai.APIStatusError) as failed:
        await sdk.chat.completions.create(
            model="roost/assistant", messages=[{"role": "user", "content": "Hi"}]
        )
    assert failed.value.status_code == 502
    fake_llm.add_replies({"fault": 401})
    stream = await sdk.chat.completions.create(
        model="roost/assistant", messages=[{"role": "user", "content": "Hi"}], stream=True
    )
    with pytest.raises(openai.APIError, match="401"):
        async for _ in stream:
            pass


@pytest.mark.parametrize(
    ("messages", "extra", "expected"),
    [
        ([{"role": "user", "content": "Hi"}], {"tools": [{"type": "function"}]}, 400),
        ([{"role": "assistant", "content": "Hi"}], {}, 400),
        ([{"role": "tool", "content": "42", "tool_call_id": "c"}], {}, 400),
        ([], {}, 422),
        ([{"role": "user", "content": [{"type": "input_audio"}]}], {}, 422),
        (
            [{"role": "user", "content": [{"type": "image_url", "image_url": {"url": "x"}}]}],
            {},
            422,
        ),
        ([{"role": "user", "content": "Hi"}], {"n": 2}, 422),
    ],
)
async def test_what_cannot_be_honoured_is_refused(
    live_server: str, messages: list[Any], extra: dict[str, Any], expected: int
) -> None:
    body = {"model": "roost/assistant", "messages": messages, **extra}
    async with httpx.AsyncClient(base_url=live_server) as client:
        response = await client.post("/v1/chat/completions", json=body)
    assert response.status_code == expected, response.text
    assert set(response.json()["error"]) >= {"code", "message"}


async def test_an_unknown_agent_is_not_found(live_server: str) -> None:
    async with httpx.AsyncClient(base_url=live_server) as client:
        response = await client.post(
            "/v1/chat/completions",
            json={"model": "roost/ghost", "messages": [{"role": "user", "content": "Hi"}]},
        )
    assert response.status_code == 404
    assert response.json()["error"]["code"] == "AGENT_NOT_FOUND"
