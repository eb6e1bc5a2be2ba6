"""Password guessing: tries are counted before a password is checked, delays grow per
(account, address), and an attacker's failures never lock the owner out."""

import asyncio
import uuid
from collections.abc import AsyncIterator
from typing import Any, Literal

import pytest
from argon2 import PasswordHasher

from roost.config import Settings
from roost.services.auth import LOGIN_BACKOFF, LOGIN_FAILURES_PER_ACCOUNT
from tests.api.test_rate_limits import client_at, fresh_address
from tests.conftest import service_url
from tests.support.accounts import PASSWORD, register
from tests.support.apps import running


class CountingHasher(PasswordHasher):
    """Argon2 with cheap parameters that counts the passwords it verifies."""

    def __init__(self) -> None:
        super().__init__(time_cost=1, memory_cost=1024, parallelism=1)
        self.verified = 0

    def verify(self, hash: str | bytes, password: str | bytes) -> Literal[True]:
        self.verified += 1
        return super().verify(hash, password)


@pytest.fixture
def hasher(monkeypatch: pytest.MonkeyPatch) -> CountingHasher:
    counting = CountingHasher()
    monkeypatch.setattr("roost.services.passwords.HASHER", counting)
    return counting


@pytest.fixture(params=["memory", "redis"])
async def server(request: pytest.FixtureRequest, settings: Settings) -> AsyncIterator[Any]:
    """Required mode with open registration; counters in this process or in Redis."""
    changes: dict[str, Any] = {
        "auth": "required",
        "registration": "open",
        "rate_limit_anonymous_per_minute": 10_000,
    }
    if request.param == "redis":
        changes["redis_url"] = service_url("ROOST_TEST_REDIS_URL")
    async with running(settings, **changes) as (application, _):
        yield application


async def owner(server: Any) -> str:
    """A registered account no earlier run (in a shared Redis) has tried."""
    email = f"ada-{uuid.uuid4().hex[:10]}@example.com"
    async with client_at(server, fresh_address()) as client:
        assert (await register(client, email)).status_code == 201
    return email


def bad(email: str) -> dict[str, str]:
    return {"email": email, "password": "wrong password!"}


async def test_tries_at_once_are_counted_before_a_password_is_checked(
    server: Any, hasher: CountingHasher
) -> None:
    email = await owner(server)
    hasher.verified = 0
    async with client_at(server, fresh_address()) as client:
        tries = [client.post("/api/auth/login", json=bad(email)) for _ in range(60)]
        statuses = [response.status_code for response in await asyncio.gather(*tries)]
    assert hasher.verified == LOGIN_BACKOFF.free
    assert statuses.count(401) == LOGIN_BACKOFF.free
    assert statuses.count(429) == 60 - LOGIN_BACKOFF.free


@pytest.mark.usefixtures("hasher")
async def test_an_attackers_failures_do_not_lock_the_owner_out(server: Any) -> None:
    email = await owner(server)
    attacker = fresh_address()
    async with client_at(server, attacker) as client:
        for _ in range(20):
            await client.post("/api/auth/login", json=bad(email))
        refused = await client.post("/api/auth/login", json=bad(email))
        assert refused.status_code == 429
    async with client_at(server, fresh_address()) as client:
        good = await client.post("/api/auth/login", json={"email": email, "password": PASSWORD})
        assert good.status_code == 200, good.text


@pytest.mark.usefixtures("hasher")
async def test_an_account_under_attack_slows_every_address_but_locks_out_none(server: Any) -> None:
    email = await owner(server)
    many = [fresh_address() for _ in range(LOGIN_FAILURES_PER_ACCOUNT[0])]
    for address in many:
        async with client_at(server, address) as client:
            assert (await client.post("/api/auth/login", json=bad(email))).status_code == 401
    async with client_at(server, fresh_address()) as newcomer:
        # Under attack, an address has one try before its delays start...
        assert (await newcomer.post("/api/auth/login", json=bad(email))).status_code == 401
        assert (await newcomer.post("/api/auth/login", json=bad(email))).status_code == 429
    async with client_at(server, fresh_address()) as client:
        # ...and that one try is the owner's, from an address that has not failed.
        good = await client.post("/api/auth/login", json={"email": email, "password": PASSWORD})
        assert good.status_code == 200, good.text


@pytest.mark.usefixtures("hasher")
async def test_the_delay_grows_and_a_success_starts_it_again(server: Any) -> None:
    email = await owner(server)
    async with client_at(server, fresh_address()) as client:
        for _ in range(LOGIN_BACKOFF.free):
            assert (await client.post("/api/auth/login", json=bad(email))).status_code == 401
        first = await client.post("/api/auth/login", json=bad(email))
        assert first.status_code == 429 and first.headers["retry-after"] == "1"
        assert first.json()["error"]["details"]["retry_after_seconds"] == 1
        await asyncio.sleep(1.05)
        assert (await client.post("/api/auth/login", json=bad(email))).status_code == 401
        second = await client.post("/api/auth/login", json=bad(email))
        assert second.status_code == 429 and second.headers["retry-after"] == "2"
        await asyncio.sleep(2.05)
        good = await client.post("/api/auth/login", json={"email": email, "password": PASSWORD})
        assert good.status_code == 200, good.text
        # A success starts the delays again: the next failures are free.
        assert (await client.post("/api/auth/login", json=bad(email))).status_code == 401


@pytest.mark.usefixtures("hasher")
async def test_unknown_emails_are_throttled_like_known_ones(server: Any) -> None:
    unknown = f"nobody-{uuid.uuid4().hex[:10]}@example.com"
    async with client_at(server, fresh_address()) as client:
        statuses = [
            (await client.post("/api/auth/login", json=bad(unknown))).status_code
            for _ in range(LOGIN_BACKOFF.free + 1)
        ]
    assert statuses == [401] * LOGIN_BACKOFF.free + [429]
