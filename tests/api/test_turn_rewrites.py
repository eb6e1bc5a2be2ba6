"""Regenerate, continue, edit, titles, compaction and forks."""

import httpx

from roost.testing import FakeLLM
from tests.support.sse import assert_well_formed, parse
from tests.support.turns import new_session, send

Client = httpx.AsyncClient


async def history(client: Client, sid: str) -> list[tuple[str, str]]:
    messages = (await client.get(f"/api/sessions/{sid}/messages")).json()["data"]
    return [(m["role"], m["content"]) for m in messages]


async def test_regenerate_replaces_the_last_answer(client: Client, fake_llm: FakeLLM) -> None:
    fake_llm.add_replies({"text": "first try"}, {"text": "second try"})
    sid = await new_session(client)
    await send(client, sid, "question")
    response = await client.post(f"/api/sessions/{sid}/regenerate")
    assert response.status_code == 200
    assert response.json()["turn"]["kind"] == "regenerate"
    assert response.json()["reply"]["content"] == "second try"
    assert await history(client, sid) == [("user", "question"), ("assistant", "second try")]
    assert (await client.get(f"/api/sessions/{sid}")).json()["message_count"] == 2


async def test_regenerate_without_a_message_is_400(client: Client) -> None:
    sid = await new_session(client)
    response = await client.post(f"/api/sessions/{sid}/regenerate", json={})
    assert response.status_code == 400


async def test_continue_appends_to_a_truncated_answer(client: Client, fake_llm: FakeLLM) -> None:
    fake_llm.add_replies({"text": "Once upon", "finish": "length"}, {"text": " a time."})
    sid = await new_session(client)
    first = await send(client, sid, "Tell a story")
    assert first["reply"]["status"] == "truncated"
    response = await client.post(f"/api/sessions/{sid}/continue", json={"stream": True})
    events = parse(response.text)
    assert_well_formed(events)
    assert events[0].data["message_id"] == first["reply"]["id"]
    assert events[-1].data["message_id"] == first["reply"]["id"]
    assert await history(client, sid) == [
        ("user", "Tell a story"),
        ("assistant", "Once upon a time."),
    ]
    sent = fake_llm.stats().last_requests[-1].body["messages"]
    assert sent[-2] == {"role": "assistant", "content": "Once upon"}
    assert sent[-1]["role"] == "user" and "Continue" in sent[-1]["content"]


async def test_continue_needs_an_answer_to_continue(client: Client) -> None:
    sid = await new_session(client)
    response = await client.post(f"/api/sessions/{sid}/continue")
    assert response.status_code == 400


async def test_editing_a_message_drops_what_followed_and_can_answer_again(
    client: Client, fake_llm: FakeLLM
) -> None:
    fake_llm.add_replies({"text": "A1"}, {"text": "A2"}, {"text": "A2 again"})
    sid = await new_session(client)
    await send(client, sid, "Q1")
    await send(client, sid, "Q2")
    messages = (await client.get(f"/api/sessions/{sid}/messages")).json()["data"]
    edited = await client.patch(
        f"/api/sessions/{sid}/messages/{messages[2]['id']}", json={"content": "Q2, better"}
    )
    assert edited.status_code == 200
    assert edited.json()["turn"] is None
    assert await history(client, sid) == [
        ("user", "Q1"),
        ("assistant", "A1"),
        ("user", "Q2, better"),
    ]
    by_index = await client.patch(
        f"/api/sessions/{sid}/messages/2", json={"content": "Q2, best", "regenerate": True}
    )
    assert by_index.status_code == 200, by_index.text
    assert by_index.json()["reply"]["content"] == "A2 again"
    assert await history(client, sid) == [
        ("user", "Q1"),
        ("assistant", "A1"),
        ("user", "Q2, best"),
        ("assistant", "A2 again"),
    ]


async def test_only_user_messages_can_be_edited(client: Client) -> None:
    sid = await new_session(client)
    await send(client, sid, "Q1")
    response = await client.patch(f"/api/sessions/{sid}/messages/1", json={"content": "x"})
    assert response.status_code == 400
    missing = await client.patch(f"/api/sessions/{sid}/messages/7", json={"content": "x"})
    assert missing.status_code == 404
    assert missing.json()["error"]["code"] == "MESSAGE_NOT_FOUND"


async def test_generate_title_names_the_session(client: Client, fake_llm: FakeLLM) -> None:
    fake_llm.add_replies(
        {"text": "It is sunny."}, {"text": '"Weather in Paris."', "match": "title"}
    )
    sid = await new_session(client)
    response = await client.post(
        f"/api/sessions/{sid}/messages",
        json={"content": "Weather in Paris?", "generate_title": True, "stream": True},
    )
    events = parse(response.text)
    assert_well_formed(events)
    assert [e.event for e in events][-3:] == ["usage", "title", "done"]
    assert events[-2].data["title"] == "Weather in Paris"
    session = (await client.get(f"/api/sessions/{sid}")).json()
    assert session["title"] == session["display_title"] == "Weather in Paris"


async def test_a_title_the_user_chose_is_never_overwritten(
    client: Client, fake_llm: FakeLLM
) -> None:
    sid = await new_session(client, title="Mine")
    await client.post(
        f"/api/sessions/{sid}/messages", json={"content": "hi", "generate_title": True}
    )
    assert (await client.get(f"/api/sessions/{sid}")).json()["title"] == "Mine"
    assert fake_llm.stats().requests == 1


async def test_compact_summarises_older_history(client: Client, fake_llm: FakeLLM) -> None:
    sid = await new_session(client)
    for i in range(4):
        await send(client, sid, f"question {i}")
    fake_llm.add_replies({"text": "They asked four questions.", "match": "Summarise"})
    response = await client.post(f"/api/sessions/{sid}/compact", json={"keep_last": 2})
    assert response.status_code == 200
    body = response.json()
    assert body["compacted"] is True and body["summarised_messages"] == 6
    assert body["summary"]["role"] == "system"
    await send(client, sid, "question 4")
    sent = fake_llm.stats().last_requests[-1].body["messages"]
    assert "They asked four questions." in sent[0]["content"]
    assert [m["content"] for m in sent[1:] if m["role"] == "user"] == ["question 3", "question 4"]


async def test_history_beyond_the_window_is_compacted_on_its_own(
    client: Client, fake_llm: FakeLLM
) -> None:
    sid = await new_session(client)
    big = "word " * 20_000  # ~25k tokens each: three overflow fake-small's 32k window
    messages = [{"role": r, "content": big} for r in ("user", "assistant", "user", "assistant")]
    await client.put(f"/api/sessions/{sid}", json={"messages": messages})
    fake_llm.add_replies({"text": "Long talk about words.", "match": "Summarise"})
    response = await client.post(
        f"/api/sessions/{sid}/messages", json={"content": "and now?", "stream": True}
    )
    events = parse(response.text)
    assert_well_formed(events)
    status = next(e.data for e in events if e.event == "status")
    assert status["status"] == "compacting"
    sent = fake_llm.stats().last_requests[-1].body["messages"]
    assert "Long talk about words." in sent[0]["content"]
    assert sent[-1]["content"] == "and now?"


async def test_fork_copies_history_up_to_a_message(client: Client) -> None:
    sid = await new_session(client, title="Origin", folder="F", agent="assistant")
    await send(client, sid, "one")
    await send(client, sid, "two")
    messages = (await client.get(f"/api/sessions/{sid}/messages")).json()["data"]
    response = await client.post(
        f"/api/sessions/{sid}/fork", json={"message_id": messages[1]["id"]}
    )
    assert response.status_code == 201
    fork = response.json()
    assert fork["parent_id"] == sid and fork["folder"] == "F" and fork["id"] != sid
    assert fork["title"] == "Fork of Origin"
    copied = await history(client, fork["id"])
    assert copied == [("user", "one"), (messages[1]["role"], messages[1]["content"])]
    whole = (await client.post(f"/api/sessions/{sid}/fork")).json()
    assert whole["message_count"] == 4
    bad = await client.post(
        f"/api/sessions/{sid}/fork", json={"message_id": "msg_01m8a97z54byzvm9agg9cemc09"}
    )
    assert bad.status_code == 404
