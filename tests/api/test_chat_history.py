"""Oqto's chat-history paths over the same sessions and messages."""

import httpx


async def test_chat_history_aliases_read_and_change_the_same_data(
    client: httpx.AsyncClient,
) -> None:
    session = (await client.post("/api/sessions", json={"title": "Chat"})).json()
    sid = session["id"]
    await client.put(f"/api/sessions/{sid}", json={"messages": [{"role": "user", "content": "hi"}]})

    listed = (await client.get("/api/chat-history")).json()
    assert [s["id"] for s in listed["data"]] == [sid]
    meta = (await client.get(f"/api/chat-history/{sid}")).json()
    assert meta["id"] == sid and "messages" not in meta
    renamed = await client.patch(f"/api/chat-history/{sid}", json={"title": "Renamed"})
    assert renamed.status_code == 200
    assert (await client.get(f"/api/sessions/{sid}")).json()["title"] == "Renamed"
    messages = (await client.get(f"/api/chat-history/{sid}/messages")).json()
    assert [m["content"] for m in messages["data"]] == ["hi"]


async def test_chat_history_of_unknown_session_is_not_found(client: httpx.AsyncClient) -> None:
    response = await client.get("/api/chat-history/ses_01m8a97z54byzvm9agg9cemc09")
    assert response.status_code == 404
    assert response.json()["error"]["code"] == "SESSION_NOT_FOUND"
