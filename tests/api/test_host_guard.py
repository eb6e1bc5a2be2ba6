"""Without login, only loopback host names are answered: a web page that points a name of
its own at 127.0.0.1 (DNS rebinding) must not be able to act as the local owner."""

import httpx
import pytest

from roost.config import Settings
from tests.support.apps import running


async def get(client: httpx.AsyncClient, path: str, host: str) -> httpx.Response:
    return await client.get(path, headers={"Host": host})


@pytest.mark.parametrize(
    "host",
    ["localhost", "localhost:8787", "127.0.0.1:8787", "127.9.9.9", "[::1]:8787", "app.localhost"],
)
async def test_loopback_names_are_answered(client: httpx.AsyncClient, host: str) -> None:
    response = await get(client, "/api/sessions", host)
    assert response.status_code == 200, response.text


@pytest.mark.parametrize(
    "host",
    ["evil.example", "evil.example:8787", "10.0.0.5", "[2001:db8::1]:80", "localhost.evil.example"],
)
async def test_other_names_are_refused_before_any_route(
    client: httpx.AsyncClient, host: str
) -> None:
    created = await client.post("/api/sessions", json={}, headers={"Host": host})
    assert created.status_code == 400
    body = created.json()
    assert body["error"]["code"] == "INVALID_REQUEST"
    assert body["error"]["details"]["host"] == host
    assert body["request_id"] == created.headers["x-request-id"]
    listed = (await client.get("/api/sessions")).json()
    assert listed["data"] == []  # nothing was made


async def test_allowed_hosts_adds_names(settings: Settings) -> None:
    async with running(settings, allowed_hosts=["roost.lan"]) as (_, client):
        assert (await get(client, "/api/health", "ROOST.LAN:8787")).status_code == 200
        assert (await get(client, "/api/health", "other.lan")).status_code == 400


async def test_with_login_required_the_credential_guards_instead(settings: Settings) -> None:
    async with running(settings, auth="required", allowed_hosts=[]) as (_, client):
        assert (await get(client, "/api/health", "roost.example.com")).status_code == 200
        refused = await get(client, "/api/sessions", "roost.example.com")
        assert refused.status_code == 401


async def test_a_real_server_refuses_a_rebound_name(live_server: str) -> None:
    async with httpx.AsyncClient(base_url=live_server) as http:
        assert (await http.get("/api/health")).status_code == 200
        rebound = await http.get("/api/health", headers={"Host": "attacker.example"})
        assert rebound.status_code == 400
        assert rebound.json()["error"]["code"] == "INVALID_REQUEST"
