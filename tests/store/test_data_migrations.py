"""Rows stored by older versions keep their meaning, and lose their secrets, on upgrade."""

import uuid
from collections.abc import AsyncIterator
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import asyncpg
import pytest
from alembic import command
from sqlalchemy import Connection, select, text
from sqlalchemy.engine import make_url

from roost.config import Settings
from roost.services.tokens import hash_secret
from roost.store.db import Database
from roost.store.migrate import alembic_config
from roost.store.models import IdempotencyKey
from tests.conftest import service_url
from tests.support.apps import running

SECRET = "rk_legacy-key-made-before-scopes-were-explicit"


@pytest.fixture(params=["sqlite", "postgres"])
async def empty_url(request: pytest.FixtureRequest, tmp_path: Path) -> AsyncIterator[str]:
    """A database of its own with no schema yet."""
    if request.param == "sqlite":
        yield f"sqlite+aiosqlite:///{tmp_path / 'old.db'}"
        return
    server = make_url(service_url("ROOST_TEST_POSTGRES_URL"))
    name = f"roost_old_{uuid.uuid4().hex[:12]}"
    plain = server.set(drivername="postgresql").render_as_string(hide_password=False)

    async def admin(statement: str) -> None:
        connection = await asyncpg.connect(plain)
        try:
            await connection.execute(statement)
        finally:
            await connection.close()

    await admin(f'CREATE DATABASE "{name}"')
    try:
        url = server.set(drivername="postgresql+asyncpg", database=name)
        yield url.render_as_string(hide_password=False)
    finally:
        await admin(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')


async def at_revision(
    url: str, revision: str, statements: list[tuple[str, dict[str, Any]]]
) -> None:
    database = Database(url)

    def upgrade(connection: Connection) -> None:
        config = alembic_config()
        config.attributes["connection"] = connection
        command.upgrade(config, revision)

    try:
        async with database.engine.begin() as connection:
            await connection.run_sync(upgrade)
            for statement, values in statements:
                await connection.execute(text(statement), values)
    finally:
        await database.close()


def old_user(now: datetime) -> tuple[str, dict[str, Any]]:
    return (
        "INSERT INTO users (id, email, name, is_admin, is_active, created_at, updated_at)"
        " VALUES ('usr_old', 'old@example.com', 'Old', true, true, :now, :now)",
        {"now": now},
    )


async def test_a_key_stored_without_scopes_keeps_all_it_could_do(
    empty_url: str, tmp_path: Path
) -> None:
    now = datetime.now(UTC)
    await at_revision(
        empty_url,
        "0008",
        [
            old_user(now),
            (
                "INSERT INTO api_keys (id, user_id, name, prefix, key_hash, scopes, created_at)"
                " VALUES ('key_old', 'usr_old', 'old', :prefix, :hash, '[]', :now)",
                {"prefix": SECRET[:12], "hash": hash_secret(SECRET), "now": now},
            ),
        ],
    )
    settings = Settings(home=tmp_path / "home", database_url=empty_url)
    async with running(settings, auth="required") as (_app, client):  # migrates to the head
        headers = {"X-API-Key": SECRET}
        assert (await client.get("/api/admin/users", headers=headers)).status_code == 200
        assert (await client.post("/api/sessions", headers=headers, json={})).status_code == 201
        listed = (await client.get("/api/auth/api-keys", headers=headers)).json()["data"]
        assert [k["scopes"] for k in listed] == [["admin", "read", "write"]]


async def test_kept_answers_lose_their_secrets_and_name_who_asked(empty_url: str) -> None:
    now = datetime.now(UTC)
    insert = (
        "INSERT INTO idempotency_keys (owner_id, key, method, path, body_hash, state,"
        " status_code, content_type, body, created_at) VALUES ('usr_old', :key, 'POST',"
        " :path, 'h', 'done', 201, 'application/json', :body, :now)"
    )
    await at_revision(
        empty_url,
        "0009",
        [
            old_user(now),
            (
                insert,
                {"key": "k1", "path": "/api/auth/api-keys", "body": SECRET.encode(), "now": now},
            ),
            (insert, {"key": "k2", "path": "/api/v1/auth/login", "body": b"rt_x", "now": now}),
            (insert, {"key": "k3", "path": "/api/sessions", "body": b"{}", "now": now}),
        ],
    )
    await at_revision(empty_url, "head", [])
    database = Database(empty_url)
    try:
        async with database.read() as db:
            rows = (await db.execute(select(IdempotencyKey))).scalars().all()
            kept = [(r.key, r.principal, r.as_admin, r.body) for r in rows]
    finally:
        await database.close()
    assert kept == [("k3", "user:usr_old", True, b"{}")]
