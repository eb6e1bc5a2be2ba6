"""An admin's world for tests: an app in required mode (invite-only registration, the
default) whose first user, the admin, is logged in; and helpers to act in it."""

import asyncio
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from dataclasses import dataclass
from typing import Any

import httpx
from sqlalchemy import func, select

from roost.app import create_app
from roost.config import Settings
from roost.store.models import Turn
from tests.support.accounts import PASSWORD, Account, account

Client = httpx.AsyncClient
SLOW = {"tokens": 200, "token_delay_ms": 20}


@dataclass
class Team:
    app: Any
    client: Client
    admin: Account

    async def call(self, method: str, url: str, **kwargs: Any) -> httpx.Response:
        """A request as the admin."""
        return await self.client.request(method, url, headers=self.admin.headers, **kwargs)

    async def member(self, email: str, **fields: Any) -> Account:
        """A user made by the admin, logged in."""
        body = {"email": email, "password": PASSWORD} | fields
        made = await self.call("POST", "/api/admin/users", json=body)
        assert made.status_code == 201, made.text
        return await login(self.client, email)

    async def invite(self, **body: Any) -> dict[str, Any]:
        response = await self.call("POST", "/api/admin/invite-codes", json=body)
        assert response.status_code == 201, response.text
        return dict(response.json())

    async def count(self, table: Any, *where: Any) -> int:
        async with self.app.state.services.database.read() as db:
            return int(await db.scalar(select(func.count()).select_from(table).where(*where)))


@asynccontextmanager
async def admin_team(settings: Settings) -> AsyncIterator[Team]:
    """Rate limits out of the way: these tests make many requests as one user."""
    app = create_app(
        settings.model_copy(
            update={
                "auth": "required",
                "rate_limit_per_minute": 100_000,
                "rate_limit_anonymous_per_minute": 100_000,
            }
        )
    )
    async with app.router.lifespan_context(app):
        transport = httpx.ASGITransport(app=app)
        async with httpx.AsyncClient(transport=transport, base_url="http://roost.test") as client:
            admin = await account(client, "root@example.com")
            assert admin.is_admin
            yield Team(app, client, admin)


async def login(client: Client, email: str, password: str = PASSWORD) -> Account:
    response = await client.post("/api/auth/login", json={"email": email, "password": password})
    assert response.status_code == 200, response.text
    client.cookies.clear()
    body = response.json()
    user = body["user"]
    return Account(user["id"], email, body["access_token"], body["refresh_token"], user["is_admin"])


def error_code(response: httpx.Response) -> str:
    return str(response.json()["error"]["code"])


async def until_streaming(team: Team, turn_id: str) -> None:
    """Wait (as the admin sees the server) until the turn is mid-answer."""
    for _ in range(400):
        async with team.app.state.services.database.read() as db:
            turn = await db.get(Turn, turn_id)
        if turn is not None and turn.last_seq >= 4:
            return
        await asyncio.sleep(0.01)
    raise AssertionError("the turn never got going")
