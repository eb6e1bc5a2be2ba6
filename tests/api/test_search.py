"""Full-text search over messages: every word must appear, ranked, with a highlighted
snippet and where it was said; filters; the index kept as messages are answered,
edited and deleted; never another user's words."""

from typing import Any

import httpx

from roost.testing import FakeLLM
from tests.support.accounts import account
from tests.support.admin import error_code
from tests.support.turns import new_session, send

Client = httpx.AsyncClient


async def search(client: Client, **params: Any) -> dict[str, Any]:
    response = await client.get("/api/search", params=params)
    assert response.status_code == 200, response.text
    return dict(response.json())


async def test_a_message_is_found_by_its_words_with_a_highlighted_snippet(
    client: Client, fake_llm: FakeLLM
) -> None:
    paris = await new_session(client, title="Trip")
    fake_llm.add_replies({"text": "Pack a raincoat: Paris is <rainy> in November."})
    sent = await send(client, paris, "What is the weather like in Paris in November?")
    other = await new_session(client)
    fake_llm.add_replies({"text": "Use a virtualenv."})
    await send(client, other, "How do I install Python packages?")

    found = await search(client, q="paris november")
    assert found["results"] == found["data"] and found["query"] == "paris november"
    assert {hit["message_id"] for hit in found["results"]} == {
        sent["message"]["id"],
        sent["reply"]["id"],
    }
    hit = next(h for h in found["results"] if h["role"] == "assistant")
    assert hit["session_id"] == paris and hit["session_title"] == "Trip"
    assert hit["turn_id"] == sent["turn"]["id"] and hit["created_at"].endswith("Z")
    assert "<mark>Paris</mark>" in hit["snippet"] and "&lt;rainy&gt;" in hit["snippet"]
    assert hit["score_parts"] == {"keyword": hit["score"]}

    # Every word must appear; case and accents do not matter.
    assert (await search(client, q="paris virtualenv"))["results"] == []
    assert len((await search(client, q="PYTHON"))["results"]) == 1
    only = await search(client, q="paris", role="user")
    assert [h["message_id"] for h in only["results"]] == [sent["message"]["id"]]
    in_other = await search(client, q="paris", session_id=other)
    assert in_other["results"] == []


async def test_the_index_follows_edits_and_deletes(client: Client) -> None:
    sid = await new_session(client)
    put = await client.put(
        f"/api/sessions/{sid}",
        json={"messages": [{"role": "user", "content": "the heron flies"}]},
    )
    assert put.status_code == 200, put.text
    assert len((await search(client, q="heron"))["results"]) == 1
    message_id = (await client.get(f"/api/sessions/{sid}/messages")).json()["data"][0]["id"]
    edited = await client.patch(
        f"/api/sessions/{sid}/messages/{message_id}", json={"content": "the crane flies"}
    )
    assert edited.status_code == 200, edited.text
    assert (await search(client, q="heron"))["results"] == []
    assert len((await search(client, q="crane"))["results"]) == 1
    assert (await client.delete(f"/api/sessions/{sid}")).status_code == 204
    assert (await search(client, q="crane"))["results"] == []


async def test_results_page_and_bad_queries_are_refused(client: Client) -> None:
    sid = await new_session(client)
    lines = [{"role": "user", "content": f"note number {n} about gardens"} for n in range(7)]
    await client.put(f"/api/sessions/{sid}", json={"messages": lines})
    first = await search(client, q="gardens", limit=3)
    assert len(first["results"]) == 3 and first["has_more"] is True
    seen = [h["message_id"] for h in first["results"]]
    cursor = first["next_cursor"]
    while cursor:
        page = await search(client, q="gardens", limit=3, cursor=cursor)
        seen += [h["message_id"] for h in page["results"]]
        cursor = page["next_cursor"]
    assert len(seen) == len(set(seen)) == 7

    for params, code in (
        ({"q": "?!"}, "INVALID_REQUEST"),
        ({"q": "gardens", "cursor": "zzz"}, "INVALID_REQUEST"),
        ({"q": "gardens", "role": "tool"}, "VALIDATION_ERROR"),
        ({"q": ""}, "VALIDATION_ERROR"),
        ({"q": "gardens", "session_id": "ses_01jd3x0000000000000000000a"}, "SESSION_NOT_FOUND"),
        ({"q": 'a" OR "b NEAR(x) * -- \\'}, None),
    ):
        response = await client.get("/api/search", params=params)
        if code is None:  # search syntax in the query is just words
            assert response.status_code == 200, response.text
        else:
            assert error_code(response) == code, (params, response.text)


async def test_another_users_words_are_never_found(open_app: tuple[Any, Client]) -> None:
    _app, client = open_app
    alice = await account(client, "alice@example.com")
    bob = await account(client, "bob@example.com")
    sid = (await client.post("/api/sessions", json={}, headers=alice.headers)).json()["id"]
    await client.put(
        f"/api/sessions/{sid}",
        json={"messages": [{"role": "user", "content": "my secret is kingfisher"}]},
        headers=alice.headers,
    )
    mine = await client.get("/api/search", params={"q": "kingfisher"}, headers=alice.headers)
    assert len(mine.json()["results"]) == 1
    theirs = await client.get("/api/search", params={"q": "kingfisher"}, headers=bob.headers)
    assert theirs.status_code == 200 and theirs.json()["results"] == []
    named = await client.get(
        "/api/search", params={"q": "kingfisher", "session_id": sid}, headers=bob.headers
    )
    assert named.status_code == 404
