"""Typed dependencies, so that route signatures read as sentences."""

from typing import Annotated

from fastapi import Depends, Query, Request

from roost import services as services_module
from roost.services import caller as caller_module
from roost.store.users import LOCAL_USER_ID

DEFAULT_LIMIT = 50
MAX_LIMIT = 200


def app_services(request: Request) -> services_module.Services:
    services: services_module.Services = request.app.state.services
    return services


def current_caller() -> caller_module.Caller:
    """Single-user mode: the local owner is the caller of every request."""
    return caller_module.Caller(user_id=LOCAL_USER_ID, is_admin=True, authenticated=True)


Services = Annotated[services_module.Services, Depends(app_services)]
Caller = Annotated[caller_module.Caller, Depends(current_caller)]
Limit = Annotated[int, Query(ge=1, le=MAX_LIMIT, description=f"Page size, 1 to {MAX_LIMIT}.")]
Before = Annotated[str | None, Query(max_length=64, description="An id: items before it.")]
After = Annotated[str | None, Query(max_length=64, description="An id: items after it.")]
