"""Message history pages by keyset: newest page first, then back or forward by id."""

import httpx

Client = httpx.AsyncClient


async def session_with_messages(client: Client, count: int) -> str:
    session = (await client.post("/api/sessions", json={})).json()
    messages = [{"role": "user", "content": f"m{i}"} for i in range(count)]
    response = await client.put(f"/api/sessions/{session['id']}", json={"messages": messages})
    assert response.status_code == 200
    return str(session["id"])


def contents(response: httpx.Response) -> list[str]:
    return [m["content"] for m in response.json()["data"]]


async def test_messages_page_is_the_newest_oldest_first(client: Client) -> None:
    sid = await session_with_messages(client, 10)
    response = await client.get(f"/api/sessions/{sid}/messages", params={"limit": 4})
    assert response.status_code == 200
    assert contents(response) == ["m6", "m7", "m8", "m9"]
    body = response.json()
    assert body["has_more"] is True
    assert body["next_cursor"] == body["data"][0]["id"]
    message = body["data"][0]
    assert set(message) >= {
        "id",
        "session_id",
        "turn_id",
        "role",
        "content",
        "parts",
        "status",
        "created_at",
        "usage",
    }
    assert message["parts"] == [{"type": "text", "text": "m6"}]


async def test_before_walks_back_through_the_whole_history(client: Client) -> None:
    sid = await session_with_messages(client, 10)
    seen: list[str] = []
    params: dict[str, str | int] = {"limit": 3}
    for _ in range(10):
        page = await client.get(f"/api/sessions/{sid}/messages", params=params)
        seen = contents(page) + seen
        if not page.json()["has_more"]:
            assert page.json()["next_cursor"] is None
            break
        params = {"limit": 3, "before": page.json()["next_cursor"]}
    assert seen == [f"m{i}" for i in range(10)]


async def test_after_walks_forward(client: Client) -> None:
    sid = await session_with_messages(client, 6)
    all_ids = [m["id"] for m in (await client.get(f"/api/sessions/{sid}/messages")).json()["data"]]
    page = await client.get(
        f"/api/sessions/{sid}/messages", params={"after": all_ids[1], "limit": 2}
    )
    assert contents(page) == ["m2", "m3"]
    assert page.json()["has_more"] is True
    assert page.json()["next_cursor"] == all_ids[3]
    last = await client.get(f"/api/sessions/{sid}/messages", params={"after": all_ids[3]})
    assert contents(last) == ["m4", "m5"]
    assert last.json()["has_more"] is False


async def test_empty_session_has_an_empty_page(client: Client) -> None:
    sid = (await client.post("/api/sessions")).json()["id"]
    body = (await client.get(f"/api/sessions/{sid}/messages")).json()
    assert body == {"data": [], "has_more": False, "next_cursor": None}


async def test_a_cursor_from_another_session_is_invalid(client: Client) -> None:
    first = await session_with_messages(client, 2)
    second = await session_with_messages(client, 2)
    foreign = (await client.get(f"/api/sessions/{first}/messages")).json()["data"][0]["id"]
    response = await client.get(f"/api/sessions/{second}/messages", params={"before": foreign})
    assert response.status_code == 400
    assert response.json()["error"]["code"] == "INVALID_REQUEST"


async def test_cursor_that_names_no_message_is_400(client: Client) -> None:
    sid = await session_with_messages(client, 2)
    for cursor in ("msg_01m8a97z54byzvm9agg9cemc09", "not-an-id", "msg_"):
        response = await client.get(f"/api/sessions/{sid}/messages", params={"before": cursor})
        assert response.status_code == 400, cursor
        assert response.json()["error"]["details"]["field"] == "before"


async def test_before_and_after_together_is_400(client: Client) -> None:
    sid = await session_with_messages(client, 3)
    ids = [m["id"] for m in (await client.get(f"/api/sessions/{sid}/messages")).json()["data"]]
    response = await client.get(
        f"/api/sessions/{sid}/messages", params={"before": ids[2], "after": ids[0]}
    )
    assert response.status_code == 400


async def test_limit_out_of_range_is_422(client: Client) -> None:
    sid = await session_with_messages(client, 1)
    for limit in (0, 201, -1, "many"):
        response = await client.get(f"/api/sessions/{sid}/messages", params={"limit": limit})
        assert response.status_code == 422, limit
        fields = response.json()["error"]["details"]["fields"]
        assert fields[0]["field"] == "limit" and fields[0]["in"] == "query"


async def test_messages_of_an_unknown_session_are_not_found(client: Client) -> None:
    for sid in ("ses_01m8a97z54byzvm9agg9cemc09", "nope", "msg_01m8a97z54byzvm9agg9cemc09"):
        response = await client.get(f"/api/sessions/{sid}/messages")
        assert response.status_code == 404
        assert response.json()["error"]["code"] == "SESSION_NOT_FOUND"
        assert response.json()["error"]["details"] == {"session_id": sid}
