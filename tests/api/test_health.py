import socket
from typing import Any

import httpx

from roost.app import create_app
from roost.config import Settings
from tests.conftest import service_url
from tests.support.apps import running


async def test_health_reports_every_field_of_the_contract(client: httpx.AsyncClient) -> None:
    response = await client.get("/api/health")
    assert response.status_code == 200
    body = response.json()
    assert set(body) >= {
        "status",
        "version",
        "api_version",
        "min_client_version",
        "authenticated",
        "provider",
        "model",
        "has_api_key",
        "database",
    }
    assert body["status"] == "ok"
    assert body["api_version"] == 1
    assert body["database"]["ok"] is True


async def test_health_is_public_at_the_root_too(client: httpx.AsyncClient) -> None:
    root = (await client.get("/health")).json()
    assert root["status"] == "ok" and root["version"]


async def test_features_says_what_is_switched_on(client: httpx.AsyncClient) -> None:
    features = (await client.get("/api/features")).json()
    assert features["api_version"] == 1
    assert features["single_user"] is True and features["auth"] is False
    assert features["scale_out"] is False
    assert features["projects"] is features["approvals"] is features["idempotency"] is True
    assert features["tasks"] is features["websocket"] is features["scheduler"] is True
    assert features["agents"] is features["runs"] is features["evaluations"] is True
    assert features["run_command"] is features["fetch_url"] is False


async def test_features_name_the_back_ends_in_use(client: httpx.AsyncClient) -> None:
    features = (await client.get("/api/features")).json()
    assert features["bus"] == features["queue"] == "local"
    assert features["rate_limit_counters"] == "memory"
    assert features["scale_out"] is False


async def test_features_with_redis_share_the_counters_but_not_the_turns(
    settings: Settings,
) -> None:
    """Redis shares the rate-limit counters; turns still run and fan out in-process, so
    replicas do not scale out."""
    url = service_url("ROOST_TEST_REDIS_URL")
    features = await health_with(settings, url, "/api/features")
    assert features["rate_limit_counters"] == features["notices"] == "redis"
    assert features["bus"] == features["queue"] == "local"
    assert features["scale_out"] is False


async def test_features_follow_the_settings(settings: Settings) -> None:
    team = {"auth": "required", "registration": "open", "run_command_enabled": True}
    async with running(settings, **team) as (_app, client):
        features = (await client.get("/api/features")).json()
    assert features["auth"] is True and features["single_user"] is False
    assert features["registration"] == "open"
    assert features["run_command"] is True and features["fetch_url"] is False


async def health_with(
    settings: Settings, redis_url: str, path: str = "/api/health"
) -> dict[str, Any]:
    app = create_app(settings.model_copy(update={"redis_url": redis_url}))
    async with (
        app.router.lifespan_context(app),
        httpx.AsyncClient(
            transport=httpx.ASGITransport(app=app), base_url="http://roost.test"
        ) as client,
    ):
        return dict((await client.get(path)).json())


async def test_health_reports_a_live_redis(settings: Settings) -> None:
    body = await health_with(settings, service_url("ROOST_TEST_REDIS_URL"))
    assert body["redis"] == {"ok": True}
    assert body["status"] == "ok"


async def test_health_is_degraded_when_redis_is_down(settings: Settings) -> None:
    with socket.socket() as probe:  # a loopback port that nothing listens on
        probe.bind(("127.0.0.1", 0))
        port = probe.getsockname()[1]
    body = await health_with(settings, f"redis://127.0.0.1:{port}/0")
    assert body["redis"] == {"ok": False}
    assert body["status"] == "degraded"
