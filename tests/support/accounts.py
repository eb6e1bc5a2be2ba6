"""Users for tests: registered and logged in through the real API."""

from dataclasses import dataclass
from typing import Any

import httpx

PASSWORD = "correct horse battery"


@dataclass
class Account:
    id: str
    email: str
    token: str
    refresh: str
    is_admin: bool

    @property
    def headers(self) -> dict[str, str]:
        return {"Authorization": f"Bearer {self.token}"}


async def register(client: httpx.AsyncClient, email: str, **extra: Any) -> httpx.Response:
    body = {"email": email, "password": PASSWORD, "name": email.split("@")[0], **extra}
    return await client.post("/api/auth/register", json=body)


async def account(client: httpx.AsyncClient, email: str, **extra: Any) -> Account:
    """Register ``email`` (if new) and log in."""
    await register(client, email, **extra)
    response = await client.post("/api/auth/login", json={"email": email, "password": PASSWORD})
    assert response.status_code == 200, response.text
    body = response.json()
    client.cookies.clear()  # tests say who they are with headers, not the login cookie
    return Account(
        body["user"]["id"],
        email,
        body["access_token"],
        body["refresh_token"],
        body["user"]["is_admin"],
    )
