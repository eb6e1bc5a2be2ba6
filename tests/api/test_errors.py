"""One error envelope for everything, with the right status (API.md §2)."""

import logging
from collections.abc import AsyncIterator
from typing import Any

import httpx
import pytest

from roost.app import create_app
from roost.config import Settings

Client = httpx.AsyncClient


def assert_envelope(response: httpx.Response, status: int, code: str) -> dict[str, Any]:
    assert response.status_code == status, response.text
    body = response.json()
    assert set(body) == {"error", "request_id"}
    assert set(body["error"]) == {"code", "message", "details"}
    assert body["error"]["code"] == code
    assert body["error"]["message"]
    assert body["request_id"] == response.headers["x-request-id"]
    return dict(body["error"])


async def test_unknown_route_is_not_found(client: Client) -> None:
    assert_envelope(await client.get("/api/no-such-thing"), 404, "NOT_FOUND")
    assert_envelope(await client.get("/nowhere"), 404, "NOT_FOUND")


async def test_wrong_method_is_method_not_allowed(client: Client) -> None:
    error = assert_envelope(await client.delete("/api/folders"), 405, "METHOD_NOT_ALLOWED")
    assert error["details"]["method"] == "DELETE"


async def test_malformed_json_is_invalid_request(client: Client) -> None:
    response = await client.post(
        "/api/sessions", content=b'{"title": ', headers={"content-type": "application/json"}
    )
    assert_envelope(response, 400, "INVALID_REQUEST")


async def test_schema_failure_lists_each_field(client: Client) -> None:
    response = await client.post("/api/sessions", json={"title": 5, "pinned": "yes"})
    error = assert_envelope(response, 422, "VALIDATION_ERROR")
    fields = {f["field"]: f for f in error["details"]["fields"]}
    assert set(fields) == {"title", "pinned"}
    assert all(f["in"] == "body" and f["reason"] for f in fields.values())


async def test_a_body_that_is_not_an_object_is_422(client: Client) -> None:
    for body in ([1, 2], "title", 42, None):
        response = await client.patch("/api/sessions/ses_01m8a97z54byzvm9agg9cemc09", json=body)
        assert_envelope(response, 422, "VALIDATION_ERROR")


async def test_not_found_names_the_thing(client: Client) -> None:
    error = assert_envelope(
        await client.get("/api/sessions/ses_01m8a97z54byzvm9agg9cemc09"), 404, "SESSION_NOT_FOUND"
    )
    assert error["details"] == {"session_id": "ses_01m8a97z54byzvm9agg9cemc09"}


@pytest.fixture
def small_body_settings(settings: Settings) -> Settings:
    return settings.model_copy(update={"max_body_bytes": 2048})


async def test_oversized_body_is_payload_too_large(small_body_settings: Settings) -> None:
    app = create_app(small_body_settings)
    async with (
        app.router.lifespan_context(app),
        httpx.AsyncClient(
            transport=httpx.ASGITransport(app=app), base_url="http://roost.test"
        ) as client,
    ):
        big = {"title": "x", "metadata": {"blob": "y" * 4000}}
        error = assert_envelope(
            await client.post("/api/sessions", json=big), 413, "PAYLOAD_TOO_LARGE"
        )
        assert error["details"]["limit_bytes"] == 2048

        async def chunks() -> AsyncIterator[bytes]:  # no Content-Length: the limit still holds
            for _ in range(10):
                yield b" " * 1000

        streamed = await client.post(
            "/api/sessions", content=chunks(), headers={"content-type": "application/json"}
        )
        assert_envelope(streamed, 413, "PAYLOAD_TOO_LARGE")
        assert (await client.get("/api/sessions")).json()["data"] == []


async def test_unhandled_error_is_internal_error_without_trace(
    app: Any, client: Client, caplog: pytest.LogCaptureFixture
) -> None:
    async def explode() -> None:
        raise RuntimeError("secret detail in /srv/code.py")

    app.add_api_route("/api/test-explode", explode)
    with caplog.at_level(logging.ERROR, logger="roost.http"):
        response = await client.get("/api/test-explode", headers={"X-Request-ID": "trace-me-1"})
    error = assert_envelope(response, 500, "INTERNAL_ERROR")
    assert "secret" not in response.text and "Traceback" not in response.text
    assert error["details"] == {}
    logged = [r for r in caplog.records if r.levelno == logging.ERROR]
    assert logged and getattr(logged[0], "request_id", None) == "trace-me-1"
    assert "secret detail" in caplog.text


async def test_request_id_is_echoed_when_sane_and_made_otherwise(client: Client) -> None:
    echoed = await client.get("/api/health", headers={"X-Request-ID": "abc-123.DEF:9"})
    assert echoed.headers["x-request-id"] == "abc-123.DEF:9"
    for hostile in ("a b", "x" * 500, "<script>", "line\tbreak"):
        made = await client.get("/api/health", headers={"X-Request-ID": hostile})
        assert made.headers["x-request-id"].startswith("req_")
    assert (await client.get("/api/health")).headers["x-request-id"].startswith("req_")


async def test_cors_allows_only_configured_origins(client: Client) -> None:
    preflight = {"Access-Control-Request-Method": "POST"}
    allowed = await client.options(
        "/api/sessions", headers={"Origin": "http://localhost:5173", **preflight}
    )
    assert allowed.status_code == 200
    assert allowed.headers["access-control-allow-origin"] == "http://localhost:5173"
    denied = await client.options(
        "/api/sessions", headers={"Origin": "http://evil.example", **preflight}
    )
    assert "access-control-allow-origin" not in denied.headers
