"""Accounts, logins, tokens and API keys — and the attacks on them."""

import asyncio
from datetime import UTC, datetime, timedelta
from typing import Any

import httpx
import jwt
import pytest
from sqlalchemy import func, select, update

from roost.app import UnsafeConfiguration, create_app
from roost.config import Settings
from roost.services.tokens import AccessClaims, TokenSigner
from roost.store.models import ApiKey, User
from tests.support.accounts import PASSWORD, account, register

Client = httpx.AsyncClient


def code(response: httpx.Response) -> str:
    return str(response.json()["error"]["code"])


async def test_the_first_user_is_admin_and_the_next_is_not(open_app: tuple[Any, Client]) -> None:
    _, client = open_app
    first = await register(client, "Ada@Example.com")
    assert first.status_code == 201
    assert first.json()["is_admin"] is True and first.json()["email"] == "ada@example.com"
    assert "password" not in first.text
    second = await register(client, "bob@example.com")
    assert second.json()["is_admin"] is False


async def test_invite_mode_needs_a_code_after_the_first_user(settings: Settings) -> None:
    app = create_app(settings.model_copy(update={"auth": "required"}))  # invite is the default
    async with app.router.lifespan_context(app):
        transport = httpx.ASGITransport(app=app)
        async with httpx.AsyncClient(transport=transport, base_url="http://t") as client:
            assert (await register(client, "ada@example.com")).status_code == 201
            refused = await register(client, "bob@example.com")
            assert refused.status_code == 403 and code(refused) == "FORBIDDEN"
            wrong = await register(client, "bob@example.com", invite_code="nope")
            assert wrong.status_code == 403
            async with app.state.services.database.write() as db:
                from roost.store.models import InviteCode

                db.add(InviteCode(id="inv_01m8a97z54byzvm9agg9cemc09", code="WELCOME", max_uses=1))
            admitted = await register(client, "bob@example.com", invite_code="WELCOME")
            assert admitted.status_code == 201
            used_up = await register(client, "cy@example.com", invite_code="WELCOME")
            assert used_up.status_code == 403


async def test_closed_registration_refuses_everyone_after_the_first(settings: Settings) -> None:
    app = create_app(settings.model_copy(update={"auth": "required", "registration": "closed"}))
    async with app.router.lifespan_context(app):
        transport = httpx.ASGITransport(app=app)
        async with httpx.AsyncClient(transport=transport, base_url="http://t") as client:
            assert (await register(client, "ada@example.com")).status_code == 201
            assert (await register(client, "bob@example.com")).status_code == 403


@pytest.mark.parametrize(
    ("body", "status"),
    [
        ({"email": "not-an-email", "password": PASSWORD}, 422),
        ({"email": "a@b.c' OR '1'='1", "password": PASSWORD}, 422),
        ({"email": "x" * 400 + "@example.com", "password": PASSWORD}, 422),
        ({"email": "weak@example.com", "password": "short"}, 422),
        ({"email": "weak@example.com", "password": "password123"}, 422),
        ({"email": "weak@example.com", "password": "1234567890123"}, 422),
        ({"email": "weak@example.com"}, 422),
        ({"email": 5, "password": PASSWORD}, 422),
    ],
)
async def test_bad_registrations_are_refused(
    open_app: tuple[Any, Client], body: dict[str, Any], status: int
) -> None:
    app, client = open_app
    response = await client.post("/api/auth/register", json=body)
    assert response.status_code == status, response.text
    async with app.state.services.database.read() as db:
        assert (
            await db.scalar(select(func.count()).select_from(User).where(User.email.is_not(None)))
            == 0
        )


async def test_an_email_is_taken_whatever_its_case(open_app: tuple[Any, Client]) -> None:
    _, client = open_app
    await register(client, "ada@example.com")
    again = await register(client, "  ADA@example.COM ")
    assert again.status_code == 409 and code(again) == "ALREADY_EXISTS"


async def test_login_gives_tokens_a_cookie_and_access(open_app: tuple[Any, Client]) -> None:
    _, client = open_app
    await register(client, "ada@example.com")
    response = await client.post(
        "/api/auth/login", json={"email": "ada@example.com", "password": PASSWORD}
    )
    assert response.status_code == 200
    body = response.json()
    assert body["token_type"] == "bearer" and body["expires_in"] == 3600
    cookie = response.headers.get_list("set-cookie")
    assert any("roost_access=" in c and "HttpOnly" in c and "SameSite=lax" in c for c in cookie)
    by_cookie = await client.get("/api/sessions")  # the client keeps the cookie
    assert by_cookie.status_code == 200
    client.cookies.clear()
    assert (await client.get("/api/sessions")).status_code == 401
    by_header = await client.get(
        "/api/me", headers={"Authorization": f"Bearer {body['access_token']}"}
    )
    assert by_header.json()["email"] == "ada@example.com"


async def test_a_wrong_password_and_an_unknown_email_look_the_same(
    open_app: tuple[Any, Client],
) -> None:
    _, client = open_app
    await register(client, "ada@example.com")
    wrong = await client.post(
        "/api/auth/login", json={"email": "ada@example.com", "password": "x" * 12}
    )
    unknown = await client.post(
        "/api/auth/login", json={"email": "who@example.com", "password": "x" * 12}
    )
    assert wrong.status_code == unknown.status_code == 401
    assert wrong.json()["error"]["message"] == unknown.json()["error"]["message"]


async def test_required_mode_needs_a_credential_but_health_does_not(
    open_app: tuple[Any, Client],
) -> None:
    _, client = open_app
    denied = await client.get("/api/sessions")
    assert denied.status_code == 401 and code(denied) == "UNAUTHORIZED"
    health = await client.get("/api/health", headers={"Authorization": "Bearer nonsense"})
    assert health.status_code == 200 and health.json()["authenticated"] is False
    assert (await client.get("/api/features")).status_code == 200
    assert (await client.get("/api/openapi.json")).status_code == 200
    ada = await account(client, "ada@example.com")
    assert (await client.get("/api/health", headers=ada.headers)).json()["authenticated"] is True


async def test_forged_expired_and_malformed_tokens_are_refused(
    open_app: tuple[Any, Client],
) -> None:
    app, client = open_app
    ada = await account(client, "ada@example.com")
    signer: TokenSigner = app.state.services.auth.signer
    expired = signer.issue(AccessClaims(ada.id, 1, None), timedelta(minutes=-5))
    forged = TokenSigner("someone else's secret, long enough for HS256", []).issue(
        AccessClaims(ada.id, 1, None), timedelta(minutes=5)
    )
    now = int(datetime.now(UTC).timestamp())
    claims = {"sub": ada.id, "ver": 1, "typ": "access", "iat": now, "exp": now + 600}
    unsigned = jwt.encode(claims, key="", algorithm="none")
    header, payload, _ = ada.token.split(".")
    tampered = f"{header}.{payload[:-2]}xx.{ada.token.split('.')[2]}"
    for token in (expired, forged, unsigned, tampered, "a.b.c", "", "Bearer", ada.token + "x"):
        response = await client.get("/api/sessions", headers={"Authorization": f"Bearer {token}"})
        assert response.status_code == 401, token
    assert (await client.get("/api/sessions", headers=ada.headers)).status_code == 200


async def test_a_token_in_the_query_string_is_not_accepted(open_app: tuple[Any, Client]) -> None:
    _, client = open_app
    ada = await account(client, "ada@example.com")
    response = await client.get("/api/sessions", params={"token": ada.token})
    assert response.status_code == 401


async def test_logout_ends_the_login(open_app: tuple[Any, Client]) -> None:
    _, client = open_app
    ada = await account(client, "ada@example.com")
    other = await account(client, "ada@example.com")
    assert (await client.post("/api/auth/logout", headers=ada.headers)).json() == {"success": True}
    assert (await client.get("/api/me", headers=ada.headers)).status_code == 401
    refreshed = await client.post("/api/auth/refresh", json={"refresh_token": ada.refresh})
    assert refreshed.status_code == 401
    assert (await client.get("/api/me", headers=other.headers)).status_code == 200


async def test_refresh_rotates_and_a_reused_token_ends_the_login(
    open_app: tuple[Any, Client],
) -> None:
    _, client = open_app
    ada = await account(client, "ada@example.com")
    first = await client.post("/api/auth/refresh", json={"refresh_token": ada.refresh})
    assert first.status_code == 200
    new = first.json()
    assert new["refresh_token"] != ada.refresh
    assert (
        await client.get("/api/me", headers={"Authorization": f"Bearer {new['access_token']}"})
    ).status_code == 200
    reused = await client.post("/api/auth/refresh", json={"refresh_token": ada.refresh})
    assert reused.status_code == 401
    thief = await client.post("/api/auth/refresh", json={"refresh_token": new["refresh_token"]})
    assert thief.status_code == 401  # the whole login ended
    gone = await client.get("/api/me", headers={"Authorization": f"Bearer {new['access_token']}"})
    assert gone.status_code == 401


async def test_refreshes_racing_with_one_token_give_one_new_pair(
    open_app: tuple[Any, Client],
) -> None:
    """Two copies of a refresh token used at once: one gets a pair, the reuse ends the login."""
    _, client = open_app
    ada = await account(client, "ada@example.com")
    answers = await asyncio.gather(
        *(client.post("/api/auth/refresh", json={"refresh_token": ada.refresh}) for _ in range(6))
    )
    assert sorted(answer.status_code for answer in answers) == [200] + [401] * 5
    (winner,) = (answer.json() for answer in answers if answer.status_code == 200)
    after = await client.post("/api/auth/refresh", json={"refresh_token": winner["refresh_token"]})
    assert after.status_code == 401  # a copy was used again: the whole login ended


async def test_change_password_checks_the_current_one_and_ends_other_logins(
    open_app: tuple[Any, Client],
) -> None:
    _, client = open_app
    ada = await account(client, "ada@example.com")
    other = await account(client, "ada@example.com")
    wrong = await client.post(
        "/api/auth/change-password",
        headers=ada.headers,
        json={"current_password": "not it at all", "new_password": "a new long passphrase"},
    )
    assert wrong.status_code == 401
    assert (await client.get("/api/me", headers=ada.headers)).status_code == 200
    changed = await client.post(
        "/api/auth/change-password",
        headers=ada.headers,
        json={"current_password": PASSWORD, "new_password": "a new long passphrase"},
    )
    assert changed.status_code == 200
    fresh = {"Authorization": f"Bearer {changed.json()['access_token']}"}
    assert (await client.get("/api/me", headers=fresh)).status_code == 200
    assert (await client.get("/api/me", headers=ada.headers)).status_code == 401
    assert (await client.get("/api/me", headers=other.headers)).status_code == 401
    old = await client.post("/api/auth/login", json={"email": ada.email, "password": PASSWORD})
    assert old.status_code == 401


async def test_api_keys_work_until_revoked_or_expired(open_app: tuple[Any, Client]) -> None:
    app, client = open_app
    ada = await account(client, "ada@example.com")
    created = await client.post("/api/auth/api-keys", headers=ada.headers, json={"name": "ci"})
    assert created.status_code == 201
    key = created.json()["key"]
    assert key.startswith("rk_") and created.json()["prefix"] == key[:12]
    listed = (await client.get("/api/auth/api-keys", headers=ada.headers)).json()["data"]
    assert [k["id"] for k in listed] == [created.json()["id"]] and key not in str(listed)
    for headers in ({"Authorization": f"Bearer {key}"}, {"X-API-Key": key}):
        assert (await client.get("/api/sessions", headers=headers)).status_code == 200
    async with app.state.services.database.read() as db:
        stored = (await db.execute(select(ApiKey))).scalar_one()
    assert key not in (stored.key_hash, stored.prefix) and stored.last_used_at is not None
    revoked = await client.delete(f"/api/auth/api-keys/{created.json()['id']}", headers=ada.headers)
    assert revoked.status_code == 204
    assert (await client.get("/api/sessions", headers={"X-API-Key": key})).status_code == 401
    second = (
        await client.post("/api/auth/api-keys", headers=ada.headers, json={"name": "x"})
    ).json()
    async with app.state.services.database.write() as db:
        await db.execute(
            update(ApiKey)
            .where(ApiKey.id == second["id"])
            .values(expires_at=datetime.now(UTC) - timedelta(seconds=1))
        )
    expired = await client.get("/api/sessions", headers={"X-API-Key": second["key"]})
    assert expired.status_code == 401


async def test_a_read_only_key_cannot_write(open_app: tuple[Any, Client]) -> None:
    _, client = open_app
    ada = await account(client, "ada@example.com")
    key = (
        await client.post(
            "/api/auth/api-keys", headers=ada.headers, json={"name": "ro", "scopes": ["read"]}
        )
    ).json()["key"]
    headers = {"X-API-Key": key}
    assert (await client.get("/api/sessions", headers=headers)).status_code == 200
    write = await client.post("/api/sessions", headers=headers, json={})
    assert write.status_code == 403 and code(write) == "FORBIDDEN"
    bad_scope = await client.post(
        "/api/auth/api-keys", headers=ada.headers, json={"name": "x", "scopes": ["root"]}
    )
    assert bad_scope.status_code == 422 and code(bad_scope) == "VALIDATION_ERROR"


async def test_a_deleted_users_token_stops_working(open_app: tuple[Any, Client]) -> None:
    app, client = open_app
    ada = await account(client, "ada@example.com")
    bob = await account(client, "bob@example.com")
    async with app.state.services.database.write() as db:
        await db.delete(await db.get(User, bob.id))
    assert (await client.get("/api/me", headers=bob.headers)).status_code == 401
    assert (await client.get("/api/me", headers=ada.headers)).status_code == 200


async def test_only_one_of_two_racing_first_registrations_is_admin(
    open_app: tuple[Any, Client],
) -> None:
    _, client = open_app
    results = await asyncio.gather(*(register(client, f"u{i}@example.com") for i in range(6)))
    assert all(r.status_code == 201 for r in results)
    assert [r.json()["is_admin"] for r in results].count(True) == 1


async def test_an_invite_used_twice_at_once_admits_one(settings: Settings) -> None:
    from roost.store.models import InviteCode

    app = create_app(settings.model_copy(update={"auth": "required"}))
    async with app.router.lifespan_context(app):
        transport = httpx.ASGITransport(app=app)
        async with httpx.AsyncClient(transport=transport, base_url="http://t") as client:
            await register(client, "ada@example.com")
            async with app.state.services.database.write() as db:
                db.add(InviteCode(id="inv_01m8a97z54byzvm9agg9cemc09", code="ONCE", max_uses=1))
            results = await asyncio.gather(
                *(register(client, f"b{i}@example.com", invite_code="ONCE") for i in range(5))
            )
    assert sorted(r.status_code for r in results) == [201, 403, 403, 403, 403]


async def test_me_reads_and_renames(open_app: tuple[Any, Client]) -> None:
    _, client = open_app
    ada = await account(client, "ada@example.com")
    renamed = await client.put("/api/me", headers=ada.headers, json={"name": "Ada L."})
    assert renamed.json()["name"] == "Ada L."
    assert (await client.get("/api/me", headers=ada.headers)).json()["name"] == "Ada L."


async def test_local_mode_still_verifies_a_credential_that_is_sent(client: Client) -> None:
    assert (await client.get("/api/sessions")).status_code == 200
    bad = await client.get("/api/sessions", headers={"Authorization": "Bearer forged"})
    assert bad.status_code == 401
    me = (await client.get("/api/me")).json()
    assert me["is_admin"] is True and me["email"] is None


async def test_dev_login_exists_only_in_dev_mode(client: Client, settings: Settings) -> None:
    assert (await client.post("/api/auth/dev-login")).status_code == 404
    app = create_app(settings.model_copy(update={"dev_mode": True}))
    async with app.router.lifespan_context(app):
        transport = httpx.ASGITransport(app=app)
        async with httpx.AsyncClient(transport=transport, base_url="http://t") as dev:
            response = await dev.post("/api/auth/dev-login")
            assert response.status_code == 200
            assert response.json()["user"]["email"] == "dev@localhost"


def test_a_public_bind_without_auth_refuses_to_start(settings: Settings) -> None:
    with pytest.raises(UnsafeConfiguration, match="ROOST_AUTH=required"):
        create_app(settings.model_copy(update={"host": "0.0.0.0", "auth": "local"}))
    with pytest.raises(UnsafeConfiguration, match="dev mode"):
        create_app(
            settings.model_copy(update={"host": "0.0.0.0", "auth": "required", "dev_mode": True})
        )
    assert settings.model_copy(update={"host": "0.0.0.0"}).auth_mode == "required"


def test_serve_refuses_a_public_bind_without_auth(tmp_path: Any) -> None:
    from typer.testing import CliRunner

    from roost.cli import app as cli

    result = CliRunner().invoke(
        cli, ["serve", "--host", "0.0.0.0", "--auth", "local", "--home", str(tmp_path)]
    )
    assert result.exit_code == 2
    assert "Refusing to serve 0.0.0.0" in result.output
