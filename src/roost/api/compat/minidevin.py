"""Mini-Devin's health check: the native ``GET /api/health`` also at the root path."""

from fastapi import FastAPI

from roost.api.routes import health
from roost.api.schemas.health import HealthOut


def install(app: FastAPI) -> None:
    app.add_api_route(
        "/health",
        health.health,
        methods=["GET"],
        response_model=HealthOut,
        tags=["health"],
        name="root_health",
        summary="Health (Mini-Devin's path)",
    )
