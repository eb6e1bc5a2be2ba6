"""The admin API for users: create, list, change, (de)activate, delete, count."""

from typing import Any

import httpx
import pytest

from roost.store.models import ApiKey, LoginSession, Session
from roost.store.users import LOCAL_USER_ID
from roost.testing import FakeLLM
from tests.support.accounts import PASSWORD, register
from tests.support.admin import SLOW, Team, error_code, login, until_streaming


async def test_create_then_get_and_list_users(team: Team) -> None:
    created = await team.call(
        "POST",
        "/api/admin/users",
        json={"email": " Bob@Example.COM ", "password": PASSWORD, "name": "Bob", "is_admin": True},
    )
    assert created.status_code == 201, created.text
    bob = created.json()
    assert bob["email"] == "bob@example.com" and bob["is_admin"] and bob["is_active"]
    assert bob["local"] is False and bob["id"].startswith("usr_")
    assert "password" not in created.text
    assert (await team.call("GET", f"/api/admin/users/{bob['id']}")).json() == bob
    assert (await login(team.client, "bob@example.com")).is_admin
    listed = (await team.call("GET", "/api/admin/users")).json()
    assert [u["id"] for u in listed["data"]] == [bob["id"], team.admin.id, LOCAL_USER_ID]
    assert listed["users"] == listed["data"]
    assert listed["data"][-1]["local"] is True and listed["data"][-1]["email"] is None
    assert listed["has_more"] is False and listed["next_cursor"] is None


@pytest.mark.parametrize(
    "body",
    [
        {"email": 5, "password": PASSWORD},
        {"email": "cy@example.com"},
        {"email": "cy@example.com", "password": 1234567890123},
        {"email": "cy@example.com", "password": "p" * 1025},
        {"email": "cy@example.com", "password": PASSWORD, "is_admin": "yes"},
        {"email": "cy@example.com", "password": PASSWORD, "is_admin": 1},
        {"email": "cy@example.com", "password": PASSWORD, "name": "n" * 201},
        {"email": "cy@example.com", "password": PASSWORD, "name": "a\x00b"},
        {"email": "c" * 400 + "@example.com", "password": PASSWORD},
        [],
    ],
)
async def test_create_user_refuses_bad_bodies_with_422(team: Team, body: Any) -> None:
    response = await team.call("POST", "/api/admin/users", json=body)
    assert response.status_code == 422, response.text
    assert error_code(response) == "VALIDATION_ERROR"
    assert len((await team.call("GET", "/api/admin/users")).json()["data"]) == 2


async def test_create_user_refuses_taken_emails_weak_passwords_and_non_emails(team: Team) -> None:
    taken = await team.call(
        "POST", "/api/admin/users", json={"email": "ROOT@example.com", "password": PASSWORD}
    )
    assert taken.status_code == 409 and error_code(taken) == "ALREADY_EXISTS"
    weak = await team.call(
        "POST", "/api/admin/users", json={"email": "cy@example.com", "password": "password123"}
    )
    assert weak.status_code == 422 and "password" in weak.text
    not_email = await team.call(
        "POST", "/api/admin/users", json={"email": "cy", "password": PASSWORD}
    )
    assert not_email.status_code == 422 and error_code(not_email) == "VALIDATION_ERROR"
    malformed = await team.client.post(
        "/api/admin/users",
        headers=team.admin.headers | {"content-type": "application/json"},
        content=b'{"email": ',
    )
    assert malformed.status_code == 400
    assert len((await team.call("GET", "/api/admin/users")).json()["data"]) == 2


async def test_user_list_filters_and_pages(team: Team) -> None:
    for name in ("ann", "ben", "cat_x", "dan"):
        await team.call(
            "POST",
            "/api/admin/users",
            json={
                "email": f"{name.replace('_', '')}@corp.example",
                "password": PASSWORD,
                "name": name,
            },
        )
    dan = (await team.call("GET", "/api/admin/users", params={"q": "DAN@"})).json()["data"]
    assert [u["name"] for u in dan] == ["dan"]
    await team.call("POST", f"/api/admin/users/{dan[0]['id']}/deactivate")

    def names(response: httpx.Response) -> list[str]:
        return [u["name"] for u in response.json()["data"]]

    assert names(await team.call("GET", "/api/admin/users", params={"q": "corp"})) == [
        "dan",
        "cat_x",
        "ben",
        "ann",
    ]
    assert names(await team.call("GET", "/api/admin/users", params={"q": "_"})) == ["cat_x"]
    assert names(await team.call("GET", "/api/admin/users", params={"q": "%"})) == []
    assert names(await team.call("GET", "/api/admin/users", params={"active": False})) == ["dan"]
    active = await team.call("GET", "/api/admin/users", params={"active": True, "q": "corp"})
    assert names(active) == ["cat_x", "ben", "ann"]
    seen: list[str] = []
    cursor = None
    while True:
        params = {"limit": 2} | ({"after": cursor} if cursor else {})
        page = (await team.call("GET", "/api/admin/users", params=params)).json()
        seen += [u["name"] for u in page["data"]]
        cursor = page["next_cursor"]
        if not page["has_more"]:
            break
    assert seen == ["dan", "cat_x", "ben", "ann", "root", "local"]
    for params in ({"limit": 0}, {"limit": 201}, {"active": "maybe"}, {"q": "q" * 201}):
        assert (await team.call("GET", "/api/admin/users", params=params)).status_code == 422
    bad_cursor = await team.call("GET", "/api/admin/users", params={"after": "nope"})
    assert bad_cursor.status_code == 400 and error_code(bad_cursor) == "INVALID_REQUEST"


async def test_put_changes_only_what_was_sent(team: Team) -> None:
    bob = await team.member("bob@example.com", name="Bob")
    changed = await team.call(
        "PUT",
        f"/api/admin/users/{bob.id}",
        json={"name": "Robert", "email": "Robert@Example.com", "is_admin": True, "password": None},
    )
    assert changed.status_code == 200, changed.text
    body = changed.json()
    assert (body["name"], body["email"], body["is_admin"]) == ("Robert", "robert@example.com", True)
    assert (await team.client.get("/api/me", headers=bob.headers)).status_code == 200
    demoted = await team.call("PUT", f"/api/admin/users/{bob.id}", json={"is_admin": False})
    assert demoted.json()["is_admin"] is False and demoted.json()["name"] == "Robert"
    refused = await team.client.get("/api/admin/stats", headers=bob.headers)
    assert refused.status_code == 403  # the role is read on every request


async def test_put_password_resets_it_and_ends_every_login(team: Team) -> None:
    bob = await team.member("bob@example.com")
    new = "a brand new secret"
    reset = await team.call("PUT", f"/api/admin/users/{bob.id}", json={"password": new})
    assert reset.status_code == 200
    assert (await team.client.get("/api/me", headers=bob.headers)).status_code == 401
    refreshed = await team.client.post("/api/auth/refresh", json={"refresh_token": bob.refresh})
    assert refreshed.status_code == 401
    assert (
        await team.count(
            LoginSession, LoginSession.user_id == bob.id, LoginSession.revoked_at.is_(None)
        )
        == 0
    )
    old = await team.client.post(
        "/api/auth/login", json={"email": "bob@example.com", "password": PASSWORD}
    )
    assert old.status_code == 401
    again = await login(team.client, "bob@example.com", new)
    assert (await team.client.get("/api/me", headers=again.headers)).status_code == 200


@pytest.mark.parametrize(
    ("body", "status"),
    [
        ({"email": "root@example.com"}, 409),
        ({"email": "not-an-email"}, 422),
        ({"password": "12345678901234"}, 422),
        ({"is_admin": "true"}, 422),
        ({"is_active": 0}, 422),
        ({"name": ["x"]}, 422),
        ({"email": "e" * 321}, 422),
    ],
)
async def test_put_refuses_bad_changes(team: Team, body: dict[str, Any], status: int) -> None:
    bob = await team.member("bob@example.com")
    response = await team.call("PUT", f"/api/admin/users/{bob.id}", json=body)
    assert response.status_code == status, response.text
    after = (await team.call("GET", f"/api/admin/users/{bob.id}")).json()
    assert after["email"] == "bob@example.com" and after["is_active"] and not after["is_admin"]


async def test_an_admin_cannot_demote_deactivate_or_delete_themselves(team: Team) -> None:
    me = f"/api/admin/users/{team.admin.id}"
    for method, url, body in (
        ("PUT", me, {"is_admin": False}),
        ("PUT", me, {"is_active": False}),
        ("POST", f"{me}/deactivate", None),
        ("DELETE", me, None),
    ):
        response = await team.call(method, url, json=body)
        assert response.status_code == 400, (method, url, response.text)
        assert error_code(response) == "INVALID_REQUEST"
    renamed = await team.call("PUT", me, json={"name": "Root", "is_admin": True})
    assert renamed.status_code == 200 and renamed.json()["name"] == "Root"
    assert (await team.call("GET", "/api/admin/stats")).status_code == 200


async def test_the_local_owner_is_listed_marked_and_kept(team: Team) -> None:
    local = f"/api/admin/users/{LOCAL_USER_ID}"
    shown = (await team.call("GET", local)).json()
    assert shown["local"] is True and shown["is_admin"] and shown["email"] is None
    for method, url, body in (
        ("DELETE", local, None),
        ("POST", f"{local}/deactivate", None),
        ("PUT", local, {"is_admin": False}),
        ("PUT", local, {"email": "local@example.com"}),
        ("PUT", local, {"password": "a brand new secret"}),
    ):
        response = await team.call(method, url, json=body)
        assert response.status_code == 400, (method, url, response.text)
    assert (await team.call("PUT", local, json={"name": "Laptop"})).json()["name"] == "Laptop"
    assert (await team.call("GET", local)).json()["is_active"] is True


async def test_deactivation_stops_tokens_and_api_keys_at_once(team: Team) -> None:
    code = (await team.invite())["code"]
    registered = await register(team.client, "bob@example.com", invite_code=code)
    assert registered.status_code == 201, registered.text
    bob = await login(team.client, "bob@example.com")
    key = (
        await team.client.post("/api/auth/api-keys", headers=bob.headers, json={"name": "ci"})
    ).json()["key"]
    as_token, as_key = bob.headers, {"X-API-Key": key}
    for headers in (as_token, as_key):
        assert (await team.client.get("/api/sessions", headers=headers)).status_code == 200
    off = await team.call("POST", f"/api/admin/users/{bob.id}/deactivate")
    assert off.status_code == 200 and off.json()["is_active"] is False
    for headers in (as_token, as_key):
        refused = await team.client.get("/api/sessions", headers=headers)
        assert refused.status_code == 401 and error_code(refused) == "UNAUTHORIZED"
    refreshed = await team.client.post("/api/auth/refresh", json={"refresh_token": bob.refresh})
    assert refreshed.status_code == 401
    again = await team.client.post(
        "/api/auth/login", json={"email": "bob@example.com", "password": PASSWORD}
    )
    assert again.status_code == 403
    on = await team.call("POST", f"/api/admin/users/{bob.id}/activate")
    assert on.status_code == 200 and on.json()["is_active"] is True
    assert (await team.client.get("/api/sessions", headers=as_key)).status_code == 200
    assert (await team.client.get("/api/sessions", headers=as_token)).status_code == 401
    assert (await login(team.client, "bob@example.com")).id == bob.id


async def test_deleting_a_user_stops_their_turn_and_removes_all_they_own(
    team: Team, fake_llm: FakeLLM
) -> None:
    bob = await team.member("bob@example.com")
    await team.client.post("/api/auth/api-keys", headers=bob.headers, json={"name": "ci"})
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
    deleted = await team.call("DELETE", f"/api/admin/users/{bob.id}")
    assert deleted.status_code == 204
    await fake_llm.wait_for(lambda s: s.streams_open == 0)
    assert fake_llm.stats().streams_aborted == 1
    again = await team.call("GET", f"/api/admin/users/{bob.id}")
    assert again.status_code == 404 and error_code(again) == "USER_NOT_FOUND"
    assert await team.count(Session, Session.owner_id == bob.id) == 0
    assert await team.count(ApiKey, ApiKey.user_id == bob.id) == 0
    assert await team.count(LoginSession, LoginSession.user_id == bob.id) == 0
    assert (await team.client.get("/api/me", headers=bob.headers)).status_code == 401


async def test_user_stats_count_accounts(team: Team) -> None:
    bob = await team.member("bob@example.com")
    await team.member("cy@example.com", is_admin=True)
    await team.call("POST", f"/api/admin/users/{bob.id}/deactivate")
    stats = (await team.call("GET", "/api/admin/users/stats")).json()
    assert stats == {
        "total": 3,
        "active": 2,
        "inactive": 1,
        "admins": 2,
        "created_last_7_days": 3,
        "created_last_30_days": 3,
        "logged_in_last_7_days": 3,
    }
