"""Search over messages. By words: every word must appear, ranked, with a highlighted
snippet and where it was said; filters; the index kept as messages are answered,
edited and deleted. By meaning and hybrid, with an embedding model: vectors made in
the background as turns end and histories change, dropped with an edit. Never another
user's words."""

import asyncio
from typing import Any

import httpx

from roost.config import Settings
from roost.testing import FakeLLM
from tests.conftest import OPEN_REGISTRATION
from tests.support.accounts import account
from tests.support.admin import error_code
from tests.support.apps import running
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
    assert hit["score_parts"] == {"keyword": hit["score"]} and found["mode"] == "keyword"

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
        ({"q": "gardens", "mode": "fuzzy"}, "VALIDATION_ERROR"),
        ({"q": "gardens", "mode": "semantic"}, "INVALID_REQUEST"),  # no embedding model
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


EMBEDDING = {"embedding_model": "openai/fake-embed", **OPEN_REGISTRATION}


async def searched_until(
    client: Client, wanted: Any, headers: dict[str, str], **params: Any
) -> dict[str, Any]:
    """The search's answer once ``wanted(answer)`` holds: vectors are made in the
    background, a moment after the messages."""
    deadline = asyncio.get_running_loop().time() + 60  # the local model loads in seconds
    while True:
        response = await client.get("/api/search", params=params, headers=headers)
        assert response.status_code == 200, response.text
        if wanted(response.json()):
            return dict(response.json())
        assert asyncio.get_running_loop().time() < deadline, f"never as wanted: {response.text}"
        await asyncio.sleep(0.05)


async def test_a_message_is_found_by_its_meaning_and_by_both(
    settings: Settings, fake_llm: FakeLLM
) -> None:
    async with running(settings, **EMBEDDING) as (app, client):
        features = app.state.services.system.features()
        compared = "sqlite-vec" if str(settings.database_url).startswith("sqlite") else "pgvector"
        assert (features["embeddings"], features["vector_search"]) == ("provider", compared)
        alice = await account(client, "alice@example.com")
        bob = await account(client, "bob@example.com")
        garden = (await client.post("/api/sessions", json={}, headers=alice.headers)).json()["id"]
        fake_llm.add_replies({"text": "Water the basil every morning, in the shade."})
        sent = await send_as(client, alice.headers, garden, "How do I keep my basil alive?")
        trains = (await client.post("/api/sessions", json={}, headers=alice.headers)).json()["id"]
        fake_llm.add_replies({"text": "Take the TGV from Paris."})
        await send_as(client, alice.headers, trains, "Which train goes to Lyon?")
        theirs = (await client.post("/api/sessions", json={}, headers=bob.headers)).json()["id"]
        await client.put(
            f"/api/sessions/{theirs}",
            json={"messages": [{"role": "user", "content": "basil basil basil"}]},
            headers=bob.headers,
        )

        # Not every word is there, so no keyword hit; by meaning, the basil answer first.
        query = {"q": "basil watering tips", "mode": "semantic"}
        found = await searched_until(
            client, lambda a: len(a["results"]) >= 2, alice.headers, **query
        )
        assert found["mode"] == "semantic"
        best = found["results"][0]
        assert best["message_id"] in {sent["message"]["id"], sent["reply"]["id"]}
        assert best["score_parts"]["semantic"] == best["score"] > 0
        assert "<mark>basil</mark>" in best["snippet"]
        assert all(hit["session_id"] != theirs for hit in found["results"])  # never Bob's
        by_words = await search_as(client, alice.headers, q="basil watering tips", mode="keyword")
        assert by_words["results"] == []

        # Hybrid is the default: both rankings fused, each hit with its parts.
        both = await search_as(client, alice.headers, q="shade water")
        assert both["mode"] == "hybrid"
        top = both["results"][0]
        assert top["message_id"] == sent["reply"]["id"]
        assert top["score_parts"]["keyword"] > 0 and top["score_parts"]["semantic"] > 0
        assert top["score_parts"]["fused"] == top["score"]
        only_trains = await search_as(client, alice.headers, q="basil", session_id=trains)
        assert {hit["session_id"] for hit in only_trains["results"]} <= {trains}

        # A replaced history is embedded; an edited message loses its old meaning.
        await client.put(
            f"/api/sessions/{trains}",
            json={"messages": [{"role": "user", "content": "the heron fishes at dawn"}]},
            headers=alice.headers,
        )
        heron = {"q": "heron dawn walk", "mode": "semantic", "session_id": trains}
        found = await searched_until(client, lambda a: a["results"], alice.headers, **heron)
        message_id = found["results"][0]["message_id"]
        edited = await client.patch(
            f"/api/sessions/{trains}/messages/{message_id}",
            json={"content": "the crane sleeps"},
            headers=alice.headers,
        )
        assert edited.status_code == 200, edited.text
        assert (await search_as(client, alice.headers, **heron))["results"] == []


async def test_the_local_model_finds_a_message_by_what_it_means(settings: Settings) -> None:
    """all-MiniLM-L6-v2 from roost[local-embeddings]: a query that shares no word with
    the message it finds."""
    async with running(settings, embedding_model="local") as (app, client):
        assert app.state.services.system.features()["embeddings"] == "local"
        sid = await new_session(client)
        said = [
            "My car broke down on the motorway again",
            "I baked sourdough bread this morning",
            "The cat sleeps all day on the sofa",
        ]
        lines = [{"role": "user", "content": line} for line in said]
        await client.put(f"/api/sessions/{sid}", json={"messages": lines})
        query = {"q": "vehicle repair garage", "mode": "semantic"}
        found = await searched_until(client, lambda a: len(a["results"]) == 3, {}, **query)
        assert found["results"][0]["snippet"] == said[0]
        assert (await search(client, q="vehicle repair garage", mode="keyword"))["results"] == []


async def search_as(client: Client, headers: dict[str, str], **params: Any) -> dict[str, Any]:
    response = await client.get("/api/search", params=params, headers=headers)
    assert response.status_code == 200, response.text
    return dict(response.json())


async def send_as(
    client: Client, headers: dict[str, str], sid: str, content: str
) -> dict[str, Any]:
    response = await client.post(
        f"/api/sessions/{sid}/messages", json={"content": content}, headers=headers
    )
    assert response.status_code == 200, response.text
    return dict(response.json())
