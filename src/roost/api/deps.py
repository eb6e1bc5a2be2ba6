"""Typed dependencies, so that route signatures read as sentences; and who the caller is."""

from typing import Annotated

from fastapi import Depends, Query, Request
from starlette.requests import HTTPConnection

from roost import wiring
from roost.errors import Forbidden, Unauthorized
from roost.services import caller as caller_module

DEFAULT_LIMIT = 50
MAX_LIMIT = 200
SAFE_METHODS = frozenset({"GET", "HEAD", "OPTIONS"})
ACCESS_COOKIE = "roost_access"


def services_of(request: HTTPConnection) -> wiring.Services:
    services: wiring.Services = request.app.state.services
    return services


async def app_services(request: Request) -> wiring.Services:
    """As a coroutine: FastAPI runs a plain function dependency in a worker thread, a
    hop every request would pay for a lookup."""
    return services_of(request)


def client_address(request: HTTPConnection) -> str:
    return request.client.host if request.client else "unknown"


def credential_of(request: HTTPConnection) -> str | None:
    """``Authorization: Bearer``, then ``X-API-Key``, then the login cookie."""
    header = request.headers.get("authorization", "")
    scheme, _, token = header.partition(" ")
    if scheme.lower() == "bearer" and token.strip():
        return token.strip()
    return request.headers.get("x-api-key") or request.cookies.get(ACCESS_COOKIE) or None


async def resolve_caller(request: Request) -> caller_module.Caller:
    """The caller, once per request: a credential sent is always verified (401 if bad);
    without one, the local owner in local mode, else an anonymous caller."""
    known = getattr(request.state, "caller", None)
    if isinstance(known, caller_module.Caller):
        return known
    services = services_of(request)
    credential = credential_of(request)
    address = client_address(request)
    if credential is not None:
        caller = await services.auth.authenticate(credential, address)
    elif services.settings.auth_mode == "local":
        caller = services.auth.local_owner()
    else:
        caller = caller_module.Caller("", False, False, f"ip:{address}")
    request.state.caller = caller
    return caller


async def optional_caller(request: Request) -> caller_module.Caller:
    """For public routes: a bad credential makes an anonymous caller, never a 401."""
    try:
        return await resolve_caller(request)
    except Unauthorized:
        return caller_module.Caller("", False, False, f"ip:{client_address(request)}")


async def current_caller(request: Request) -> caller_module.Caller:
    caller = await resolve_caller(request)
    if caller.anonymous:
        raise Unauthorized("A valid credential is required")
    if (
        caller.scopes is not None
        and "write" not in caller.scopes
        and request.method not in SAFE_METHODS
    ):
        raise Forbidden("This API key may only read")
    return caller


Services = Annotated[wiring.Services, Depends(app_services)]
Caller = Annotated[caller_module.Caller, Depends(current_caller)]
AnyCaller = Annotated[caller_module.Caller, Depends(optional_caller)]
Limit = Annotated[int, Query(ge=1, le=MAX_LIMIT, description=f"Page size, 1 to {MAX_LIMIT}.")]
Before = Annotated[str | None, Query(max_length=64, description="An id: items before it.")]
After = Annotated[str | None, Query(max_length=64, description="An id: items after it.")]


async def admin_caller(caller: Caller) -> caller_module.Caller:
    if not caller.acts_as_admin:
        raise Forbidden("Only an admin may do this")
    return caller


Admin = Annotated[caller_module.Caller, Depends(admin_caller)]
