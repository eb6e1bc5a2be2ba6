"""OpenAI's Responses API at /v1/responses over Roost's turns, driven by the official
`openai` SDK over a real server."""

import asyncio
from typing import Any

import httpx
import openai
import pytest

from roost.testing import FakeLLM
from tests.support.accounts import account
from tests.support.openai_sdk import register_lookup, sent_messages


async def settled(sdk: openai.AsyncOpenAI, response_id: str) -> Any:
    for _ in range(200):
        response = await sdk.responses.retrieve(response_id)
        if response.status not in ("queued", "in_progress"):
            return response
        await asyncio.sleep(0.05)
    raise AssertionError(f"{response_id} did not end")


async def test_a_response_answers_and_a_next_one_goes_on_from_it(
    sdk: openai.AsyncOpenAI, fake_llm: FakeLLM
) -> None:
    fake_llm.add_replies({"text": "Hello, Ada."}, {"text": "Your name is Ada."})
    first = await sdk.responses.create(
        model="roost/assistant", input="I am Ada.", instructions="Be brief."
    )
    assert first.status == "completed" and first.output_text == "Hello, Ada."
    assert first.id.startswith("resp_") and first.instructions == "Be brief."
    assert first.usage is not None and first.usage.output_tokens > 0
    assert "Be brief." in sent_messages(fake_llm)[0]["content"]
    second = await sdk.responses.create(
        model="roost/assistant", input="Who am I?", previous_response_id=first.id
    )
    assert second.output_text == "Your name is Ada."
    assert second.previous_response_id == first.id
    said = [(m["role"], m["content"]) for m in sent_messages(fake_llm) if m["role"] != "system"]
    assert said == [("user", "I am Ada."), ("assistant", "Hello, Ada."), ("user", "Who am I?")]
    # Instructions belong to the response that was given them, not to those after it.
    assert "Be brief." not in str(sent_messages(fake_llm))
    assert second.model_extra["roost"]["session_id"] == first.model_extra["roost"]["session_id"]  # type: ignore[index]
    # Going on from an older response forks the conversation at it.
    fake_llm.add_replies({"text": "Ada, still."})
    third = await sdk.responses.create(
        model="roost/assistant", input="Again?", previous_response_id=first.id
    )
    assert third.output_text == "Ada, still."
    assert third.model_extra["roost"]["session_id"] != first.model_extra["roost"]["session_id"]  # type: ignore[index]
    contents = [m["content"] for m in sent_messages(fake_llm) if m["role"] != "system"]
    assert contents == ["I am Ada.", "Hello, Ada.", "Again?"]


async def test_a_stream_numbers_its_events_and_resumes_after_any_of_them(
    sdk: openai.AsyncOpenAI, fake_llm: FakeLLM
) -> None:
    fake_llm.add_replies({"text": "alpha beta gamma delta", "thinking": "Hmm."})
    stream = await sdk.responses.create(model="roost/assistant", input="Go", stream=True)
    events = [event async for event in stream]
    assert [e.sequence_number for e in events] == list(range(len(events)))
    kinds = [e.type for e in events]
    assert kinds[:2] == ["response.created", "response.in_progress"]
    assert kinds[-1] == "response.completed"
    assert "response.reasoning_text.delta" in kinds
    text = "".join(e.delta for e in events if e.type == "response.output_text.delta")
    assert text == "alpha beta gamma delta"
    done = events[-1].response  # type: ignore[union-attr]
    assert [item.type for item in done.output] == ["reasoning", "message"]
    assert done.output_text == text
    # A retrieve shows what the stream did; a resumed stream is the rest of it.
    retrieved = await sdk.responses.retrieve(done.id)
    assert retrieved.model_dump() == done.model_dump()
    for cut in (0, 3, len(events) - 2):
        rest = await sdk.responses.retrieve(done.id, stream=True, starting_after=cut)
        resumed = [event async for event in rest]
        assert [e.model_dump() for e in resumed] == [e.model_dump() for e in events[cut + 1 :]]


async def test_tool_calls_the_server_ran_are_mcp_call_items(
    app: Any, sdk: openai.AsyncOpenAI, fake_llm: FakeLLM
) -> None:
    register_lookup(app)
    fake_llm.add_replies(
        {"tool_calls": [{"name": "lookup", "arguments": {"city": "Paris"}}]},
        {"text": "Sunny."},
    )
    response = await sdk.responses.create(model="roost/assistant", input="Weather in Paris?")
    call, message = response.output
    assert call.type == "mcp_call" and call.name == "lookup"
    assert call.arguments == '{"city":"Paris"}' and call.output == '{"weather":"sunny"}'
    assert call.status == "completed"
    assert message.type == "message" and response.output_text == "Sunny."


async def test_a_background_response_runs_on_and_can_be_cancelled(
    sdk: openai.AsyncOpenAI, fake_llm: FakeLLM
) -> None:
    fake_llm.add_replies({"text": "Done in the background."})
    started = await sdk.responses.create(
        model="roost/assistant", input="Work", background=True, metadata={"job": "7"}
    )
    assert started.status in ("queued", "in_progress") and started.background is True
    finished = await settled(sdk, started.id)
    assert finished.status == "completed" and finished.output_text == "Done in the background."
    assert finished.metadata == {"job": "7"} and finished.background is True

    fake_llm.add_replies({"tokens": 400, "token_delay_ms": 20})
    slow = await sdk.responses.create(model="roost/assistant", input="Slowly", background=True)
    cancelled = await sdk.responses.cancel(slow.id)
    assert cancelled.status == "cancelled"
    assert (await sdk.responses.retrieve(slow.id)).status == "cancelled"
    items = await sdk.responses.input_items.list(slow.id)
    assert [item.model_dump()["content"][0]["text"] for item in items.data] == ["Slowly"]


async def test_a_failed_response_and_unknown_ones(
    sdk: openai.AsyncOpenAI, fake_llm: FakeLLM
) -> None:
    fake_llm.add_replies({"fault": 401})
    with pytest.raises(openai.APIStatusError) as failed:
        await sdk.responses.create(model="roost/assistant", input="Hi")
    assert failed.value.status_code == 502
    fake_llm.add_replies({"fault": 401})
    stream = await sdk.responses.create(model="roost/assistant", input="Hi", stream=True)
    last = [event async for event in stream][-1]
    assert last.type == "response.failed" and last.response.error is not None
    with pytest.raises(openai.NotFoundError):
        await sdk.responses.retrieve("resp_nothing")
    with pytest.raises(openai.BadRequestError):
        await sdk.responses.create(
            model="roost/assistant", input="Hi", tools=[{"type": "web_search"}]
        )


@pytest.mark.usefixtures("fake_llm")
async def test_another_users_response_is_not_found(
    open_app: tuple[Any, httpx.AsyncClient],
) -> None:
    _app, client = open_app
    await account(client, "root@example.com")
    a, b = await account(client, "a@example.com"), await account(client, "b@example.com")
    body = {"model": "roost/assistant", "input": "A-words"}
    mine = (await client.post("/v1/responses", headers=a.headers, json=body)).json()
    for method, path in [
        ("GET", f"/v1/responses/{mine['id']}"),
        ("GET", f"/v1/responses/{mine['id']}/input_items"),
        ("POST", f"/v1/responses/{mine['id']}/cancel"),
    ]:
        response = await client.request(method, path, headers=b.headers)
        assert response.status_code == 404 and "A-words" not in response.text, path
    going_on = {**body, "previous_response_id": mine["id"]}
    taken = await client.post("/v1/responses", headers=b.headers, json=going_on)
    assert taken.status_code == 404
    assert (await client.get(f"/v1/responses/{mine['id']}", headers=a.headers)).status_code == 200
