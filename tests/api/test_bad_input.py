"""Hostile and broken input: every route answers with a clear error and changes nothing."""

from typing import Any

import httpx
import pytest

from tests.support.apps import ONE_DATABASE
from tests.support.bodies import body_for

pytestmark = ONE_DATABASE

Client = httpx.AsyncClient

UNKNOWN_SESSION_IDS = [
    "ses_01m8a97z54byzvm9agg9cemc09",  # the right shape, no such session
    "ses_01M8A97Z54BYZVM9AGG9CEMC09",  # upper case is not the same id
    "msg_01m8a97z54byzvm9agg9cemc09",  # another kind of id
    "nope",
    "' OR 1=1 --",
    "ses_" + "a" * 500,
    "🐦",
    "..%2F..%2Fetc",
]

# A body each route accepts, so that a 404 (not a 422) is what an unknown id earns.
VALID_BODIES = {
    "messages": {"content": "hi"},
    "{message_id}": {"content": "hi"},
    "rename": {"customTitle": "x"},
    "pin": {"pinned": True},
    "folder": {"folder": "x"},
    "archive": {"archived": True},
    "input": {"request_id": "inp_01m8a97z54byzvm9agg9cemc09", "approve": True},
    "tasks": {"description": "x"},
    "prompt": {"prompt": "x"},
}


BAD_SESSION_BODIES: list[tuple[str, Any]] = [
    ("wrong type title", {"title": 123}),
    ("wrong type pinned", {"pinned": "yes"}),
    ("number for bool", {"archived": 1}),
    ("list for metadata", {"metadata": [1, 2]}),
    ("too long title", {"title": "t" * 501}),
    ("NUL in title", {"title": "a\x00b"}),
    ("NUL in metadata", {"metadata": {"k": "a\x00b"}}),
    ("NUL in metadata key", {"metadata": {"a\x00": 1}}),
    ("deep metadata", {"metadata": {"a": [[[[[[[[[[1]]]]]]]]]]}}),
    ("huge metadata", {"metadata": {"blob": "x" * 20_000}}),
    ("long folder", {"folder": "f" * 201}),
    ("object title", {"title": {"$ne": None}}),
]


async def snapshot(client: Client) -> list[dict[str, Any]]:
    """Everything a client can read back, to prove that bad input changed nothing."""
    listed = (await client.get("/api/sessions", params={"limit": 200})).json()["data"]
    return [(await client.get(f"/api/sessions/{s['id']}")).json() for s in listed]


@pytest.fixture
async def existing(client: Client) -> str:
    session = (await client.post("/api/sessions", json={"title": "Keep me", "folder": "F"})).json()
    await client.put(
        f"/api/sessions/{session['id']}", json={"messages": [{"role": "user", "content": "hi"}]}
    )
    return str(session["id"])


def session_routes(app: Any) -> list[tuple[str, str]]:
    """Every (method, path) of the OpenAPI document that names a session."""
    spec = app.openapi()
    return [
        (method.upper(), path)
        for path, operations in spec["paths"].items()
        if "{session_id}" in path
        for method in operations
    ]


@pytest.mark.usefixtures("existing")
async def test_every_session_route_answers_not_found_for_unknown_ids(
    app: Any, client: Client
) -> None:
    before = await snapshot(client)
    routes = session_routes(app)
    assert len(routes) >= 10
    for method, path in routes:
        body = body_for(VALID_BODIES, path)
        for unknown in UNKNOWN_SESSION_IDS:
            url = (
                path.replace("{session_id}", httpx.URL(path="/" + unknown).raw_path.decode()[1:])
                .replace("{message_id}", "msg_01m8a97z54byzvm9agg9cemc09")
                .replace("{turn_id}", "turn_01m8a97z54byzvm9agg9cemc09")
            )
            send_body = method in {"POST", "PUT", "PATCH"}
            response = await client.request(method, url, json=body if send_body else None)
            assert response.status_code == 404, (method, url, response.text)
            assert response.json()["error"]["code"] in {"SESSION_NOT_FOUND", "NOT_FOUND"}
    assert await snapshot(client) == before


@pytest.mark.parametrize(
    ("case", "body"), BAD_SESSION_BODIES, ids=[c for c, _ in BAD_SESSION_BODIES]
)
async def test_bad_session_bodies_are_refused_everywhere(
    client: Client, existing: str, case: str, body: Any
) -> None:
    before = await snapshot(client)
    for method, url in (
        ("POST", "/api/sessions"),
        ("PATCH", f"/api/sessions/{existing}"),
        ("PUT", f"/api/sessions/{existing}"),
        ("PATCH", f"/api/chat-history/{existing}"),
    ):
        response = await client.request(method, url, json=body)
        assert response.status_code == 422, (case, method, url, response.text)
        assert response.json()["error"]["code"] == "VALIDATION_ERROR"
        assert response.json()["error"]["details"]["fields"]
    assert await snapshot(client) == before


@pytest.mark.parametrize(
    ("url", "body"),
    [
        ("/api/sessions/{id}/rename", {"customTitle": 7}),
        ("/api/sessions/{id}/pin", {}),
        ("/api/sessions/{id}/pin", {"pinned": "true"}),
        ("/api/sessions/{id}/folder", {}),
        ("/api/sessions/{id}/folder", {"folder": ["a"]}),
        ("/api/sessions/{id}/archive", {"archived": None}),
    ],
)
async def test_floyd_field_routes_refuse_missing_and_wrong_types(
    client: Client, existing: str, url: str, body: Any
) -> None:
    before = await snapshot(client)
    response = await client.patch(url.format(id=existing), json=body)
    assert response.status_code == 422, response.text
    assert await snapshot(client) == before


@pytest.mark.parametrize(
    "messages",
    [
        [{"role": "wizard", "content": "x"}],
        [{"role": "user"}],
        [{"role": "user", "content": 5}],
        [{"role": "user", "content": "x", "timestamp": "yesterday"}],
        [{"role": "user", "content": "x", "timestamp": -1}],
        [{"role": "user", "content": "x", "timestamp": 10**20}],
        [{"role": "user", "content": "x\x00"}],
        "not a list",
        [{"role": "user", "content": "ok"}] * 10_001,
    ],
)
async def test_bad_imports_leave_the_history_untouched(
    client: Client, existing: str, messages: Any
) -> None:
    before = await snapshot(client)
    response = await client.put(f"/api/sessions/{existing}", json={"messages": messages})
    assert response.status_code == 422, response.text
    assert await snapshot(client) == before


@pytest.mark.parametrize(
    "body",
    [
        {},
        {"working_directory": ""},
        {"working_directory": 5},
        {"path": "/a\x00b"},
        {"path": "é" * 600},
    ],
)
async def test_get_or_create_refuses_a_missing_or_bad_path(client: Client, body: Any) -> None:
    response = await client.post("/api/sessions/get-or-create", json=body)
    assert response.status_code in {400, 422}, response.text
    assert (await client.get("/api/sessions")).json()["data"] == []


@pytest.mark.parametrize(
    "params",
    [
        {"limit": 0},
        {"limit": 201},
        {"limit": "ten"},
        {"archived": "maybe"},
        {"pinned": "2"},
        {"q": "q" * 201},
        {"after": "x" * 65},
    ],
)
async def test_list_query_out_of_range_is_422(client: Client, params: dict[str, Any]) -> None:
    response = await client.get("/api/sessions", params=params)
    assert response.status_code == 422, response.text
    assert response.json()["error"]["details"]["fields"][0]["in"] == "query"


@pytest.mark.parametrize("cursor", ["ses_01m8a97z54byzvm9agg9cemc09", "garbage"])
async def test_list_cursor_that_names_no_session_is_400(client: Client, cursor: str) -> None:
    for name in ("after", "before"):
        response = await client.get("/api/sessions", params={name: cursor})
        assert response.status_code == 400
        assert response.json()["error"]["code"] == "INVALID_REQUEST"


@pytest.mark.usefixtures("existing")
async def test_sql_and_like_metacharacters_are_plain_text(client: Client) -> None:
    for q in ("'; DROP TABLE sessions; --", "%", "_", "\\", "Keep%"):
        response = await client.get("/api/sessions", params={"q": q})
        assert response.status_code == 200
        assert response.json()["data"] == []
    assert len((await client.get("/api/sessions", params={"q": "keep"})).json()["data"]) == 1
    odd = await client.post("/api/sessions", json={"title": "'; DROP TABLE sessions; --"})
    assert odd.status_code == 201
    assert len((await client.get("/api/sessions")).json()["data"]) == 2


async def test_json_without_content_type_is_not_read_as_json(client: Client) -> None:
    """A cross-site form post cannot smuggle JSON in (FastAPI's strict content type)."""
    response = await client.patch(
        "/api/sessions/ses_01m8a97z54byzvm9agg9cemc09",
        content=b'{"title": "x"}',
        headers={"content-type": "text/plain"},
    )
    assert response.status_code == 422


UNUSABLE_URLS = [
    "http://xn--/",  # an A-label with no Punycode
    "http://xn--a.com/",  # Punycode that decodes to a forbidden code point
    "http://a..b/",  # an empty label
    "http://" + "a" * 64 + ".example/",  # a label over 63 characters
    "http://\u2100.example/",  # a host IDNA cannot map
    "http://[::1/",  # an unclosed IPv6 address
    "http://example.org:99999/",  # no such port
]


@pytest.mark.parametrize("url", UNUSABLE_URLS)
async def test_a_provider_url_no_client_can_call_is_refused(client: Client, url: str) -> None:
    body = {"provider": "openai", "api_key": "sk-test", "baseURL": url}
    response = await client.post("/api/test-key", json=body)
    assert response.status_code == 422, response.text
    assert response.json()["error"]["details"]["fields"][0]["field"] == "baseURL"
    response = await client.patch("/api/settings", json={"baseURL": url})
    assert response.status_code == 422, response.text
    assert (await client.get("/api/settings")).json()["base_url"] is None


@pytest.mark.parametrize("field", ["pinned", "archived"])
async def test_null_for_a_true_or_false_field_is_422(
    client: Client, existing: str, field: str
) -> None:
    before = await snapshot(client)
    for method, url in (
        ("PATCH", f"/api/sessions/{existing}"),
        ("PUT", f"/api/sessions/{existing}"),
        ("PATCH", f"/api/chat-history/{existing}"),
    ):
        response = await client.request(method, url, json={field: None, "title": "Changed"})
        assert response.status_code == 422, (method, url, response.text)
        assert response.json()["error"]["details"]["fields"][0]["field"] == field
    assert await snapshot(client) == before


@pytest.mark.parametrize("method", ["PATCH", "PUT"])
async def test_null_metadata_clears_it(client: Client, method: str) -> None:
    body = {"metadata": {"a": 1, "b": {"c": 2}}}
    session = (await client.post("/api/sessions", json=body)).json()
    response = await client.request(
        method, f"/api/sessions/{session['id']}", json={"metadata": None}
    )
    assert response.status_code == 200, response.text
    assert response.json()["metadata"] == {}
    assert (await client.get(f"/api/sessions/{session['id']}")).json()["metadata"] == {}
