"""Idempotent retries answer only the credential that asked first, and never keep a
secret: an answer that carries one is not stored, so no retry can give it out."""

from typing import Any

import httpx
from sqlalchemy import select

from roost.store.models import IdempotencyKey
from tests.support.accounts import PASSWORD, account

Client = httpx.AsyncClient


def keyed(headers: dict[str, str], key: str) -> dict[str, str]:
    return {**headers, "Idempotency-Key": key}


def code(response: httpx.Response) -> str:
    return str(response.json()["error"]["code"])


async def api_key(client: Client, headers: dict[str, str], scopes: list[str]) -> dict[str, str]:
    made = await client.post(
        "/api/auth/api-keys", headers=headers, json={"name": "k", "scopes": scopes}
    )
    assert made.status_code == 201, made.text
    return {"X-API-Key": made.json()["key"]}


async def stored_rows(app: Any) -> list[IdempotencyKey]:
    async with app.state.services.database.read() as db:
        return list((await db.execute(select(IdempotencyKey))).scalars().all())


async def test_a_read_only_key_cannot_replay_a_key_creation(open_app: tuple[Any, Client]) -> None:
    _, client = open_app
    admin = await account(client, "root@example.com")
    writer = await api_key(client, admin.headers, ["admin", "read", "write"])
    reader = await api_key(client, admin.headers, ["read"])
    body = {"name": "deploy"}
    first = await client.post("/api/auth/api-keys", headers=keyed(writer, "mint"), json=body)
    assert first.status_code == 201
    secret = first.json()["key"]
    stolen = await client.post("/api/auth/api-keys", headers=keyed(reader, "mint"), json=body)
    assert secret not in stolen.text and stolen.status_code == 400
    assert code(stolen) == "IDEMPOTENCY_KEY_REUSED"
    again = await client.post("/api/auth/api-keys", headers=keyed(writer, "mint"), json=body)
    assert secret not in again.text and again.status_code == 409
    assert code(again) == "IDEMPOTENCY_ANSWER_NOT_KEPT"
    listed = (await client.get("/api/auth/api-keys", headers=admin.headers)).json()["data"]
    assert [k["name"] for k in listed].count("deploy") == 1  # the retry made no second key


async def test_no_secret_or_token_is_kept_in_the_store(open_app: tuple[Any, Client]) -> None:
    app, client = open_app
    ada = await account(client, "ada@example.com")
    new_password = "a much better passphrase"
    asked = [
        ("/api/auth/api-keys", ada.headers, {"name": "ci"}),
        ("/api/auth/refresh", ada.headers, {"refresh_token": ada.refresh}),
        ("/api/auth/login", ada.headers, {"email": ada.email, "password": PASSWORD}),
    ]
    answers = []
    for number, (path, headers, body) in enumerate(asked):
        answers.append(await client.post(path, headers=keyed(headers, f"s{number}"), json=body))
    token = answers[-1].json()["access_token"]
    changed = await client.post(
        "/api/auth/change-password",
        headers=keyed({"Authorization": f"Bearer {token}"}, "s3"),
        json={"current_password": PASSWORD, "new_password": new_password},
    )
    answers.append(changed)
    client.cookies.clear()
    secrets = [answers[0].json()["key"]]
    for tokens in answers[1:]:
        assert tokens.status_code == 200, tokens.text
        secrets += [tokens.json()["access_token"], tokens.json()["refresh_token"]]
    rows = await stored_rows(app)
    assert sorted(r.key for r in rows) == ["s0", "s1", "s2", "s3"]
    assert all(r.body is None for r in rows)
    kept = repr([(r.body, r.turn, r.content_type) for r in rows])
    assert not [s for s in secrets if s in kept]
    assert all(a.headers["cache-control"] == "no-store" for a in answers)
    retried = await client.post(
        "/api/auth/change-password",
        headers=keyed({"Authorization": f"Bearer {changed.json()['access_token']}"}, "s3"),
        json={"current_password": PASSWORD, "new_password": new_password},
    )
    assert retried.status_code == 409 and code(retried) == "IDEMPOTENCY_ANSWER_NOT_KEPT"
    assert not [s for s in secrets if s in retried.text]


async def test_another_credential_of_the_same_user_gets_no_replay(
    open_app: tuple[Any, Client],
) -> None:
    _, client = open_app
    ada = await account(client, "ada@example.com")
    first_key = await api_key(client, ada.headers, ["read", "write"])
    second_key = await api_key(client, ada.headers, ["read", "write"])
    body = {"title": "Only mine"}
    first = await client.post("/api/sessions", headers=keyed(first_key, "s"), json=body)
    assert first.status_code == 201
    for other in (second_key, ada.headers):
        refused = await client.post("/api/sessions", headers=keyed(other, "s"), json=body)
        assert refused.status_code == 400 and code(refused) == "IDEMPOTENCY_KEY_REUSED"
        assert first.json()["id"] not in refused.text
    again = await client.post("/api/sessions", headers=keyed(first_key, "s"), json=body)
    assert again.json() == first.json() and again.headers["idempotent-replayed"] == "true"
    sessions = (await client.get("/api/sessions", headers=ada.headers)).json()["data"]
    assert len(sessions) == 1


async def test_an_admin_no_more_gets_no_replay_of_an_admin_request(
    open_app: tuple[Any, Client],
) -> None:
    _, client = open_app
    root = await account(client, "root@example.com")
    bob = await account(client, "bob@example.com")
    promoted = await client.put(
        f"/api/admin/users/{bob.id}", headers=root.headers, json={"is_admin": True}
    )
    assert promoted.status_code == 200, promoted.text
    body = {"email": "carol@example.com", "password": PASSWORD}
    made = await client.post("/api/admin/users", headers=keyed(root.headers, "u"), json=body)
    assert made.status_code == 201
    demoted = await client.put(
        f"/api/admin/users/{root.id}", headers=bob.headers, json={"is_admin": False}
    )
    assert demoted.status_code == 200, demoted.text
    again = await client.post("/api/admin/users", headers=keyed(root.headers, "u"), json=body)
    assert again.status_code == 400 and made.json()["id"] not in again.text
