"""Turns: a message in, the agent's answer out — waited for, streamed or left running."""

from typing import Any

import httpx
import pytest

from roost.testing import FakeLLM
from tests.support.sse import assert_well_formed, parse
from tests.support.turns import new_session

Client = httpx.AsyncClient


async def test_a_message_gets_an_answer(client: Client, fake_llm: FakeLLM) -> None:
    fake_llm.add_replies({"text": "Hi there, friend!"})
    sid = await new_session(client)
    response = await client.post(f"/api/sessions/{sid}/messages", json={"content": "Hello"})
    assert response.status_code == 200, response.text
    body = response.json()
    assert body["message"]["content"] == "Hello" and body["message"]["role"] == "user"
    assert body["reply"]["content"] == "Hi there, friend!"
    assert body["reply"]["status"] == "completed"
    turn = body["turn"]
    assert turn["status"] == "completed" and turn["iterations"] == 1
    assert turn["model"] == "openai/fake-small"
    assert body["message"]["turn_id"] == body["reply"]["turn_id"] == turn["id"]
    assert turn["usage"]["output_tokens"] > 0
    session = (await client.get(f"/api/sessions/{sid}")).json()
    assert session["message_count"] == 2
    assert [m["role"] for m in session["messages"]] == ["user", "assistant"]
    assert session["usage"]["total_tokens"] == turn["usage"]["total_tokens"]
    assert session["status"] == "idle"
    sent = fake_llm.stats().last_requests[-1]
    assert sent.body["messages"][-1] == {"role": "user", "content": "Hello"}


async def test_the_stream_carries_every_event_in_order(client: Client, fake_llm: FakeLLM) -> None:
    fake_llm.add_replies({"text": "one two three", "thinking": "hmm"})
    sid = await new_session(client)
    response = await client.post(
        f"/api/sessions/{sid}/messages",
        json={"content": "count"},
        headers={"Accept": "text/event-stream"},
    )
    assert response.headers["content-type"].startswith("text/event-stream")
    events = parse(response.text)
    assert_well_formed(events)
    text = "".join(e.data["content"] for e in events if e.event == "text")
    assert text == "one two three"
    assert "".join(e.data["content"] for e in events if e.event == "thinking") == "hmm"
    done = events[-1].data
    assert done["status"] == "completed" and done["iterations"] == 1
    reply = (await client.get(f"/api/sessions/{sid}/messages")).json()["data"][-1]
    assert done["message_id"] == reply["id"]
    assert reply["parts"][0] == {"type": "thinking", "text": "hmm"}


async def test_stream_true_in_the_body_streams_too(client: Client) -> None:
    sid = await new_session(client)
    response = await client.post(
        f"/api/sessions/{sid}/messages", json={"content": "hi", "stream": True}
    )
    assert_well_formed(parse(response.text))


async def test_background_answers_202_and_the_events_replay(client: Client) -> None:
    sid = await new_session(client)
    response = await client.post(
        f"/api/sessions/{sid}/messages", params={"background": True}, json={"content": "hi"}
    )
    assert response.status_code == 202
    turn_id = response.json()["turn"]["id"]
    events = parse((await client.get(f"/api/sessions/{sid}/turns/{turn_id}/events")).text)
    assert_well_formed(events)
    again = parse(
        (await client.get(f"/api/sessions/{sid}/turns/{turn_id}/events", params={"after": 3})).text
    )
    assert [e.id for e in again] == [e.id for e in events[3:]]
    resumed = await client.get(
        f"/api/sessions/{sid}/turns/{turn_id}/events", headers={"Last-Event-ID": "2"}
    )
    assert [e.id for e in parse(resumed.text)] == [e.id for e in events[2:]]
    turn = (await client.get(f"/api/sessions/{sid}/turns/{turn_id}")).json()
    assert turn["status"] == "completed" and turn["last_seq"] == len(events)
    listed = (await client.get(f"/api/sessions/{sid}/turns")).json()
    assert [t["id"] for t in listed["data"]] == [turn_id]


async def test_history_goes_to_the_model(client: Client, fake_llm: FakeLLM) -> None:
    fake_llm.add_replies({"text": "Paris."}, {"text": "About 2 million."})
    sid = await new_session(client, agent="assistant")
    await client.post(f"/api/sessions/{sid}/messages", json={"content": "Capital of France?"})
    await client.post(f"/api/sessions/{sid}/messages", json={"content": "Population?"})
    sent = fake_llm.stats().last_requests[-1].body["messages"]
    assert [(m["role"], m["content"]) for m in sent if m["role"] != "system"] == [
        ("user", "Capital of France?"),
        ("assistant", "Paris."),
        ("user", "Population?"),
    ]
    assert sent[0]["role"] == "system" and "helpful" in sent[0]["content"]


async def test_images_go_to_the_model_in_its_wire_shape(client: Client, fake_llm: FakeLLM) -> None:
    sid = await new_session(client)
    image = {"type": "image", "data": "iVBORw0KGgo=", "media_type": "image/png"}
    response = await client.post(
        f"/api/sessions/{sid}/messages", json={"content": "What is this?", "attachments": [image]}
    )
    assert response.status_code == 200
    assert response.json()["message"]["parts"][1]["type"] == "image"
    content = fake_llm.stats().last_requests[-1].body["messages"][-1]["content"]
    urls = [p["image_url"]["url"] for p in content if p["type"] == "image_url"]
    assert urls == ["data:image/png;base64,iVBORw0KGgo="]


@pytest.mark.parametrize("content", ["", "   ", "\n"])
async def test_empty_content_is_invalid(client: Client, content: str) -> None:
    sid = await new_session(client)
    response = await client.post(f"/api/sessions/{sid}/messages", json={"content": content})
    assert response.status_code == 400
    assert response.json()["error"]["code"] == "INVALID_REQUEST"
    assert (await client.get(f"/api/sessions/{sid}/turns")).json()["data"] == []


async def test_unknown_model_lists_the_available_ones(client: Client) -> None:
    sid = await new_session(client)
    response = await client.post(
        f"/api/sessions/{sid}/messages", json={"content": "hi", "model": "gpt-99-ultra"}
    )
    assert response.status_code == 404
    error = response.json()["error"]
    assert error["code"] == "MODEL_NOT_FOUND"
    assert "fake-small" in error["details"]["available_models"]


async def test_unknown_agent_is_not_found(client: Client) -> None:
    sid = await new_session(client)
    response = await client.post(
        f"/api/sessions/{sid}/messages", json={"content": "hi", "model_role": "wizard"}
    )
    assert response.status_code == 404
    assert response.json()["error"]["code"] == "AGENT_NOT_FOUND"


async def test_an_anthropic_provider_streams_and_calls_tools(
    settings: Any, fake_llm: FakeLLM
) -> None:
    from roost.app import create_app
    from roost.engine.tools.registry import Tool

    async def echo(args: dict[str, Any], _context: Any) -> str:
        return str(args.get("word"))

    anthropic = settings.model_copy(
        update={
            "openai_base_url": None,
            "openai_api_key": None,
            "anthropic_base_url": fake_llm.root_url,
            "anthropic_api_key": fake_llm.api_key,
            "default_model": "anthropic/fake-small",
        }
    )
    app = create_app(anthropic)
    fake_llm.add_replies(
        {"thinking": "Echo it.", "tool_calls": [{"name": "echo", "arguments": {"word": "hi"}}]},
        {"text": "It said hi."},
    )
    async with app.router.lifespan_context(app):
        schema = {"type": "object", "properties": {"word": {"type": "string"}}}
        app.state.services.tools.register(Tool("echo", "Echo a word", schema, echo))
        transport = httpx.ASGITransport(app=app)
        async with httpx.AsyncClient(transport=transport, base_url="http://t") as client:
            sid = await new_session(client)
            response = await client.post(
                f"/api/sessions/{sid}/messages", json={"content": "say hi", "stream": True}
            )
    events = parse(response.text)
    assert_well_formed(events)
    kinds = [e.event for e in events if e.event in ("thinking", "tool_call", "tool_result")]
    assert kinds.index("tool_call") > kinds.index("thinking")
    assert "".join(e.data["content"] for e in events if e.event == "thinking") == "Echo it."
    assert "".join(e.data["content"] for e in events if e.event == "text") == "It said hi."
    sent = fake_llm.stats().last_requests[-1]
    assert sent.path == "/v1/messages"
    assert sent.body["system"]
    blocks = sent.body["messages"][-1]["content"]
    assert blocks[0]["type"] == "tool_result" and blocks[0]["content"] in (
        "hi",
        [{"type": "text", "text": "hi"}],
    )
