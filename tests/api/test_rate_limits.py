"""Rate limits per principal (API.md §4): a window of requests a minute, a number of
requests at once, the headers that report them, and the one 429 envelope.

The clock the counters read is frozen one second into a minute, so that no test can
straddle a window boundary; a test moves it on when it wants the next window.
"""

import asyncio
import time
import uuid
from collections.abc import AsyncIterator
from contextlib import AsyncExitStack, asynccontextmanager
from datetime import timedelta
from typing import Any

import httpx
import pytest
from fastapi import FastAPI
from starlette.responses import StreamingResponse

from roost.api.middleware.rate_limits import RateLimits
from roost.app import create_app
from roost.config import Settings
from roost.services.tokens import AccessClaims, TokenSigner
from tests.conftest import service_url
from tests.support.accounts import Account, account
from tests.support.apps import ONE_DATABASE
from tests.support.live import serving

pytestmark = ONE_DATABASE


class Clock:
    """Stands in for the ``time`` module in ``roost.bus.limits``."""

    def __init__(self) -> None:
        self.now = float(int(time.time()) // 60 * 60 + 1)

    def time(self) -> float:
        return self.now

    @property
    def window_end(self) -> int:
        return int(self.now) // 60 * 60 + 60


@pytest.fixture(autouse=True)
def clock(monkeypatch: pytest.MonkeyPatch) -> Clock:
    frozen = Clock()
    monkeypatch.setattr("roost.bus.limits.time", frozen)
    return frozen


# Whatever the shared fixture chooses, these tests start from the shipped defaults.
UNSET = {
    "rate_limit_per_minute": None,
    "rate_limit_anonymous_per_minute": None,
    "rate_limit_concurrent": None,
}


@asynccontextmanager
async def running(settings: Settings, **changes: Any) -> AsyncIterator[FastAPI]:
    app = create_app(settings.model_copy(update={**UNSET, **changes}))
    async with app.router.lifespan_context(app):
        yield app


def client_at(app: FastAPI, address: str = "127.0.0.1") -> httpx.AsyncClient:
    transport = httpx.ASGITransport(app=app, client=(address, 123))
    return httpx.AsyncClient(transport=transport, base_url="http://roost.test")


def fresh_address() -> str:
    """An address no other test (nor an earlier run, in a shared Redis) has used."""
    n = uuid.uuid4().int
    return f"10.{n >> 16 & 255}.{n >> 8 & 255}.{n & 255}"


def standing(response: httpx.Response) -> tuple[int, int, int]:
    """(limit, remaining, reset) from the X-RateLimit-* headers."""
    headers = response.headers
    return (
        int(headers["x-ratelimit-limit"]),
        int(headers["x-ratelimit-remaining"]),
        int(headers["x-ratelimit-reset"]),
    )


def assert_rate_limited(response: httpx.Response, limit: str) -> dict[str, Any]:
    assert response.status_code == 429, response.text
    body = response.json()
    assert set(body) == {"error", "request_id"}
    assert body["request_id"] == response.headers["x-request-id"]
    error: dict[str, Any] = body["error"]
    assert error["code"] == "RATE_LIMITED" and error["message"]
    assert error["details"]["limit"] == limit
    assert error["details"]["retry_after_seconds"] == int(response.headers["retry-after"]) >= 1
    return error


def no_limit_headers(response: httpx.Response) -> bool:
    return not any(name.startswith("x-ratelimit-") for name in response.headers)


class Hold:
    """``GET /api/test/hold``: answers once ``gate`` opens; counts who is waiting."""

    def __init__(self, app: FastAPI) -> None:
        self.gate = asyncio.Event()
        self.entered = 0
        self._changed = asyncio.Condition()
        app.add_api_route("/api/test/hold", self.serve, methods=["GET"])

    async def serve(self) -> dict[str, bool]:
        async with self._changed:
            self.entered += 1
            self._changed.notify_all()
        await self.gate.wait()
        return {"ok": True}

    async def until_entered(self, count: int) -> None:
        async with asyncio.timeout(30), self._changed:
            await self._changed.wait_for(lambda: self.entered >= count)


async def test_every_api_response_carries_the_headers(settings: Settings, clock: Clock) -> None:
    async with running(settings, rate_limit_per_minute=6) as app, client_at(app) as client:
        answers = [
            await client.get("/api/features"),
            await client.get("/api/no-such-thing"),
            await client.post("/api/sessions", json={"title": 5}),
            await client.post(
                "/api/sessions", content=b'{"title": ', headers={"content-type": "application/json"}
            ),
            await client.delete("/api/folders"),
            await client.get("/api/v1/features"),
        ]
        assert [a.status_code for a in answers] == [200, 404, 422, 400, 405, 200]
        assert [standing(a) for a in answers] == [(6, 5 - i, clock.window_end) for i in range(6)]
        assert no_limit_headers(await client.get("/docs"))  # not part of the API


@pytest.mark.usefixtures("clock")
async def test_health_checks_are_never_counted_nor_refused(settings: Settings) -> None:
    limits = {"auth": "required", "rate_limit_anonymous_per_minute": 2}
    async with running(settings, **limits) as app, client_at(app, fresh_address()) as client:
        for _ in range(10):  # a load balancer probing, from one address
            for path in ("/health", "/api/health", "/api/v1/health"):
                probe = await client.get(path)
                assert probe.status_code == 200 and no_limit_headers(probe)
        assert standing(await client.get("/api/features"))[1] == 1  # its budget is whole


async def test_the_101st_request_in_a_minute_is_429(settings: Settings, clock: Clock) -> None:
    async with running(settings, auth="required", registration="open") as app:
        async with client_at(app, fresh_address()) as registrar:
            ada = await account(registrar, "ada@example.com")
            bob = await account(registrar, "bob@example.com")
        async with client_at(app) as client:
            for i in range(100):
                response = await client.get("/api/sessions", headers=ada.headers)
                assert response.status_code == 200, i
            assert standing(response) == (100, 0, clock.window_end)
            refused = await client.get("/api/sessions", headers=ada.headers)
            assert_rate_limited(refused, "100 requests per minute")
            assert int(refused.headers["retry-after"]) == clock.window_end - int(clock.now)
            assert standing(refused) == (100, 0, clock.window_end)
            # Another user behind the same address has a budget of their own.
            assert (await client.get("/api/sessions", headers=bob.headers)).status_code == 200
            clock.now += 60
            again = await client.get("/api/sessions", headers=ada.headers)
            assert again.status_code == 200 and standing(again)[:2] == (100, 99)


async def test_callers_without_a_credential_get_ten_a_minute(settings: Settings) -> None:
    async with running(settings, auth="required", registration="open") as app:
        async with client_at(app, fresh_address()) as registrar:
            ada = await account(registrar, "ada@example.com")
        async with client_at(app, "203.0.113.7") as client:
            for i in range(10):
                # Public routes and refused ones count alike against the address.
                response = await client.get("/api/features" if i % 2 else "/api/sessions")
                assert response.status_code == (200 if i % 2 else 401)
                assert standing(response)[:2] == (10, 9 - i)
            assert_rate_limited(await client.get("/api/features"), "10 requests per minute")
            mine = await client.get("/api/sessions", headers=ada.headers)
            assert mine.status_code == 200 and standing(mine)[0] == 100


async def test_the_21st_request_at_once_is_429_until_one_ends(settings: Settings) -> None:
    async with running(settings, auth="required", registration="open") as app:
        hold = Hold(app)
        async with client_at(app) as client:
            ada = await account(client, "ada@example.com")
            held = [
                asyncio.create_task(client.get("/api/test/hold", headers=ada.headers))
                for _ in range(20)
            ]
            await hold.until_entered(20)
            refused = await client.get("/api/sessions", headers=ada.headers)
            error = assert_rate_limited(refused, "20 concurrent requests")
            assert error["details"]["retry_after_seconds"] == 1
            assert standing(refused)[0] == 100  # the window is reported all the same
            hold.gate.set()
            assert [r.status_code for r in await asyncio.gather(*held)] == [200] * 20
            assert (await client.get("/api/sessions", headers=ada.headers)).status_code == 200


async def test_a_stream_counts_once_and_holds_its_slot_until_it_closes(
    settings: Settings,
) -> None:
    async with running(settings, rate_limit_per_minute=20, rate_limit_concurrent=2) as app:
        gate = asyncio.Event()

        async def frames() -> AsyncIterator[bytes]:
            for seq in range(1, 4):
                yield b"id: %d\ndata: {}\n\n" % seq
            await gate.wait()

        async def follow() -> StreamingResponse:
            return StreamingResponse(frames(), media_type="text/event-stream")

        app.add_api_route("/api/test/stream", follow, methods=["GET"])
        async with serving(app) as url, httpx.AsyncClient(base_url=url) as client:
            async with AsyncExitStack() as streams:
                lines = []
                for _ in range(2):
                    stream = await streams.enter_async_context(
                        client.stream("GET", "/api/test/stream")
                    )
                    assert stream.status_code == 200
                    lines.append(stream.aiter_lines())
                for each in lines:  # every frame arrives, none of them counted
                    seen = [line async for line in _take(each, 8)]
                    assert [line for line in seen if line.startswith("id:")] == [
                        "id: 1",
                        "id: 2",
                        "id: 3",
                    ]
                # Both slots are held by the open streams, however long they last.
                assert_rate_limited(await client.get("/api/test/stream"), "2 concurrent requests")
                assert_rate_limited(await client.get("/api/features"), "2 concurrent requests")
            # The client left both streams: their slots are free again.
            for _ in range(100):
                public = await client.get("/api/features")
                if public.status_code == 200:
                    break
                await asyncio.sleep(0.02)
            assert public.status_code == 200 and standing(public)[1] <= 20 - 5
            gate.set()


async def _take(lines: AsyncIterator[str], count: int) -> AsyncIterator[str]:
    for _ in range(count):
        yield await anext(lines)


async def test_a_turns_event_stream_is_one_request(settings: Settings) -> None:
    async with running(settings, rate_limit_per_minute=10) as app, client_at(app) as client:
        session = (await client.post("/api/sessions", json={})).json()["id"]
        sent = await client.post(f"/api/sessions/{session}/messages", json={"content": "hi"})
        turn = sent.json()["turn"]["id"]
        events = await client.get(f"/api/sessions/{session}/turns/{turn}/events")
        assert events.headers["content-type"].startswith("text/event-stream")
        assert events.text.count("\nevent: ") >= 3
        assert standing(events)[1] == 7
        assert standing(await client.get("/api/features"))[1] == 6


async def test_local_mode_limits_nothing_unless_asked(settings: Settings) -> None:
    settings = settings.model_copy(update=UNSET)
    assert settings.auth_mode == "local"
    assert RateLimits.from_settings(settings) == RateLimits(None, None, None)
    required = settings.model_copy(update={"auth": "required"})
    assert RateLimits.from_settings(required) == RateLimits(100, 10, 20)
    chosen = required.model_copy(update={"rate_limit_anonymous_per_minute": 3})
    assert RateLimits.from_settings(chosen) == RateLimits(100, 3, 20)
    async with running(settings) as app:
        hold = Hold(app)
        async with client_at(app) as client:
            held = [asyncio.create_task(client.get("/api/test/hold")) for _ in range(30)]
            await hold.until_entered(30)
            for _ in range(120):
                response = await client.get("/api/sessions")
                assert response.status_code == 200 and no_limit_headers(response)
            hold.gate.set()
            assert {r.status_code for r in await asyncio.gather(*held)} == {200}
    async with running(settings, rate_limit_per_minute=3) as app, client_at(app) as client:
        for _ in range(3):
            assert (await client.get("/api/sessions")).status_code == 200
        assert_rate_limited(await client.get("/api/sessions"), "3 requests per minute")


async def test_a_concurrency_limit_alone_sends_no_window_headers(settings: Settings) -> None:
    async with running(settings, rate_limit_concurrent=1) as app:
        hold = Hold(app)
        async with client_at(app) as client:
            held = asyncio.create_task(client.get("/api/test/hold"))
            await hold.until_entered(1)
            refused = await client.get("/api/sessions")
            assert_rate_limited(refused, "1 concurrent request")
            assert no_limit_headers(refused)
            hold.gate.set()
            assert (await held).status_code == 200
            assert (await client.get("/api/sessions")).status_code == 200


async def test_a_bad_credential_counts_against_the_address_and_still_gets_401(
    settings: Settings,
) -> None:
    limited = {"auth": "required", "registration": "open", "rate_limit_anonymous_per_minute": 3}
    async with running(settings, **limited) as app:
        async with client_at(app, fresh_address()) as registrar:
            ada = await account(registrar, "ada@example.com")
            assert standing(await registrar.get("/api/me", headers=ada.headers))[:2] == (100, 99)
        forged = TokenSigner("someone else's secret, long enough for HS256", []).issue(
            AccessClaims(ada.id, 1, None), timedelta(minutes=5)
        )
        async with client_at(app, "198.51.100.9") as mallory:
            refused = await mallory.get("/api/sessions", headers=bearer(forged))
            assert refused.status_code == 401 and standing(refused)[:2] == (3, 2)
            public = await mallory.get("/api/features", headers=bearer("nonsense"))
            assert public.status_code == 200  # a public route: the bad token is ignored
            assert standing(public)[:2] == (3, 1)
            bad_key = await mallory.get("/api/sessions", headers={"X-API-Key": "rk_nope"})
            assert bad_key.status_code == 401 and standing(bad_key)[:2] == (3, 0)
            assert_rate_limited(
                await mallory.get("/api/sessions", headers=bearer(forged)), "3 requests per minute"
            )
            # Ada's budget was never touched, from wherever she comes.
            hers = await mallory.get("/api/me", headers=ada.headers)
            assert hers.status_code == 200 and standing(hers)[:2] == (100, 98)


def bearer(token: str) -> dict[str, str]:
    return {"Authorization": f"Bearer {token}"}


async def test_two_replicas_share_their_limits_through_redis(settings: Settings) -> None:
    shared = {
        "auth": "required",
        "redis_url": service_url("ROOST_TEST_REDIS_URL"),
        "rate_limit_anonymous_per_minute": 6,
        "rate_limit_concurrent": 2,
    }
    async with running(settings, **shared) as one, running(settings, **shared) as two:
        address = fresh_address()
        async with client_at(one, address) as first, client_at(two, address) as second:
            for i in range(6):
                response = await (first, second)[i % 2].get("/api/features")
                assert response.status_code == 200 and standing(response)[1] == 5 - i
            assert_rate_limited(await first.get("/api/features"), "6 requests per minute")
            assert_rate_limited(await second.get("/api/features"), "6 requests per minute")
        hold_one, hold_two = Hold(one), Hold(two)
        hold_two.gate.set()
        address = fresh_address()
        async with client_at(one, address) as first, client_at(two, address) as second:
            held = [asyncio.create_task(first.get("/api/test/hold")) for _ in range(2)]
            await hold_one.until_entered(2)
            assert_rate_limited(await second.get("/api/test/hold"), "2 concurrent requests")
            hold_one.gate.set()
            assert [r.status_code for r in await asyncio.gather(*held)] == [200, 200]
            assert (await second.get("/api/test/hold")).status_code == 200


async def test_an_api_key_has_a_budget_of_its_own(settings: Settings) -> None:
    async with (
        running(settings, auth="required", rate_limit_per_minute=4) as app,
        client_at(app) as client,
    ):
        ada: Account = await account(client, "ada@example.com")
        created = await client.post("/api/auth/api-keys", headers=ada.headers, json={"name": "k"})
        key = {"X-API-Key": created.json()["key"]}
        assert standing(await client.get("/api/sessions", headers=key))[:2] == (4, 3)
        assert standing(await client.get("/api/sessions", headers=ada.headers))[:2] == (4, 2)


async def test_a_crash_still_reports_the_window_and_frees_its_slot(settings: Settings) -> None:
    limits = {"rate_limit_per_minute": 5, "rate_limit_concurrent": 1}
    async with running(settings, **limits) as app:

        async def crash() -> None:
            raise RuntimeError("boom")

        app.add_api_route("/api/test/crash", crash, methods=["GET"])
        async with client_at(app) as client:
            crashed = await client.get("/api/test/crash")
            assert crashed.status_code == 500 and standing(crashed)[:2] == (5, 4)
            assert (await client.get("/api/sessions")).status_code == 200


async def test_a_browser_on_another_origin_may_read_the_headers(settings: Settings) -> None:
    origin = {"Origin": "http://localhost:5173"}
    async with running(settings, rate_limit_per_minute=1) as app, client_at(app) as client:
        await client.get("/api/features", headers=origin)
        refused = await client.get("/api/features", headers=origin)
        assert_rate_limited(refused, "1 request per minute")
        assert refused.headers["access-control-allow-origin"] == origin["Origin"]
        exposed = refused.headers["access-control-expose-headers"].lower()
        assert {"x-ratelimit-remaining", "x-ratelimit-reset", "retry-after"} <= {
            name.strip() for name in exposed.split(",")
        }
