"""The requests the terminal needs that ``roost.client`` has no method for yet: logging in
and out, projects and tasks. Each goes through the client's ``request``, so it gets the
same credential, retries, ``Idempotency-Key`` and errors (``RoostError``) as the rest."""

from typing import Any
from urllib.parse import quote

from roost.client import Roost
from roost.terminal.credentials import Login


def _send(roost: Roost, method: str, path: str, **options: Any) -> Any:
    return roost.request(method, path, **options)


def _login(url: str, answer: dict[str, Any], email: str) -> Login:
    user = answer.get("user") or {}
    return Login(
        url=url,
        access_token=str(answer["access_token"]),
        refresh_token=str(answer["refresh_token"]),
        email=str(user.get("email") or email),
    )


def log_in(url: str, email: str, password: str) -> Login:
    """``POST /api/auth/login``: a new access and refresh token."""
    with Roost(url, token="", max_retries=0) as anonymous:
        body = {"email": email, "password": password}
        answer = _send(anonymous, "POST", "/api/auth/login", json=body)
    return _login(anonymous.base_url, answer, email)


def refreshed(login: Login) -> Login:
    """``POST /api/auth/refresh``: the login's next pair of tokens (a refresh token works
    once)."""
    with Roost(login.url, token="", max_retries=0) as anonymous:
        body = {"refresh_token": login.refresh_token}
        answer = _send(anonymous, "POST", "/api/auth/refresh", json=body)
    return _login(login.url, answer, login.email)


def log_out(login: Login) -> None:
    """``POST /api/auth/logout``: the server ends the login (both its tokens)."""
    with Roost(login.url, token=login.access_token, max_retries=0) as roost:
        _send(roost, "POST", "/api/auth/logout", json={"refresh_token": login.refresh_token})


def projects(roost: Roost) -> tuple[list[dict[str, Any]], str | None]:
    """``GET /api/projects``: the caller's projects, and the active one's id."""
    answer = _send(roost, "GET", "/api/projects", params={"limit": 100})
    return list(answer.get("data") or []), answer.get("active_id")


def tasks(roost: Roost, limit: int = 15) -> list[dict[str, Any]]:
    """``GET /api/tasks``: the caller's tasks, newest first."""
    return list(_send(roost, "GET", "/api/tasks", params={"limit": limit}).get("data") or [])


def create_task(roost: Roost, description: str, **options: str | None) -> dict[str, Any]:
    """``POST /api/tasks``: a task in a new session of its own, started at once."""
    body = {"description": description, **{k: v for k, v in options.items() if v}}
    return dict(_send(roost, "POST", "/api/tasks", json=body))


def get_task(roost: Roost, task_id: str) -> dict[str, Any]:
    return dict(_send(roost, "GET", f"/api/tasks/{quote(task_id, safe='')}"))


def stop_task(roost: Roost, task_id: str) -> dict[str, Any]:
    """``POST /api/tasks/{id}/stop``: cancels the task's run; answers once it has ended."""
    return dict(_send(roost, "POST", f"/api/tasks/{quote(task_id, safe='')}/stop"))
