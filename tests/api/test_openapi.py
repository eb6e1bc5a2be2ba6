"""The served OpenAPI document is exact: every error a route answers is declared, in the
envelope it is sent in; the credentials each route needs; the limits the server checks."""

import json
import re
from collections.abc import Iterator
from datetime import UTC, datetime
from typing import Any

import httpx
import pytest
from pydantic import TypeAdapter

from roost.api.schemas.common import WebUrl
from roost.api.sse import MAX_SEQ, frame, resume_point
from roost.app import create_app
from roost.config import Settings
from roost.domain.events import Event, turn_event
from roost.errors import ValidationFailed
from tests.api.test_errors import assert_envelope
from tests.support.apps import running

Operation = tuple[str, str, dict[str, Any]]
ENVELOPE_REF = "#/components/schemas/Error"
NO_NUL = r"^[^\x00]*$"
WebUrlAdapter: TypeAdapter[str] = TypeAdapter(WebUrl)
# Paths that answer without a credential in required mode (API.md §3).
PUBLIC = {
    ("get", "/api/health"),
    ("get", "/health"),
    ("get", "/api/features"),
    ("post", "/api/auth/register"),
    ("post", "/api/auth/login"),
    ("post", "/api/auth/refresh"),
    ("post", "/api/auth/logout"),
}


@pytest.fixture(scope="module")
def document(tmp_path_factory: pytest.TempPathFactory) -> dict[str, Any]:
    home = tmp_path_factory.mktemp("openapi")
    app = create_app(Settings(home=home, database_url=f"sqlite+aiosqlite:///{home}/r.db"))
    built: dict[str, Any] = app.openapi()
    return built


def operations(document: dict[str, Any]) -> Iterator[Operation]:
    for path, item in document["paths"].items():
        for method, operation in item.items():
            yield method, path, operation


def test_no_fastapi_validation_error_remains(document: dict[str, Any]) -> None:
    text = json.dumps(document)
    assert "HTTPValidationError" not in text
    assert "#/components/schemas/ValidationError" not in text


def test_every_error_status_is_the_envelope(document: dict[str, Any]) -> None:
    envelope = document["components"]["schemas"]["Error"]
    assert set(envelope["required"]) == {"error", "request_id"}
    for method, path, operation in operations(document):
        errors = {int(s): r for s, r in operation["responses"].items() if int(s) >= 400}
        assert 500 in errors, (method, path)
        for status, response in errors.items():
            content = response["content"]
            assert list(content) == ["application/json"], (method, path, status)
            assert content["application/json"]["schema"] == {"$ref": ENVELOPE_REF}


def test_each_kind_of_route_declares_its_errors(document: dict[str, Any]) -> None:
    for method, path, operation in operations(document):
        statuses = {int(status) for status in operation["responses"]}
        # The Idempotency-Key layer refuses a bad key with 400, not 422.
        parameters = [p for p in operation.get("parameters", []) if p["name"] != "Idempotency-Key"]
        where = (method, path)
        if operation["security"] and {} not in operation["security"]:
            assert {401, 403} <= statuses, where
        if any(p["in"] == "path" for p in parameters):
            assert 404 in statuses, where
        if parameters or "requestBody" in operation:
            assert 422 in statuses, where
        if "requestBody" in operation:
            assert {400, 413} <= statuses, where
        if path.startswith("/api/") and path != "/api/health":
            assert 429 in statuses, where


def test_security_schemes_are_declared_and_applied(document: dict[str, Any]) -> None:
    schemes = document["components"]["securitySchemes"]
    assert schemes["bearer"] == {
        "type": "http",
        "scheme": "bearer",
        "bearerFormat": "JWT or API key",
        "description": schemes["bearer"]["description"],
    }
    assert schemes["apiKey"]["in"] == "header"
    assert schemes["apiKey"]["name"] == "X-API-Key"
    assert (schemes["cookie"]["in"], schemes["cookie"]["name"]) == ("cookie", "roost_access")
    assert schemes["refreshCookie"]["name"] == "roost_refresh"
    open_ones = set()
    for method, path, operation in operations(document):
        security = operation["security"]
        if not security or {} in security:
            open_ones.add((method, path))
        else:
            assert security == [{"bearer": []}, {"apiKey": []}, {"cookie": []}], (method, path)
    assert open_ones == PUBLIC
    assert "local mode" in document["info"]["description"]


def test_constraints_the_server_checks_are_in_the_schema(document: dict[str, Any]) -> None:
    listing = document["paths"]["/api/sessions"]["get"]["parameters"]
    limit = next(p for p in listing if p["name"] == "limit")["schema"]
    assert (limit["minimum"], limit["maximum"]) == (1, 200)
    batch = document["components"]["schemas"]["InviteBatchIn"]["properties"]["count"]
    assert (batch["minimum"], batch["maximum"]) == (1, 100)
    schemas = document["components"]["schemas"]
    # No text holds NUL (PostgreSQL cannot store it): every checked string says so.
    assert schemas["SessionCreate"]["properties"]["title"]["anyOf"][0]["pattern"] == NO_NUL
    scopes = schemas["ApiKeyIn"]["properties"]["scopes"]["anyOf"][0]
    assert scopes["items"]["enum"] == ["read", "write", "admin"]
    email = schemas["RegisterIn"]["properties"]["email"]
    assert email["maxLength"] == 254
    assert re.search(email["pattern"], "a.b@example.org")
    assert not re.search(email["pattern"], "a@b")
    where = schemas["GetOrCreateIn"]
    assert where["required"] == ["working_directory"]
    assert where["properties"]["working_directory"]["minLength"] == 1


@pytest.mark.parametrize(
    ("value", "allowed"),
    [
        ("", True),
        ("0", True),
        ("0000000000", True),
        (str(MAX_SEQ), True),
        ("1999999999", True),
        (str(MAX_SEQ + 1), False),
        ("2200000000", False),
        ("12345678901", False),
        ("-1", False),
        ("\u0661", False),
    ],
)
def test_the_resume_header_pattern_is_the_seq_rule(
    document: dict[str, Any], value: str, allowed: bool
) -> None:
    events = document["paths"]["/api/sessions/{session_id}/turns/{turn_id}/events"]["get"]
    (header,) = [p for p in events["parameters"] if p["name"] == "Last-Event-ID"]
    assert bool(re.search(header["schema"]["pattern"], value)) is allowed
    if allowed:
        assert resume_point(None, value) == int(value or 0)
    else:
        with pytest.raises(ValidationFailed):
            resume_point(None, value)


async def test_what_the_document_refuses_is_a_validation_error(client: httpx.AsyncClient) -> None:
    """Refused by the schema, so 422 naming the field, not a 400 from a later check."""
    refused = {
        "/api/auth/api-keys": ({"name": "k", "scopes": ["everything"]}, "scopes.0"),
        "/api/sessions/get-or-create": ({}, "working_directory"),
        "/api/auth/register": ({"email": "not-an-address", "password": "x" * 16}, "email"),
    }
    for path, (body, field) in refused.items():
        error = assert_envelope(await client.post(path, json=body), 422, "VALIDATION_ERROR")
        assert field in [f["field"] for f in error["details"]["fields"]], (path, error)


async def test_the_served_document_is_the_exact_one(client: httpx.AsyncClient) -> None:
    served = (await client.get("/api/openapi.json")).json()
    assert "securitySchemes" in served["components"]
    assert "HTTPValidationError" not in json.dumps(served)


async def test_an_undeclared_method_is_405_with_allow(client: httpx.AsyncClient) -> None:
    response = await client.patch("/api/health")
    error = assert_envelope(response, 405, "METHOD_NOT_ALLOWED")
    assert response.headers["allow"] == "GET"
    assert error["details"] == {"method": "PATCH", "allow": "GET"}
    # Two routes serve /api/sessions: Allow names both of their methods.
    response = await client.put("/api/v1/sessions")
    assert_envelope(response, 405, "METHOD_NOT_ALLOWED")
    assert response.headers["allow"] == "GET, POST"
    response = await client.post("/api/sessions/ses_nope")
    assert_envelope(response, 405, "METHOD_NOT_ALLOWED")
    assert response.headers["allow"] == "DELETE, GET, PATCH, PUT"


@pytest.mark.parametrize("method", ["HEAD", "OPTIONS", "TRACE"])
async def test_head_and_options_are_not_served(client: httpx.AsyncClient, method: str) -> None:
    response = await client.request(method, "/api/sessions")
    assert response.status_code == 405
    assert response.headers["allow"] == "GET, POST"


async def test_listings_of_the_setup_need_a_credential_in_required_mode(
    settings: Settings,
) -> None:
    async with running(settings, auth="required") as (_, client):
        for path in (
            "/api/config/roles",
            "/api/providers",
            "/api/models",
            "/api/settings/schema",
        ):
            response = await client.get(path)
            assert_envelope(response, 401, "UNAUTHORIZED")
        assert (await client.get("/api/features")).status_code == 200


async def test_errors_the_services_answer_are_declared(client: httpx.AsyncClient) -> None:
    """Errors that come from a service, not from the kind of route, are in the document."""
    document = (await client.get("/api/openapi.json")).json()
    builtin = next(s for s in (await client.get("/api/skills")).json()["skills"] if s["builtin"])
    answers = {
        ("post", "/api/auth/login"): await client.post(
            "/api/auth/login", json={"email": "nobody@example.com", "password": "x" * 12}
        ),
        ("get", "/api/workspace/meta"): await client.get("/api/workspace/meta"),
        ("delete", "/api/skills/{skill_id}"): await client.delete(f"/api/skills/{builtin['id']}"),
        ("post", "/api/chat"): await client.post(
            "/api/chat", json={"session_id": "ses_nope", "message": "hi"}
        ),
        ("post", "/api/sessions"): await client.post(
            "/api/sessions", json={"project_id": "proj_nope"}
        ),
        ("get", "/api/models"): await client.get("/api/models", params={"provider": "nope"}),
    }
    for (method, path), response in answers.items():
        assert response.status_code >= 400, (method, path, response.text)
        declared = document["paths"][path][method]["responses"]
        assert str(response.status_code) in declared, (method, path, response.status_code)


def test_every_post_declares_the_idempotency_key(document: dict[str, Any]) -> None:
    for method, path, operation in operations(document):
        headers = [p for p in operation.get("parameters", []) if p["in"] == "header"]
        keys = [p for p in headers if p["name"] == "Idempotency-Key"]
        if method != "post":
            assert not keys, (method, path)
            continue
        assert len(keys) == 1, path
        assert keys[0]["required"] is False
        schema = keys[0]["schema"]
        assert (schema["minLength"], schema["maxLength"]) == (1, 255)
        assert schema["pattern"] == r"^[\x21-\x7e]{1,255}$"
        responses = operation["responses"]
        assert "IDEMPOTENCY_KEY_REUSED" in responses["400"]["description"], path
        assert "INVALID_IDEMPOTENCY_KEY" in responses["400"]["description"], path
        for code in ("IDEMPOTENCY_KEY_IN_USE", "IDEMPOTENCY_ANSWER_NOT_KEPT"):
            assert code in responses["409"]["description"], (path, code)


def test_codes_of_a_route_own_are_in_its_descriptions(document: dict[str, Any]) -> None:
    paths = document["paths"]
    execute = paths["/api/tools/execute"]["post"]["responses"]
    assert "APPROVAL_REQUIRED" in execute["403"]["description"]
    locations = paths["/api/projects/locations"]["post"]["responses"]
    assert "PATH_RESERVED" in locations["409"]["description"]
    for method in ("post", "patch", "put"):
        path = "/api/projects" if method == "post" else "/api/projects/{project_id}"
        assert "PATH_RESERVED" in paths[path][method]["responses"]["409"]["description"]
    keys = paths["/api/auth/api-keys"]["post"]["responses"]
    assert "not_held" in keys["403"]["description"]
    # A GET has no Idempotency-Key layer, so nothing of it in its errors.
    listing = paths["/api/sessions"]["get"]["responses"]
    assert "IDEMPOTENCY" not in listing["400"]["description"]


async def test_a_key_the_document_refuses_the_server_refuses(client: httpx.AsyncClient) -> None:
    document = (await client.get("/api/openapi.json")).json()
    (key,) = [
        p
        for p in document["paths"]["/api/sessions"]["post"]["parameters"]
        if p["name"] == "Idempotency-Key"
    ]
    pattern = re.compile(key["schema"]["pattern"])
    for refused in ("x" * 256, "with space", "tab\there"):
        assert not pattern.search(refused)
        response = await client.post("/api/sessions", json={}, headers={"Idempotency-Key": refused})
        assert_envelope(response, 400, "INVALID_IDEMPOTENCY_KEY")
    accepted = "~" * 255
    assert pattern.search(accepted)
    response = await client.post("/api/sessions", json={}, headers={"Idempotency-Key": accepted})
    assert response.status_code == 201, response.text


URLS = [
    ("https://api.openai.com/v1", True),
    ("http://127.0.0.1:11434", True),
    ("http://[::1]:8080/v1?x=1", True),
    ("http://localhost.", True),
    ("http://localhost:0", False),
    ("http://a..b", False),
    ("http://1.2.3", False),
    ("http://300.1.1.1", False),
    ("ftp://example.com", False),
    ("http://example.com/a b", False),
]


@pytest.mark.parametrize(("url", "matches"), URLS)
def test_what_the_url_pattern_allows_the_server_accepts(
    document: dict[str, Any], url: str, matches: bool
) -> None:
    """The URL pattern is a subset of what the server checks in code."""
    schemas = document["components"]["schemas"]
    urls = [
        schemas["SettingsIn"]["properties"]["base_url"]["anyOf"][0],
        schemas["Attachment"]["properties"]["url"]["anyOf"][0],
    ]
    for schema in urls:
        assert bool(re.search(schema["pattern"], url)) is matches
    if matches:
        assert WebUrlAdapter.validate_python(url) == url


def test_an_attachment_is_one_source_of_base64_or_a_url(document: dict[str, Any]) -> None:
    attachment = document["components"]["schemas"]["Attachment"]
    assert [branch["required"] for branch in attachment["oneOf"]] == [["data"], ["url"]]
    data = attachment["properties"]["data"]["anyOf"][0]["pattern"]
    for text, valid in (("aGk=", True), ("aGk", False), ("a", False), ("aG k", False)):
        assert bool(re.search(data, text)) is valid
    edit = document["components"]["schemas"]["MessageEdit"]["properties"]["content"]
    assert not re.search(edit["pattern"], " \n\t") and re.search(edit["pattern"], " x ")
    imported = document["components"]["schemas"]["ImportedMessageIn"]["properties"]
    assert imported["created_at"]["anyOf"][0] == {"type": "string", "format": "date-time"}


async def test_a_created_at_that_is_no_date_time_string_is_refused(
    client: httpx.AsyncClient,
) -> None:
    """The document says a date-time string; a number was read as seconds since 1970."""
    session = (await client.post("/api/sessions", json={})).json()
    for moment in (0, 1_700_000_000, True):
        message = {"role": "user", "content": "hi", "created_at": moment}
        response = await client.put(f"/api/sessions/{session['id']}", json={"messages": [message]})
        error = assert_envelope(response, 422, "VALIDATION_ERROR")
        assert error["details"]["fields"][0]["field"] == "messages.0.created_at"
    message = {"role": "user", "content": "hi", "created_at": "2026-01-02T03:04:05Z"}
    response = await client.put(f"/api/sessions/{session['id']}", json={"messages": [message]})
    assert response.status_code == 200, response.text


def patterns(node: Any) -> Iterator[str]:
    if isinstance(node, dict):
        for key, value in node.items():
            if key == "pattern" and isinstance(value, str):
                yield value
            else:
                yield from patterns(value)
    elif isinstance(node, list):
        for item in node:
            yield from patterns(item)


def test_patterns_mean_the_same_to_every_regex_engine(document: dict[str, Any]) -> None:
    """\\s is not the same set in Python, Rust's regex and ECMA (JSON Schema): \\x85 is white
    space to the first two only, so a pattern with it would let a client send what the
    server then refuses. White space is spelled out instead."""
    found = list(patterns(document))
    assert len(found) > 50
    for pattern in found:
        assert not re.search(r"(?<!\\)\\[sSdDwW]", pattern), pattern
    events = document["paths"]["/api/sessions/{session_id}/turns/{turn_id}/events"]["get"]
    (header,) = [p for p in events["parameters"] if p["name"] == "Last-Event-ID"]
    assert header["schema"]["type"] == "string"  # not anyOf null, which a header cannot say


async def test_a_whole_number_may_be_written_as_one_point_zero(client: httpx.AsyncClient) -> None:
    """JSON Schema's integer includes 1.0, so the server takes it as the document says."""
    response = await client.patch("/api/settings", json={"maxTokens": 512.0})
    assert response.status_code == 200, response.text
    assert response.json()["max_tokens"] == 512
    for refused in (512.5, "512", True):
        response = await client.patch("/api/settings", json={"maxTokens": refused})
        assert_envelope(response, 422, "VALIDATION_ERROR")


def test_rules_of_a_whole_body_are_in_the_document(document: dict[str, Any]) -> None:
    schemas = document["components"]["schemas"]
    rename = schemas["RenameIn"]
    assert rename["required"] == ["from", "to"]
    assert rename["properties"]["from"]["minLength"] == 1
    variables = schemas["TemplateUse"]["properties"]["variables"]
    assert variables["additionalProperties"] is False  # a name off the pattern is refused
    assert variables["maxProperties"] == 50


def schemas_in(node: Any) -> Iterator[dict[str, Any]]:
    if isinstance(node, dict):
        if "type" in node:
            yield node
        for value in node.values():
            yield from schemas_in(value)
    elif isinstance(node, list):
        for item in node:
            yield from schemas_in(item)


def test_bounds_are_json_schema_keywords(document: dict[str, Any]) -> None:
    """A bound pydantic could not place shows up under its own name (``ge``), which no
    client or fuzzer reads: every bound must be ``minimum``, ``maxLength``…"""
    pydantic_names = {"ge", "le", "gt", "lt", "min_length", "max_length", "multiple_of"}
    for schema in schemas_in(document["components"]):
        assert not pydantic_names & set(schema), schema
    tokens = document["components"]["schemas"]["SettingsIn"]["properties"]["max_tokens"]
    assert tokens["anyOf"][0] == {"type": "integer", "minimum": 1, "maximum": 1_000_000}


def test_a_stream_frame_is_described_with_its_event_inside_data(
    document: dict[str, Any],
) -> None:
    """OpenAPI 3.1 reads an event stream's schema as one frame (event, id, data as text),
    so the turn event is the contentSchema of data; as the whole schema, every real frame
    was reported as breaking it."""
    chat = document["paths"]["/api/chat/stream"]["post"]["responses"]["200"]
    schema = chat["content"]["text/event-stream"]["schema"]
    assert schema["required"] == ["event", "data"]
    data = schema["properties"]["data"]
    assert data["contentMediaType"] == "application/json"
    assert data["contentSchema"] == {"$ref": "#/components/schemas/TurnEvent"}
    event = Event("turn_1", "ses_1", 3, "text", datetime.now(UTC), {"content": "hi"})
    fields = dict(line.split(": ", 1) for line in frame(event).decode().strip().split("\n"))
    assert set(fields) == set(schema["properties"])
    assert re.fullmatch(schema["properties"]["id"]["pattern"], fields["id"])
    assert turn_event.validate_json(fields["data"]).type == fields["event"] == "text"
