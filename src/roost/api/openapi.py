"""The served OpenAPI document, made exact: every error a route can answer, in the one
envelope of API.md §2, and the credentials it needs.

FastAPI knows the success answers; it does not know Roost's error layers. Rather than
repeating ``responses=`` on every route, the document is completed here from what each
route is made of: its dependencies (who may call it), its parameters and body (what can
be refused), its method (what the idempotency layer adds) and its path (what the rate
limits count). A route whose service has errors of its own names them with
:func:`errors` in ``responses=``; this module draws their bodies.
"""

from collections.abc import Iterable
from dataclasses import dataclass
from typing import Any

from fastapi import FastAPI
from fastapi.dependencies.models import Dependant
from fastapi.openapi.utils import get_openapi
from fastapi.routing import APIRoute, iter_route_contexts
from pydantic import BaseModel, Field

from roost.api.deps import admin_caller, current_caller, optional_caller
from roost.api.middleware.idempotency import KEY_PATTERN
from roost.api.middleware.rate_limits import limited
from roost.domain.events import turn_event

ENVELOPE = "Error"
TURN_EVENT = "TurnEvent"

DESCRIPTIONS = {
    400: "`INVALID_REQUEST` (or a more precise code): well-formed but unusable, "
    "e.g. a body that is not JSON, a bad cursor or `Idempotency-Key`",
    401: "`UNAUTHORIZED`: a credential is missing, invalid or expired",
    403: "`FORBIDDEN`: authenticated, but not allowed (an admin route, a read-only key)",
    404: "`<THING>_NOT_FOUND`: no such object, or it belongs to someone else",
    405: "`METHOD_NOT_ALLOWED`: the path exists, the method does not (see `Allow`)",
    409: "`ALREADY_EXISTS`, `TURN_IN_PROGRESS`, `IDEMPOTENCY_KEY_IN_USE`: "
    "conflicts with the current state",
    413: "`PAYLOAD_TOO_LARGE`: the body or an upload is over the configured limit",
    422: "`VALIDATION_ERROR`: the request does not match this schema; "
    "`details.fields` names each problem",
    429: "`RATE_LIMITED`: over the principal's rate or concurrency limit; see `Retry-After`",
    500: "`INTERNAL_ERROR`: a fault of the server; never a stack trace",
    502: "`UPSTREAM_ERROR`: the model provider failed",
    503: "`PROVIDER_NOT_CONFIGURED` or `SERVICE_UNAVAILABLE`",
}
# What the Idempotency-Key layer adds to the errors of every POST.
IDEMPOTENCY_ERRORS = {
    400: "`INVALID_IDEMPOTENCY_KEY`; `IDEMPOTENCY_KEY_REUSED` (the key was used for "
    "another request or through another credential)",
    409: "`IDEMPOTENCY_KEY_IN_USE` (the first request still runs; see `Retry-After`); "
    "`IDEMPOTENCY_ANSWER_NOT_KEPT` (it succeeded, but its answer held a secret)",
}
IDEMPOTENCY_KEY: dict[str, Any] = {
    "name": "Idempotency-Key",
    "in": "header",
    "required": False,
    "description": "Makes a retry safe: the same key with the same request is answered "
    "again (`Idempotent-Replayed: true`), not done twice. Kept 24 hours, per caller; "
    "a request without a credential ignores it.",
    "schema": {"type": "string", "minLength": 1, "maxLength": 255, "pattern": KEY_PATTERN},
}

BEARER, API_KEY, COOKIE, REFRESH_COOKIE = "bearer", "apiKey", "cookie", "refreshCookie"
SECURITY_SCHEMES: dict[str, dict[str, Any]] = {
    BEARER: {
        "type": "http",
        "scheme": "bearer",
        "bearerFormat": "JWT or API key",
        "description": "An access token from `/api/auth/login`, or an API key (`rk_…`).",
    },
    API_KEY: {"type": "apiKey", "in": "header", "name": "X-API-Key"},
    COOKIE: {
        "type": "apiKey",
        "in": "cookie",
        "name": "roost_access",
        "description": "The HttpOnly access cookie a browser gets from logging in.",
    },
    REFRESH_COOKIE: {
        "type": "apiKey",
        "in": "cookie",
        "name": "roost_refresh",
        "description": "The HttpOnly refresh cookie (path `/api/auth`): an alternative to "
        "`refresh_token` in the body of `/api/auth/refresh` and `/api/auth/logout`.",
    },
}
CREDENTIALS: list[dict[str, list[str]]] = [{BEARER: []}, {API_KEY: []}, {COOKIE: []}]
# Paths whose body's ``refresh_token`` may come from the refresh cookie instead.
REFRESH_PATHS = frozenset({"/api/auth/refresh", "/api/auth/logout"})

DESCRIPTION = """\
Every error answers with one JSON envelope, `Error`:
`{"error": {"code", "message", "details"}, "request_id"}`; each operation lists the
statuses it can answer.

**Credentials.** `Authorization: Bearer <access token or API key>`, `X-API-Key: <key>`,
or the `roost_access` cookie set by `/api/auth/login`. Operations with a `security`
requirement need one when the server runs with `auth = "required"` (the default on any
address but loopback). In **local mode** (`auth = "local"`, the default on a loopback
bind) a request without a credential acts as the local owner, so none is needed; a
credential that is sent is still checked.

**Methods.** A path answers only the methods listed here; any other, `HEAD` and
`OPTIONS` included, gets 405 with an `Allow` header (a CORS preflight is answered by
the CORS layer).
"""


class ErrorDetail(BaseModel):
    code: str = Field(description="Stable and machine-readable, e.g. `SESSION_NOT_FOUND`.")
    message: str = Field(description="For people; may change.")
    details: dict[str, Any] = Field(description="What the code is about, e.g. `fields`.")


class ErrorEnvelope(BaseModel):
    """The one shape of every error response (API.md §2)."""

    error: ErrorDetail
    request_id: str | None = Field(description="The `X-Request-ID` of the request.")


def errors(*statuses: int, codes: dict[int, str] | None = None) -> dict[int | str, dict[str, Any]]:
    """For a route's ``responses=``: the error statuses of its service, beyond those its
    kind of route always has (:func:`route_errors`); ``codes`` names the codes of this
    route's own under a status, which its description then adds."""
    said = codes or {}
    return {
        status: {"description": _described(status, said.get(status))}
        for status in sorted({*statuses, *said})
    }


def _described(status: int, *notes: str | None) -> str:
    return "; ".join([DESCRIPTIONS[status], *(note for note in notes if note)])


@dataclass(frozen=True)
class RouteShape:
    """What the document needs to know about a route, read from its dependencies."""

    path: str
    auth: str  # "required", "optional" (a credential is looked at) or "none"
    has_path_params: bool
    has_params: bool
    has_body: bool
    has_cursor: bool

    @classmethod
    def of(cls, path: str, dependant: Dependant, has_body: bool) -> "RouteShape":
        parts = list(_walk(dependant))
        calls = {part.call for part in parts}
        queries = {param.name for part in parts for param in part.query_params}
        path_params = any(part.path_params for part in parts)
        others = any(part.header_params or part.cookie_params for part in parts)
        auth = "none"
        if current_caller in calls or admin_caller in calls:
            auth = "required"
        elif optional_caller in calls:
            auth = "optional"
        return cls(
            path=path,
            auth=auth,
            has_path_params=path_params,
            has_params=path_params or bool(queries) or others,
            has_body=has_body,
            has_cursor=bool(queries & {"before", "after", "cursor"}),
        )


def _walk(dependant: Dependant) -> Iterable[Dependant]:
    """The route's own dependant and every one it depends on."""
    yield dependant
    for sub in dependant.dependencies:
        yield from _walk(sub)


def route_errors(shape: RouteShape, method: str) -> set[int]:
    """The error statuses a route of this shape can answer, whatever its service does."""
    found = {500}
    if limited(shape.path):
        found.add(429)
    if shape.auth == "required":
        found |= {401, 403}
    if shape.has_path_params:
        found.add(404)
    if shape.has_params or shape.has_body:
        found.add(422)
    if shape.has_body:
        found |= {400, 413}  # a body that is not JSON; one over the size limit
    if shape.has_cursor:
        found.add(400)
    if method == "POST":
        found |= {400, 409}  # the Idempotency-Key layer: a bad key; a retry in flight
    return found


def error_response(status: int, description: str) -> dict[str, Any]:
    return {
        "description": description,
        "content": {"application/json": {"schema": {"$ref": f"#/components/schemas/{ENVELOPE}"}}},
    }


def _envelope_schemas() -> dict[str, Any]:
    schema = ErrorEnvelope.model_json_schema(ref_template="#/components/schemas/{model}")
    nested = schema.pop("$defs", {})
    return {**nested, ENVELOPE: {**schema, "title": ENVELOPE}}


def _add_turn_events(document: dict[str, Any]) -> None:
    """The stream's events as components (``TurnEvent``, one of them by ``type``), the
    schema of every ``text/event-stream`` response's ``data``.

    In OpenAPI 3.1 the ``schema`` of an event stream describes one frame, its ``event``,
    ``id`` and ``data`` fields as text: the event is the JSON inside ``data``."""
    schema = turn_event.json_schema(ref_template="#/components/schemas/{model}")
    document["components"]["schemas"].update({**schema.pop("$defs", {}), TURN_EVENT: schema})
    for operations in document["paths"].values():
        for operation in operations.values():
            for response in operation.get("responses", {}).values():
                stream = response.get("content", {}).get("text/event-stream")
                if stream is not None:
                    stream["schema"] = EVENT_FRAME


EVENT_FRAME: dict[str, Any] = {
    "type": "object",
    "required": ["event", "data"],  # a heartbeat has no id: it is not in the log
    "properties": {
        "id": {"type": "string", "pattern": "^[0-9]+$", "description": "The event's seq."},
        "event": {"type": "string", "description": "The event's type."},
        "data": {
            "type": "string",
            "contentMediaType": "application/json",
            "contentSchema": {"$ref": f"#/components/schemas/{TURN_EVENT}"},
        },
    },
}


def build(app: FastAPI) -> dict[str, Any]:
    document = get_openapi(
        title=app.title,
        version=app.version,
        summary=app.summary,
        description=DESCRIPTION,
        routes=app.routes,
    )
    components = document.setdefault("components", {})
    schemas = components.setdefault("schemas", {})
    # FastAPI's own 422 body, which Roost never sends.
    schemas.pop("HTTPValidationError", None)
    schemas.pop("ValidationError", None)
    schemas.update(_envelope_schemas())
    _add_turn_events(document)
    components["securitySchemes"] = SECURITY_SCHEMES
    for route in iter_route_contexts(app.routes):
        if not isinstance(route.original_route, APIRoute) or not route.include_in_schema:
            continue
        path = route.path_format or ""
        shape = RouteShape.of(path, route.dependant, route.body_field is not None)
        for method in route.methods or ():
            operation = document["paths"][path][method.lower()]
            _complete(operation, shape, method)
    return document


def _complete(operation: dict[str, Any], shape: RouteShape, method: str) -> None:
    responses: dict[str, Any] = operation["responses"]
    declared = {int(status) for status in responses if status.isdigit() and int(status) >= 400}
    for status in sorted(declared | route_errors(shape, method)):
        given = responses.get(str(status), {}).get("description", "")
        # A description from errors() is kept; FastAPI's own ("Validation Error") is not.
        description = given if given.startswith(DESCRIPTIONS[status]) else DESCRIPTIONS[status]
        if method == "POST":
            description = "; ".join(filter(None, [description, IDEMPOTENCY_ERRORS.get(status)]))
        responses[str(status)] = error_response(status, description)
    operation["responses"] = dict(sorted(responses.items()))
    if method == "POST":
        operation["parameters"] = [*operation.get("parameters", []), IDEMPOTENCY_KEY]
    if shape.auth == "required":
        operation["security"] = CREDENTIALS
    elif shape.path in REFRESH_PATHS:
        operation["security"] = [{}, *CREDENTIALS, {REFRESH_COOKIE: []}]
    elif shape.auth == "optional":
        operation["security"] = [{}, *CREDENTIALS]
    else:
        operation["security"] = []


def install(app: FastAPI) -> None:
    """Serve the completed document at ``app.openapi_url``, built once."""

    def openapi() -> dict[str, Any]:
        if app.openapi_schema is None:
            app.openapi_schema = build(app)
        return app.openapi_schema

    app.openapi = openapi  # type: ignore[method-assign]
