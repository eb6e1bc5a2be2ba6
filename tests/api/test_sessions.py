"""Sessions over HTTP: create, read, list, change, import, delete."""

import asyncio
from typing import Any

import httpx
import pytest

Client = httpx.AsyncClient


async def create(client: Client, **body: object) -> dict[str, Any]:
    response = await client.post("/api/sessions", json=body)
    assert response.status_code == 201, response.text
    return dict(response.json())


@pytest.fixture
async def coder(client: Client) -> str:
    """Agents of the user's own, for sessions to name."""
    for name in ("coder", "writer"):
        made = await client.post("/api/agents", json={"name": name, "preamble": f"A {name}."})
        assert made.status_code == 201, made.text
    return "coder"


@pytest.mark.usefixtures("coder")
async def test_create_returns_201_with_the_whole_session(client: Client) -> None:
    session = await create(client, title="Weather in Paris", agent="coder", model="gpt-4o")
    assert session["id"].startswith("ses_")
    assert session["title"] == session["display_title"] == "Weather in Paris"
    assert session["agent"] == "coder"
    assert session["model"] == "gpt-4o"
    assert session["status"] == "idle"
    assert session["message_count"] == 0
    assert session["pinned"] is False and session["archived"] is False
    assert session["created_at"].endswith("Z")


async def test_create_without_a_body_gives_a_new_chat(client: Client) -> None:
    response = await client.post("/api/sessions")
    assert response.status_code == 201
    assert response.json()["display_title"] == "New Chat"
    assert response.json()["custom_title"] is None


@pytest.mark.usefixtures("coder")
async def test_create_accepts_the_seed_spellings(client: Client) -> None:
    session = await create(
        client, name="Bug Fix Session", model_role="coder", workingDirectory="/srv/app/"
    )
    assert session["title"] == "Bug Fix Session"
    assert session["agent"] == "coder"
    assert session["working_directory"] == "/srv/app"


async def test_a_session_naming_no_agent_of_the_users_is_refused(client: Client) -> None:
    response = await client.post("/api/sessions", json={"agent": "nobody"})
    assert response.status_code == 404
    error = response.json()["error"]
    assert error["code"] == "AGENT_NOT_FOUND"
    assert "assistant" in error["details"]["available"]
    listed = (await client.get("/api/sessions")).json()["data"]
    assert listed == []


async def test_unicode_and_emoji_titles_round_trip(client: Client) -> None:
    title = "Ünïcödé 🐦‍🔥 标题 עברית"
    session = await create(client, title=title)
    fetched = (await client.get(f"/api/sessions/{session['id']}")).json()
    assert fetched["title"] == title


async def test_get_returns_the_session_with_its_newest_messages(client: Client) -> None:
    session = await create(client)
    messages = [
        {"role": "user" if i % 2 == 0 else "assistant", "content": f"m{i}"} for i in range(7)
    ]
    await client.put(f"/api/sessions/{session['id']}", json={"messages": messages})
    response = await client.get(f"/api/sessions/{session['id']}", params={"limit": 5})
    body = response.json()
    assert [m["content"] for m in body["messages"]] == ["m2", "m3", "m4", "m5", "m6"]
    assert body["has_more"] is True
    assert body["message_count"] == 7
    assert all("turn_id" in m for m in body["messages"])


async def test_list_puts_pinned_first_then_most_recently_updated(client: Client) -> None:
    first = await create(client, title="first")
    second = await create(client, title="second")
    third = await create(client, title="third")
    await client.patch(f"/api/sessions/{first['id']}", json={"pinned": True})
    await client.patch(f"/api/sessions/{second['id']}", json={"folder": "Work"})
    listed = (await client.get("/api/sessions")).json()
    assert [s["id"] for s in listed["data"]] == [first["id"], second["id"], third["id"]]
    assert listed["has_more"] is False and listed["next_cursor"] is None


async def test_list_filters_combine(client: Client) -> None:
    work = await create(client, title="Alpha plan", folder="Work")
    await create(client, title="Alpha notes", folder="Home")
    archived = await create(client, title="Beta", folder="Work", archived=True)

    def ids(response: httpx.Response) -> list[str]:
        return [s["id"] for s in response.json()["data"]]

    assert ids(await client.get("/api/sessions", params={"folder": "Work", "archived": False})) == [
        work["id"]
    ]
    assert ids(await client.get("/api/sessions", params={"archived": True})) == [archived["id"]]
    assert len(ids(await client.get("/api/sessions", params={"q": "alpha"}))) == 2
    assert ids(await client.get("/api/sessions", params={"q": "%"})) == []
    assert ids(await client.get("/api/sessions", params={"pinned": True})) == []


async def test_list_pages_forward_and_back_without_gaps(client: Client) -> None:
    made = [await create(client, title=f"s{i}") for i in range(7)]
    expected = [s["id"] for s in reversed(made)]
    seen: list[str] = []
    cursor = None
    for _ in range(10):
        params = {"limit": 3} | ({"after": cursor} if cursor else {})
        page = (await client.get("/api/sessions", params=params)).json()
        seen += [s["id"] for s in page["data"]]
        cursor = page["next_cursor"]
        if not page["has_more"]:
            assert cursor is None
            break
    assert seen == expected
    back = (await client.get("/api/sessions", params={"limit": 2, "before": expected[4]})).json()
    assert [s["id"] for s in back["data"]] == expected[2:4]
    assert back["has_more"] is True


@pytest.mark.usefixtures("coder")
async def test_patch_changes_only_what_was_sent(client: Client) -> None:
    session = await create(client, title="Old", agent="coder", metadata={"keep": 1, "drop": 2})
    response = await client.patch(
        f"/api/sessions/{session['id']}",
        json={
            "title": "Weather in Paris",
            "model_role": "writer",
            "metadata": {"drop": None, "new": "x"},
        },
    )
    assert response.status_code == 200
    changed = response.json()
    assert changed["title"] == changed["custom_title"] == "Weather in Paris"
    assert changed["agent"] == "writer"
    assert changed["metadata"] == {"keep": 1, "new": "x"}
    assert changed["updated_at"] >= session["updated_at"]
    again = (await client.get(f"/api/sessions/{session['id']}")).json()
    assert again["agent"] == "writer" and again["folder"] is None


async def test_patch_null_clears_folder_and_custom_title(client: Client) -> None:
    session = await create(client, title="Mine", folder="Work")
    changed = (
        await client.patch(
            f"/api/sessions/{session['id']}", json={"folder": None, "customTitle": None}
        )
    ).json()
    assert changed["folder"] is None
    assert changed["custom_title"] is None
    assert changed["display_title"] == "Mine"


async def test_put_replaces_title_and_messages(client: Client) -> None:
    session = await create(client)
    first = await client.put(
        f"/api/sessions/{session['id']}",
        json={
            "title": "Imported",
            "messages": [
                {"role": "user", "content": "Hello", "timestamp": 1771149794000},
                {"role": "assistant", "content": "Hi there!", "timestamp": 1771149795000},
            ],
        },
    )
    assert first.status_code == 200
    assert first.json()["message_count"] == 2
    await client.put(
        f"/api/sessions/{session['id']}", json={"messages": [{"role": "user", "content": "Only"}]}
    )
    detail = (await client.get(f"/api/sessions/{session['id']}")).json()
    assert detail["title"] == "Imported"
    assert [m["content"] for m in detail["messages"]] == ["Only"]
    assert detail["message_count"] == 1


async def test_put_keeps_floyd_timestamps(client: Client) -> None:
    session = await create(client)
    await client.put(
        f"/api/sessions/{session['id']}",
        json={"messages": [{"role": "user", "content": "Hello", "timestamp": 1771149794000}]},
    )
    message = (await client.get(f"/api/sessions/{session['id']}/messages")).json()["data"][0]
    assert message["created_at"] == "2026-02-15T10:03:14.000Z"


async def test_delete_removes_the_session_and_its_messages(client: Client) -> None:
    session = await create(client)
    await client.put(
        f"/api/sessions/{session['id']}", json={"messages": [{"role": "user", "content": "x"}]}
    )
    response = await client.delete(f"/api/sessions/{session['id']}")
    assert response.status_code == 204
    assert response.content == b""
    assert (await client.get(f"/api/sessions/{session['id']}")).status_code == 404
    gone = await client.get(f"/api/sessions/{session['id']}/messages")
    assert gone.json()["error"]["code"] == "SESSION_NOT_FOUND"
    assert (await client.delete(f"/api/sessions/{session['id']}")).status_code == 404


@pytest.mark.parametrize("session_id", ["not-an-id", "ses_" + "z" * 26, "proj_" + "0" * 26])
async def test_deleting_a_malformed_session_id_is_not_found(
    client: Client, session_id: str
) -> None:
    response = await client.delete(f"/api/sessions/{session_id}")
    assert response.status_code == 404
    error = response.json()["error"]
    assert error["code"] == "SESSION_NOT_FOUND"
    assert session_id in error["details"].values()


async def test_floyd_field_routes_answer_success_and_session(client: Client) -> None:
    session = await create(client)
    sid = session["id"]
    renamed = (
        await client.patch(f"/api/sessions/{sid}/rename", json={"customTitle": "Mine"})
    ).json()
    assert renamed["success"] is True
    assert renamed["session"]["custom_title"] == renamed["session"]["display_title"] == "Mine"
    assert renamed["session"]["title"] == "New Chat"
    pinned = (await client.patch(f"/api/sessions/{sid}/pin", json={"pinned": True})).json()
    assert pinned["session"]["pinned"] is True
    moved = (await client.patch(f"/api/sessions/{sid}/folder", json={"folder": "Work"})).json()
    assert moved["session"]["folder"] == "Work"
    archived = (await client.patch(f"/api/sessions/{sid}/archive", json={"archived": True})).json()
    assert archived["session"]["archived"] is True
    final = (await client.get(f"/api/sessions/{sid}")).json()
    assert (final["pinned"], final["folder"], final["archived"]) == (True, "Work", True)


async def test_folders_lists_each_folder_in_use_once(client: Client) -> None:
    for folder in ("Work", "Personal", "Work", "Research"):
        await create(client, folder=folder)
    await create(client)
    body = (await client.get("/api/folders")).json()
    assert body["folders"] == body["data"] == ["Personal", "Research", "Work"]
    first = (await client.get("/api/folders", params={"limit": 2})).json()
    assert first["data"] == ["Personal", "Research"] and first["next_cursor"] == "Research"
    rest = (await client.get("/api/folders", params={"after": "Research"})).json()
    assert rest["data"] == ["Work"] and rest["has_more"] is False


async def test_get_or_create_returns_the_same_session_for_a_workspace(client: Client) -> None:
    first = await client.post("/api/sessions/get-or-create", json={"working_directory": "/w/a"})
    assert first.status_code == 201
    again = await client.post(
        "/api/sessions/get-or-create-for-workspace", json={"workspacePath": "/w/a/"}
    )
    assert again.status_code == 200
    assert again.json()["id"] == first.json()["id"]
    other = await client.post("/api/sessions/get-or-create", json={"path": "/w/b", "title": "B"})
    assert other.status_code == 201
    assert other.json()["title"] == "B"


async def test_get_or_create_under_concurrency_makes_one_session(client: Client) -> None:
    responses = await asyncio.gather(
        *(
            client.post("/api/sessions/get-or-create", json={"working_directory": "/race"})
            for _ in range(12)
        )
    )
    assert {r.status_code for r in responses} <= {200, 201}
    assert len({r.json()["id"] for r in responses}) == 1
    assert [r.status_code for r in responses].count(201) == 1
    listed = (await client.get("/api/sessions")).json()["data"]
    assert len(listed) == 1


async def test_get_or_create_finds_a_session_made_by_post(client: Client) -> None:
    made = await create(client, working_directory="/w/existing")
    found = await client.post(
        "/api/sessions/get-or-create", json={"working_directory": "/w/existing"}
    )
    assert found.status_code == 200
    assert found.json()["id"] == made["id"]


@pytest.mark.parametrize("prefix", ["/api", "/api/v1"])
async def test_every_route_answers_under_both_prefixes(client: Client, prefix: str) -> None:
    created = await client.post(f"{prefix}/sessions", json={"title": "x"})
    assert created.status_code == 201
    assert (await client.get(f"{prefix}/sessions/{created.json()['id']}")).status_code == 200
