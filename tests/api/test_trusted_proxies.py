"""Whom to believe about the client's address: the connecting peer, unless it is one of
ROOST_TRUSTED_PROXIES; a local client cannot pick its rate-limit identity."""

from pathlib import Path

import httpx
import pytest
from pydantic import ValidationError

from roost.config import Settings
from tests.api.test_rate_limits import client_at, fresh_address
from tests.support.apps import running
from tests.support.live import roost_process

LIMITED = {"auth": "required", "rate_limit_anonymous_per_minute": 2}


async def test_a_loopback_client_has_its_own_budget_whatever_it_forwards(
    settings: Settings,
) -> None:
    async with running(settings, **LIMITED) as (app, _), client_at(app, "127.0.0.1") as client:
        answers = [
            await client.get("/api/features", headers={"X-Forwarded-For": fresh_address()})
            for _ in range(3)
        ]
    assert [a.status_code for a in answers] == [200, 200, 429]


async def test_a_configured_proxy_names_the_client(settings: Settings) -> None:
    async with running(settings, trusted_proxies=["127.0.0.0/8"], **LIMITED) as (app, _):
        async with client_at(app, "127.0.0.1") as proxy:
            for _ in range(3):
                forwarded = {"X-Forwarded-For": fresh_address()}
                answer = await proxy.get("/api/features", headers=forwarded)
                assert answer.status_code == 200
                assert answer.headers["x-ratelimit-remaining"] == "1"  # a fresh budget each
        async with client_at(app, fresh_address()) as stranger:  # not a proxy: not believed
            answers = [
                await stranger.get("/api/features", headers={"X-Forwarded-For": fresh_address()})
                for _ in range(3)
            ]
            assert [a.status_code for a in answers] == [200, 200, 429]


@pytest.mark.parametrize("trusted", ["", "127.0.0.1"])
def test_roost_serve_believes_forwarding_headers_only_from_trusted_proxies(
    tmp_path: Path, trusted: str
) -> None:
    env = {
        "ROOST_AUTH": "required",
        "ROOST_RATE_LIMIT_ANONYMOUS_PER_MINUTE": "2",
        "ROOST_TRUSTED_PROXIES": trusted,
    }
    with roost_process(tmp_path / "home", env) as (_, url):
        codes = [
            httpx.get(
                f"{url}/api/features", headers={"X-Forwarded-For": fresh_address()}
            ).status_code
            for _ in range(3)
        ]
    assert codes == ([200, 200, 200] if trusted else [200, 200, 429])


def test_trusted_proxies_are_addresses_or_networks() -> None:
    given = Settings(trusted_proxies="10.0.0.0/8, 127.0.0.1,::1")
    assert given.trusted_proxies == ["10.0.0.0/8", "127.0.0.1/32", "::1/128"]
    assert Settings().trusted_proxies == []
    with pytest.raises(ValidationError):
        Settings(trusted_proxies=["proxy.example.com"])
