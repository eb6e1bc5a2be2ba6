"""The admin API (Oqto's ``/api/admin``): who may use it, unknown ids, every user's
sessions, and the server's numbers. Users and invite codes have files of their own."""

from typing import Any

import httpx

from roost.testing import FakeLLM
from tests.support.admin import SLOW, Team, error_code, until_streaming

UNKNOWN = {
    "{user_id}": ["usr_01m8a97z54byzvm9agg9cemc09", "nope", "ses_01m8a97z54byzvm9agg9cemc09"],
    "{code_id}": ["inv_01m8a97z54byzvm9agg9cemc09", "WELCOME", "inv_" + "a" * 300],
    "{session_id}": ["ses_01m8a97z54byzvm9agg9cemc09", "🐦", "usr_01m8a97z54byzvm9agg9cemc09"],
}
NOT_FOUND_CODES = {
    "{user_id}": "USER_NOT_FOUND",
    "{code_id}": "INVITE_CODE_NOT_FOUND",
    "{session_id}": "SESSION_NOT_FOUND",
}


def admin_routes(app: Any) -> list[tuple[str, str]]:
    spec = app.openapi()
    return [
        (method.upper(), path)
        for path, operations in spec["paths"].items()
        if path.startswith("/api/admin")
        for method in operations
    ]


# --- who may ------------------------------------------------------------------------------


async def test_every_admin_route_is_403_for_members_and_401_without_a_credential(
    team: Team,
) -> None:
    member = await team.member("bob@example.com")
    routes = admin_routes(team.app)
    assert len(routes) == 18
    for method, path in routes:
        url = path.replace("{user_id}", team.admin.id)
        body: dict[str, Any] | None = {} if method in ("POST", "PUT") else None
        as_member = await team.client.request(method, url, headers=member.headers, json=body)
        assert as_member.status_code == 403, (method, path, as_member.text)
        assert error_code(as_member) == "FORBIDDEN"
        anonymous = await team.client.request(method, url, json=body)
        assert anonymous.status_code == 401, (method, path, anonymous.text)
        assert error_code(anonymous) == "UNAUTHORIZED"
    assert (await team.call("GET", f"/api/admin/users/{team.admin.id}")).json()["is_admin"]


async def test_an_admins_api_key_needs_the_admin_scope(team: Team) -> None:
    keys = {}
    for name, scopes in (("plain", ["read", "write"]), ("admin", ["read", "admin"])):
        made = await team.call("POST", "/api/auth/api-keys", json={"name": name, "scopes": scopes})
        keys[name] = made.json()["key"]
    refused = await team.client.get("/api/admin/stats", headers={"X-API-Key": keys["plain"]})
    assert refused.status_code == 403
    allowed = await team.client.get("/api/admin/stats", headers={"X-API-Key": keys["admin"]})
    assert allowed.status_code == 200


async def test_unknown_ids_are_not_found_on_every_route(team: Team) -> None:
    checked = 0
    for method, path in admin_routes(team.app):
        placeholder = next((p for p in UNKNOWN if p in path), None)
        if placeholder is None:
            continue
        for unknown in UNKNOWN[placeholder]:
            url = path.replace(placeholder, httpx.URL(path="/" + unknown).raw_path.decode()[1:])
            body: dict[str, Any] | None = {} if method in ("POST", "PUT") else None
            response = await team.call(method, url, json=body)
            assert response.status_code == 404, (method, url, response.text)
            assert error_code(response) == NOT_FOUND_CODES[placeholder]
            checked += 1
    assert checked == 3 * 9


# --- every user's sessions, and the server --------------------------------------------------


async def test_admin_lists_every_users_sessions_with_their_owners(team: Team) -> None:
    bob = await team.member("bob@example.com")
    mine = (await team.call("POST", "/api/sessions", json={"title": "root's"})).json()
    made = [
        (
            await team.client.post("/api/sessions", headers=bob.headers, json={"title": f"b{i}"})
        ).json()["id"]
        for i in range(3)
    ]
    listed = (await team.call("GET", "/api/admin/sessions")).json()
    assert [s["id"] for s in listed["data"]] == [*made[::-1], mine["id"]]
    assert listed["sessions"] == listed["data"]
    assert {s["owner_email"] for s in listed["data"]} == {"bob@example.com", "root@example.com"}
    assert listed["data"][0]["owner_id"] == bob.id and listed["data"][0]["title"] == "b2"
    only_bob = await team.call("GET", "/api/admin/sessions", params={"user_id": bob.id})
    assert [s["id"] for s in only_bob.json()["data"]] == made[::-1]
    first = (await team.call("GET", "/api/admin/sessions", params={"limit": 2})).json()
    rest = (
        await team.call("GET", "/api/admin/sessions", params={"after": first["next_cursor"]})
    ).json()
    assert [s["id"] for s in first["data"] + rest["data"]] == [*made[::-1], mine["id"]]
    assert first["has_more"] is True and rest["has_more"] is False
    for cursor in ("ses_01m8a97z54byzvm9agg9cemc09", "garbage"):
        bad = await team.call("GET", "/api/admin/sessions", params={"after": cursor})
        assert bad.status_code == 400 and error_code(bad) == "INVALID_REQUEST"


async def test_force_deleting_another_users_session_cancels_its_running_turn(
    team: Team, fake_llm: FakeLLM
) -> None:
    bob = await team.member("bob@example.com")
    sid = (await team.client.post("/api/sessions", headers=bob.headers, json={})).json()["id"]
    fake_llm.add_replies(SLOW)
    started = await team.client.post(
        f"/api/sessions/{sid}/messages",
        headers=bob.headers,
        params={"background": True},
        json={"content": "hi"},
    )
    turn_id = started.json()["turn"]["id"]
    await until_streaming(team, turn_id)
    stats = (await team.call("GET", "/api/admin/stats")).json()
    assert stats["turns"]["running"] == 1
    assert (await team.call("DELETE", f"/api/admin/sessions/{sid}")).status_code == 204
    await fake_llm.wait_for(lambda s: s.streams_open == 0)
    assert fake_llm.stats().streams_aborted == 1 and fake_llm.stats().streams_completed == 0
    gone = await team.client.get(f"/api/sessions/{sid}", headers=bob.headers)
    assert gone.status_code == 404
    again = await team.call("DELETE", f"/api/admin/sessions/{sid}")
    assert again.status_code == 404 and error_code(again) == "SESSION_NOT_FOUND"


async def test_server_stats_count_everything(team: Team, database_url: str) -> None:
    bob = await team.member("bob@example.com")
    sid = (await team.client.post("/api/sessions", headers=bob.headers, json={})).json()["id"]
    await team.call("POST", "/api/sessions", json={})
    answered = await team.client.post(
        f"/api/sessions/{sid}/messages", headers=bob.headers, json={"content": "hi"}
    )
    assert answered.status_code == 200, answered.text
    stats = (await team.call("GET", "/api/admin/stats")).json()
    assert stats["users"]["total"] == 2 and stats["users"]["admins"] == 1
    assert stats["sessions"] == 2 and stats["messages"] == 2
    assert stats["turns"] == {
        "total": 1,
        "running": 0,
        "queued": 0,
        "by_status": {"completed": 1},
    }
    tokens = stats["tokens"]
    assert tokens["total_tokens"] == tokens["input_tokens"] + tokens["output_tokens"] > 0
    expected = "postgresql" if database_url.startswith("postgresql") else "sqlite"
    assert stats["database"] == {"backend": expected}
    assert stats["version"]


async def test_the_local_owner_is_the_admin_in_local_mode(client: httpx.AsyncClient) -> None:
    listed = (await client.get("/api/admin/users")).json()
    assert [u["local"] for u in listed["data"]] == [True]
    created = await client.post("/api/admin/invite-codes", json={"note": "from my laptop"})
    assert created.status_code == 201 and created.json()["created_by"] == listed["data"][0]["id"]
    for params in ({"limit": 0}, {"limit": "x"}, {"after": "x" * 65}, {"user_id": "u" * 65}):
        refused = await client.get("/api/admin/sessions", params=params)
        assert refused.status_code == 422, params
