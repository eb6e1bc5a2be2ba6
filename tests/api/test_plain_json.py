"""JSON bodies carry plain JSON only: what Python's parser lets through is refused as 422."""

from typing import Any

import httpx
import pytest

Client = httpx.AsyncClient

# Raw JSON text: these cannot be written by a JSON encoder that keeps to the standard.
NOT_JSON_NUMBERS = ["NaN", "Infinity", "-Infinity", "1e400", "-1e400"]
BIG = 2**64
HUGE_INTEGERS = [str(2**64), str(2**63), str(-(2**63) - 1), "1" + "0" * 40]


async def send(client: Client, method: str, url: str, text: str) -> httpx.Response:
    headers = {"content-type": "application/json"}
    return await client.request(method, url, content=text.encode(), headers=headers)


def assert_refused(response: httpx.Response, field: str) -> None:
    assert response.status_code == 422, response.text
    error = response.json()["error"]
    assert error["code"] == "VALIDATION_ERROR"
    assert [f["field"] for f in error["details"]["fields"]] == [field]


async def metadata_of(client: Client) -> list[Any]:
    sessions = (await client.get("/api/sessions")).json()["data"]
    return [s["metadata"] for s in sessions]


@pytest.mark.parametrize("number", NOT_JSON_NUMBERS)
async def test_non_finite_numbers_are_refused_not_stored_as_null(
    client: Client, number: str
) -> None:
    response = await send(client, "POST", "/api/sessions", f'{{"metadata": {{"a": {number}}}}}')
    assert_refused(response, "metadata.a")
    assert await metadata_of(client) == []


@pytest.mark.parametrize("number", HUGE_INTEGERS)
async def test_integers_beyond_64_bits_are_refused(client: Client, number: str) -> None:
    response = await send(client, "POST", "/api/sessions", f'{{"metadata": {{"n": [{number}]}}}}')
    assert_refused(response, "metadata.n.0")
    assert await metadata_of(client) == []


async def test_a_lone_surrogate_key_is_refused_and_named_readably(client: Client) -> None:
    response = await send(client, "POST", "/api/sessions", '{"metadata": {"\\ud800": 1}}')
    assert_refused(response, "metadata.\\ud800")
    assert await metadata_of(client) == []


async def test_a_lone_surrogate_in_a_string_is_refused(client: Client) -> None:
    response = await send(client, "POST", "/api/chat", '{"message": "hi", "session_id": "\\udc00"}')
    assert_refused(response, "session_id")
    assert (await client.get("/api/sessions")).json()["data"] == []


@pytest.mark.parametrize(
    ("method", "url", "text", "field"),
    [
        ("POST", "/api/tools/execute", '{"name": "read_file", "args": {"x": NaN}}', "args.x"),
        (
            "POST",
            "/api/tools/execute",
            f'{{"name": "read_file", "args": {{"x": {2**64}}}}}',
            "args.x",
        ),
        ("PATCH", "/api/workspace/meta", f'{{"a": {BIG}}}', "a"),
        ("PATCH", "/api/workspace/meta", '{"a": Infinity}', "a"),
    ],
)
async def test_every_route_refuses_them(
    client: Client, method: str, url: str, text: str, field: str
) -> None:
    assert_refused(await send(client, method, url, text), field)


async def test_plain_numbers_and_paired_surrogates_pass(client: Client) -> None:
    edges = f'"max": {2**63 - 1}, "min": {-(2**63)}, "f": 1.5e300'
    text = '{"metadata": {' + edges + ', "e": "\\ud83d\\ude00"}}'
    response = await send(client, "POST", "/api/sessions", text)
    assert response.status_code == 201, response.text
    expected = {"max": 2**63 - 1, "min": -(2**63), "f": 1.5e300, "e": "😀"}
    assert response.json()["metadata"] == expected


async def test_many_problems_are_reported_briefly(client: Client) -> None:
    text = '{"metadata": {' + ", ".join(f'"k{i}": NaN' for i in range(500)) + "}}"
    response = await send(client, "POST", "/api/sessions", text)
    assert response.status_code == 422
    assert len(response.json()["error"]["details"]["fields"]) == 20
