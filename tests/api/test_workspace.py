"""Oqto's workspace: a project's meta, and its sandbox policy that only admins loosen."""

from typing import Any

import httpx
import pytest

from roost.store.users import LOCAL_USER_ID
from tests.support.admin import Team
from tests.support.projects import code, new_project

pytestmark = pytest.mark.located

Client = httpx.AsyncClient


async def test_meta_is_merged_and_defaults_to_the_active_project(client: Client) -> None:
    project = await new_project(client, "Meta")
    pid = project["id"]
    none_active = await client.get("/api/workspace/meta")
    assert none_active.status_code == 400 and code(none_active) == "NO_ACTIVE_PROJECT"
    first = await client.patch(
        "/api/workspace/meta", params={"project_id": pid}, json={"color": "teal", "tags": ["a"]}
    )
    assert first.json() == {"project_id": pid, "meta": {"color": "teal", "tags": ["a"]}}
    await client.post(f"/api/projects/{pid}/activate")
    merged = await client.patch("/api/workspace/meta", json={"color": None, "pinned": True})
    assert merged.json() == {"project_id": pid, "meta": {"tags": ["a"], "pinned": True}}
    assert (await client.get("/api/workspace/meta")).json()["meta"] == {
        "tags": ["a"],
        "pinned": True,
    }
    assert (await client.get(f"/api/projects/{pid}")).json()["meta"] == merged.json()["meta"]


async def test_bad_or_oversized_meta_is_refused(client: Client) -> None:
    pid = (await new_project(client, "Meta"))["id"]
    url = f"/api/workspace/meta?project_id={pid}"
    for body in ([1, 2], "text", {"k": "a\x00"}, {"blob": "x" * 20_000}):
        refused = await client.patch(url, json=body)
        assert refused.status_code == 422, body
    for i in range(4):
        grown = await client.patch(url, json={f"k{i}": "y" * 15_000})
        assert grown.status_code == 200
    too_big = await client.patch(url, json={"k9": "y" * 15_000})
    assert too_big.status_code == 413 and code(too_big) == "PAYLOAD_TOO_LARGE"
    assert len((await client.get(url)).json()["meta"]) == 4


async def test_sandbox_shows_the_policy_and_what_the_server_allows(client: Client) -> None:
    pid = (await new_project(client, "Box"))["id"]
    shown = (await client.get("/api/workspace/sandbox", params={"project_id": pid})).json()
    assert shown["policy"]["allow_commands"] is True
    assert shown["effective"]["allow_commands"] is False  # run_command is off on this server
    assert shown["effective"]["allow_network"] is False and shown["may_loosen"] is True


async def test_a_member_may_only_tighten_the_sandbox(team: Team) -> None:
    bob = await team.member("bob@example.com")
    pid = (await new_project(team.client, "Bob's", headers=bob.headers))["id"]
    url = f"/api/workspace/sandbox?project_id={pid}"

    async def patch(body: dict[str, Any]) -> httpx.Response:
        return await team.client.patch(url, headers=bob.headers, json=body)

    tightened = await patch({"read_only": True, "allow_network": False, "denied_paths": [".env"]})
    assert tightened.status_code == 200
    assert tightened.json()["policy"] == {
        "read_only": True,
        "allow_commands": True,
        "allow_network": False,
        "denied_paths": [".env"],
    }
    assert tightened.json()["may_loosen"] is False
    more = await patch({"allow_commands": False, "denied_paths": [".env", "secrets/*"]})
    assert more.json()["policy"]["denied_paths"] == [".env", "secrets/*"]
    for body, fields in (
        ({"read_only": False}, ["read_only"]),
        ({"allow_network": True, "allow_commands": True}, ["allow_commands", "allow_network"]),
        ({"denied_paths": ["secrets/*"]}, ["denied_paths"]),
        ({"denied_paths": []}, ["denied_paths"]),
    ):
        refused = await patch(body)
        assert refused.status_code == 403 and code(refused) == "SANDBOX_LOOSENING_FORBIDDEN"
        assert refused.json()["error"]["details"]["fields"] == fields
    kept = (await team.client.get(url, headers=bob.headers)).json()["policy"]
    assert kept == {
        "read_only": True,
        "allow_commands": False,
        "allow_network": False,
        "denied_paths": [".env", "secrets/*"],
    }


async def test_an_admin_may_loosen_their_projects_sandbox(team: Team) -> None:
    pid = (await new_project(team.client, "Root's", headers=team.admin.headers))["id"]
    url = f"/api/workspace/sandbox?project_id={pid}"
    await team.call("PATCH", url, json={"read_only": True, "denied_paths": ["a", "b"]})
    loosened = await team.call("PATCH", url, json={"read_only": False, "denied_paths": ["b"]})
    assert loosened.status_code == 200 and loosened.json()["may_loosen"] is True
    assert loosened.json()["policy"]["read_only"] is False
    assert loosened.json()["policy"]["denied_paths"] == ["b"]
    made = await team.call("POST", "/api/auth/api-keys", json={"name": "k", "scopes": ["write"]})
    by_key = await team.client.patch(
        url, headers={"X-API-Key": made.json()["key"]}, json={"denied_paths": []}
    )
    assert by_key.status_code == 403 and code(by_key) == "SANDBOX_LOOSENING_FORBIDDEN"


async def test_the_policy_reaches_turns_and_tools(app: Any, client: Client) -> None:
    pid = (await new_project(client, "Strict"))["id"]
    await client.patch(
        f"/api/workspace/sandbox?project_id={pid}",
        json={"read_only": True, "denied_paths": ["private/*"]},
    )
    turn = await app.state.services.projects.for_turn(LOCAL_USER_ID, pid)
    assert turn.policy.read_only is True and turn.policy.denied_paths == ("private/*",)
    sandbox = await app.state.services.projects.sandbox_for(LOCAL_USER_ID, pid)
    assert sandbox.policy == turn.policy


async def test_bad_sandbox_changes_are_refused(client: Client) -> None:
    pid = (await new_project(client, "Box"))["id"]
    url = f"/api/workspace/sandbox?project_id={pid}"
    for body in (
        {"read_only": "yes"},
        {"denied_paths": "secret"},
        {"denied_paths": [""]},
        {"denied_paths": ["x" * 300]},
        {"denied_paths": ["a\x00"]},
        {"denied_paths": [f"p{i}" for i in range(101)]},
    ):
        assert (await client.patch(url, json=body)).status_code == 422, body
    unknown = await client.get("/api/workspace/sandbox?project_id=proj_01m8a97z54byzvm9agg9cemc09")
    assert unknown.status_code == 404 and code(unknown) == "PROJECT_NOT_FOUND"
