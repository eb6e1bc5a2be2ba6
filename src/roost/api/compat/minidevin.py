"""Mini-Devin's root paths: the native ``GET /api/health`` at ``/health``, and the task
socket at ``/ws/tasks/{task_id}``."""

from fastapi import FastAPI

from roost.api.routes import health
from roost.api.schemas.health import HealthOut
from roost.api.ws.task_socket import task_socket


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
    app.add_api_websocket_route("/ws/tasks/{task_id}", task_socket, name="task_socket")
