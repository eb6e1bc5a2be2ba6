"""An API key grants no more than its maker holds, and "all" is never an empty list."""

from typing import Any

import httpx
import pytest

from tests.support.accounts import account

Client = httpx.AsyncClient


@pytest.fixture
def client(open_app: tuple[Any, Client]) -> Client:
    return open_app[1]


async def new_key(client: Client, headers: dict[str, str], **body: Any) -> httpx.Response:
    return await client.post("/api/auth/api-keys", headers=headers, json={"name": "k", **body})


def as_key(response: httpx.Response) -> dict[str, str]:
    assert response.status_code == 201, response.text
    return {"X-API-Key": response.json()["key"]}


async def test_a_scoped_key_cannot_mint_a_wider_one(client: Client) -> None:
    admin = await account(client, "root@example.com")
    assert admin.is_admin
    writer = as_key(await new_key(client, admin.headers, scopes=["read", "write"]))
    inherited = await new_key(client, writer)
    assert inherited.json()["scopes"] == ["read", "write"]  # omitted: the maker's own
    child = as_key(inherited)
    assert (await client.get("/api/admin/users", headers=child)).status_code == 403
    assert (await client.post("/api/sessions", headers=child, json={})).status_code == 201
    for wider in (["admin"], ["read", "write", "admin"]):
        refused = await new_key(client, writer, scopes=wider)
        assert refused.status_code == 403, refused.text
        assert refused.json()["error"]["details"] == {"field": "scopes", "not_held": ["admin"]}
    narrower = await new_key(client, writer, scopes=["read"])
    assert narrower.status_code == 201 and narrower.json()["scopes"] == ["read"]


async def test_an_empty_scope_list_is_refused_not_read_as_all(client: Client) -> None:
    admin = await account(client, "root@example.com")
    refused = await new_key(client, admin.headers, scopes=[])
    assert refused.status_code == 422, refused.text
    listed = (await client.get("/api/auth/api-keys", headers=admin.headers)).json()["data"]
    assert listed == []


async def test_a_login_grants_what_its_user_holds(client: Client) -> None:
    admin = await account(client, "root@example.com")
    ada = await account(client, "ada@example.com")
    assert not ada.is_admin
    full = await new_key(client, admin.headers)
    assert full.json()["scopes"] == ["admin", "read", "write"]
    assert (await client.get("/api/admin/users", headers=as_key(full))).status_code == 200
    mine = await new_key(client, ada.headers)
    assert mine.json()["scopes"] == ["read", "write"]
    assert (await new_key(client, ada.headers, scopes=["admin"])).status_code == 403
    explicit = await new_key(client, admin.headers, scopes=["write", "admin", "read"])
    assert explicit.json()["scopes"] == ["admin", "read", "write"]
