"""Every route's dependencies and handler are coroutines: FastAPI runs a plain function
in a worker thread, and a hop there and back on every request costs more than the work
of a lookup (`docs/benchmarks.md`)."""

import inspect
from typing import Any

from fastapi.dependencies.models import Dependant
from fastapi.routing import APIRoute


def _calls(dependant: Dependant) -> list[Any]:
    calls = [dependant.call] if dependant.call is not None else []
    for sub in dependant.dependencies:
        calls += _calls(sub)
    return calls


def _routes(routes: list[Any]) -> list[APIRoute]:
    """The API's routes, through the routers included in others."""
    found: list[APIRoute] = []
    for route in routes:
        if isinstance(route, APIRoute):
            found.append(route)
        elif hasattr(route, "original_router"):  # FastAPI's include_router, kept as it was
            found += _routes(route.original_router.routes)
    return found


def test_no_route_runs_a_plain_function_in_a_thread(app: Any) -> None:
    routes = _routes(app.routes)
    assert len(routes) > 100  # the whole API, not an empty app
    threaded = {
        f"{route.path} {call.__qualname__}"
        for route in routes
        for call in _calls(route.dependant)
        if not (inspect.iscoroutinefunction(call) or inspect.isasyncgenfunction(call))
        and not inspect.isclass(call)  # a model or a security scheme: FastAPI's, no thread
    }
    assert threaded == set()
