"""Every error leaves as the one envelope of API.md §2; this is the only place it is drawn."""

from collections.abc import Sequence
from typing import Any

from fastapi import FastAPI, Request
from fastapi.exceptions import RequestValidationError
from fastapi.responses import JSONResponse
from fastapi.routing import iter_route_contexts
from starlette.exceptions import HTTPException

from roost.errors import (
    ApiError,
    HttpError,
    InvalidRequest,
    MethodNotAllowed,
    NotFound,
    ValidationFailed,
    envelope,
)

_LOCATIONS = {"body": "body", "query": "query", "path": "path", "header": "header"}

# A route's ``openapi_extra`` with this answers a body the schema refuses as CoAgent's
# API does: 400 INVALID_REQUEST with details {field, reason} (and Roost's ``fields``).
COAGENT_ERRORS = {"x-roost-invalid-body": "400 INVALID_REQUEST with details {field, reason}"}


def render(request: Request, error: ApiError) -> JSONResponse:
    request_id = getattr(request.state, "request_id", None)
    return JSONResponse(
        envelope(error, request_id), status_code=error.status, headers=error.headers
    )


async def _api_error(request: Request, error: Exception) -> JSONResponse:
    assert isinstance(error, ApiError)
    return render(request, error)


async def _http_error(request: Request, error: Exception) -> JSONResponse:
    assert isinstance(error, HTTPException)
    api_error: ApiError
    if error.status_code == 404:
        api_error = NotFound(f"No route {request.url.path}", details={"path": request.url.path})
    elif error.status_code == 405:
        allow = ", ".join(allowed_methods(request))
        api_error = MethodNotAllowed(
            f"{request.method} is not allowed on {request.url.path}",
            details={"method": request.method, "allow": allow},
            headers={"Allow": allow},
        )
    elif error.status_code == 400:
        api_error = InvalidRequest(str(error.detail))
    else:
        api_error = HttpError(error.status_code, str(error.detail))
    return render(request, api_error)


def allowed_methods(request: Request) -> list[str]:
    """Every method some route of this path accepts (RFC 9110 ``Allow``).

    The router's own 405 names only the first route that matched the path, while a path
    may be served by several routes (``GET`` and ``POST /api/sessions`` are two). HEAD and
    OPTIONS are not served unless declared, so they are not listed.
    """
    path = request.scope["path"].removeprefix(request.scope.get("root_path", ""))
    methods: set[str] = set()
    for route in iter_route_contexts(request.app.router.routes):
        pattern = getattr(route, "path_regex", None)
        if route.methods and pattern is not None and pattern.match(path):
            methods.update(route.methods)
    return sorted(methods)


async def _validation_error(request: Request, error: Exception) -> JSONResponse:
    assert isinstance(error, RequestValidationError)
    problems = error.errors()
    if any(problem.get("type") == "json_invalid" for problem in problems):
        return render(request, InvalidRequest("Request body is not valid JSON"))
    fields = [_field(p) for p in problems]
    route = request.scope.get("route")
    if fields and getattr(route, "openapi_extra", None) == COAGENT_ERRORS:
        first = fields[0]
        details = {"field": first["field"], "reason": first["reason"], "fields": fields}
        return render(request, InvalidRequest(f"Invalid field: {first['field']}", details=details))
    return render(
        request,
        ValidationFailed("The request does not match the schema", fields),
    )


def validation_failure(problems: Sequence[Any]) -> ValidationFailed:
    """The 422 for a body a route validated itself (e.g. one it read as JSON lines)."""
    fields = [_field({**p, "loc": ("body", *p.get("loc", ()))}) for p in problems]
    return ValidationFailed("The request does not match the schema", fields)


def _field(problem: dict[str, Any]) -> dict[str, str]:
    location = [str(part) for part in problem.get("loc", ())]
    where = _LOCATIONS.get(location[0], "body") if location else "body"
    name = ".".join(location[1:]) if location and location[0] in _LOCATIONS else ".".join(location)
    return {"field": name or where, "in": where, "reason": str(problem.get("msg", "invalid"))}


def install(app: FastAPI) -> None:
    app.add_exception_handler(ApiError, _api_error)
    app.add_exception_handler(HTTPException, _http_error)
    app.add_exception_handler(RequestValidationError, _validation_error)
