"""Image attachments: refused at the door when no provider could read them, and a
malformed one already in a session's history does not stop its later turns."""

from typing import Any

import httpx
import pytest

from roost import ids
from roost.config import Settings
from roost.store.models import Message
from roost.testing import FakeLLM
from tests.support.apps import running
from tests.support.turns import new_session

Client = httpx.AsyncClient

PNG = "iVBORw0KGgo="
BAD_ATTACHMENTS: list[tuple[str, Any]] = [
    ("neither data nor url", {"type": "image"}),
    ("only a media type", {"type": "image", "media_type": "image/png"}),
    ("empty data", {"type": "image", "data": ""}),
    ("data not base64", {"type": "image", "data": "not base64!"}),
    ("data and url", {"type": "image", "data": PNG, "url": "https://example.org/a.png"}),
    ("url with a broken IDNA host", {"type": "image", "url": "http://xn--/a.png"}),
    ("url with an empty label", {"type": "image", "url": "http://a..b/a.png"}),
]

UNREADABLE = [pytest.param(attachment, id=case) for case, attachment in BAD_ATTACHMENTS]


def assert_refused(response: httpx.Response) -> None:
    assert response.status_code == 422, response.text
    error = response.json()["error"]
    assert error["code"] == "VALIDATION_ERROR"
    assert error["details"]["fields"][0]["field"].startswith("attachments.0")


@pytest.mark.parametrize("attachment", UNREADABLE)
async def test_a_message_with_an_unreadable_image_is_refused(
    client: Client, fake_llm: FakeLLM, attachment: Any
) -> None:
    sid = await new_session(client)
    body = {"content": "What is this?", "attachments": [attachment]}
    assert_refused(await client.post(f"/api/sessions/{sid}/messages", json=body))
    assert (await client.get(f"/api/sessions/{sid}")).json()["messages"] == []
    assert (await client.get(f"/api/sessions/{sid}/turns")).json()["data"] == []
    assert not fake_llm.stats().last_requests


@pytest.mark.parametrize("attachment", UNREADABLE)
async def test_floyd_chat_with_an_unreadable_image_is_refused(
    client: Client, attachment: Any
) -> None:
    body = {"message": "What is this?", "attachments": [attachment]}
    assert_refused(await client.post("/api/chat", json=body))
    assert_refused(await client.post("/api/chat/stream", json=body))
    assert (await client.get("/api/sessions")).json()["data"] == []


async def test_floyd_chat_takes_at_most_ten_images(client: Client) -> None:
    image = {"type": "image", "data": PNG, "media_type": "image/png"}
    response = await client.post("/api/chat", json={"message": "hi", "attachments": [image] * 11})
    assert response.status_code == 422, response.text
    assert (await client.get("/api/sessions")).json()["data"] == []


# What older servers let in, written straight to the store.
MALFORMED_PARTS: list[Any] = [
    {"type": "image"},
    {"type": "image", "media_type": "image/png"},
    {"type": "image", "data": 5, "url": None},
    {"type": "image", "url": "javascript:alert(1)"},
    "image.png",
]


async def poisoned_session(app: Any, client: Client) -> str:
    sid = await new_session(client)
    parts = [{"type": "text", "text": "Look"}, *MALFORMED_PARTS]
    message = Message(
        id=ids.new_id("msg"), session_id=sid, role="user", content="Look", parts=parts
    )
    async with app.state.services.database.write() as db:
        db.add(message)
    return sid


async def test_a_malformed_stored_image_does_not_stop_later_turns(
    app: Any, client: Client, fake_llm: FakeLLM
) -> None:
    sid = await poisoned_session(app, client)
    for _ in range(2):
        response = await client.post(f"/api/sessions/{sid}/messages", json={"content": "Hello?"})
        assert response.status_code == 200, response.text
        assert response.json()["turn"]["status"] == "completed"
        assert response.json()["reply"]["content"]
    sent = fake_llm.stats().last_requests[-1].body["messages"]
    assert [m["content"] for m in sent if m["role"] == "user"][:2] == ["Look", "Hello?"]


async def test_a_malformed_stored_image_does_not_stop_anthropic_turns(
    settings: Settings, fake_llm: FakeLLM
) -> None:
    anthropic = {
        "openai_base_url": None,
        "openai_api_key": None,
        "anthropic_base_url": fake_llm.root_url,
        "anthropic_api_key": fake_llm.api_key,
        "default_model": "anthropic/fake-small",
    }
    async with running(settings, **anthropic) as (app, client):
        sid = await poisoned_session(app, client)
        response = await client.post(f"/api/sessions/{sid}/messages", json={"content": "Hello?"})
    assert response.status_code == 200, response.text
    assert response.json()["turn"]["status"] == "completed"
    sent = fake_llm.stats().last_requests[-1]
    assert sent.path == "/v1/messages"
    first = sent.body["messages"][0]["content"]
    assert {block["type"] for block in first} == {"text"}
