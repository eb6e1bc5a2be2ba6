"""Fixtures: an app per test on a fresh database, SQLite always and PostgreSQL when given.

``ROOST_TEST_POSTGRES_URL`` names a PostgreSQL server (any database on it); the suite
makes its own database there and drops it at the end. Without it the PostgreSQL
variants skip, except under CI, where they fail.
"""

import asyncio
import ipaddress
import os
import shutil
import socket
import uuid
from collections.abc import AsyncIterator, Coroutine, Iterator
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path
from typing import Any

import httpx
import pytest
from argon2 import PasswordHasher
from sqlalchemy.engine import make_url

from roost.app import create_app
from roost.config import Settings
from roost.store import migrate
from roost.store.db import Database
from roost.testing import FakeLLM
from tests.support.admin import Team, admin_team
from tests.support.apps import running
from tests.support.live import serving
from tests.support.projects import located

# Variables the SDKs or Roost read on their own: none may leak in from the machine.
PROVIDER_KEYS = (
    "OPENAI_API_KEY",
    "OPENAI_BASE_URL",
    "OPENAI_ORG_ID",
    "OPENAI_PROJECT_ID",
    "OPENAI_CUSTOM_HEADERS",
    "ANTHROPIC_API_KEY",
    "ANTHROPIC_AUTH_TOKEN",
    "ANTHROPIC_BASE_URL",
    "ANTHROPIC_CUSTOM_HEADERS",
    "OLLAMA_BASE_URL",
)

OPEN_REGISTRATION = {
    "auth": "required",
    "registration": "open",
    "rate_limit_per_minute": 100_000,
    "rate_limit_anonymous_per_minute": 100_000,
}


def pytest_configure(config: pytest.Config) -> None:
    config.addinivalue_line(
        "markers", "located: the app's one project location is the test's `work` folder"
    )


def service_url(name: str) -> str:
    """The URL of a test service, or a skip (a failure under CI) when none is configured."""
    url = os.environ.get(name)
    if not url:
        if os.environ.get("CI"):
            pytest.fail(f"{name} is not set, and CI must run every variant")
        pytest.skip(f"{name} is not set")
    return url


def run_apart(coroutine: Coroutine[Any, Any, None]) -> None:
    """Run set-up work on a loop of its own, even when called from inside a test's loop."""
    with ThreadPoolExecutor(max_workers=1) as pool:
        pool.submit(asyncio.run, coroutine).result()


@pytest.fixture(autouse=True)
def _clean_environment(monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> None:
    """No settings or provider keys leak in from the machine; no roost.toml is picked up;
    no embedding model unless a test names one (the local model, where installed, would
    otherwise embed every test's messages)."""
    for key in list(os.environ):
        if (key.startswith("ROOST_") and not key.startswith("ROOST_TEST_")) or key in PROVIDER_KEYS:
            monkeypatch.delenv(key)
    monkeypatch.setenv("ROOST_CONFIG", str(tmp_path / "absent-roost.toml"))
    monkeypatch.setenv("ROOST_EMBEDDING_MODEL", "none")


@pytest.fixture(autouse=True)
def _quick_password_hashes(monkeypatch: pytest.MonkeyPatch) -> None:
    """Real argon2id, with cheap parameters: tests hash many passwords."""
    monkeypatch.setattr(
        "roost.services.passwords.HASHER",
        PasswordHasher(time_cost=1, memory_cost=1024, parallelism=1),
    )


@pytest.fixture(autouse=True)
def _loopback_only(monkeypatch: pytest.MonkeyPatch) -> None:
    """Fail any test that tries to reach past this machine."""
    real_connect = socket.socket.connect
    real_connect_ex = socket.socket.connect_ex

    def check(address: Any) -> None:
        if isinstance(address, tuple) and address:
            host = address[0]
            try:
                loopback = ipaddress.ip_address(host).is_loopback
            except ValueError:
                loopback = host == "localhost"
            if not loopback:
                raise AssertionError(f"test tried to connect to {host}")

    def connect(self: socket.socket, address: Any) -> None:
        check(address)
        real_connect(self, address)

    def connect_ex(self: socket.socket, address: Any) -> int:
        check(address)
        return real_connect_ex(self, address)

    monkeypatch.setattr(socket.socket, "connect", connect)
    monkeypatch.setattr(socket.socket, "connect_ex", connect_ex)


@pytest.fixture(scope="session")
def sqlite_template(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """A migrated SQLite file that each test copies, instead of migrating again."""
    path = tmp_path_factory.mktemp("template") / "roost.db"

    async def build() -> None:
        database = Database(f"sqlite+aiosqlite:///{path}")
        await migrate.upgrade(database)
        await database.close()

    run_apart(build())
    return path


@pytest.fixture(scope="session")
def postgres_database() -> Iterator[str]:
    """A database of the suite's own on the configured PostgreSQL server, migrated."""
    server = make_url(service_url("ROOST_TEST_POSTGRES_URL")).set(drivername="postgresql+asyncpg")
    name = f"roost_test_{uuid.uuid4().hex[:12]}"
    url = server.set(database=name).render_as_string(hide_password=False)

    async def admin(statement: str) -> None:
        import asyncpg

        connection = await asyncpg.connect(
            server.set(drivername="postgresql").render_as_string(hide_password=False)
        )
        try:
            await connection.execute(statement)
        finally:
            await connection.close()

    async def build() -> None:
        await admin(f'CREATE DATABASE "{name}"')
        database = Database(url)
        await migrate.upgrade(database)
        await database.close()

    run_apart(build())
    yield url
    run_apart(admin(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)'))


async def _truncate(url: str) -> None:
    database = Database(url)
    async with database.write() as db:
        from sqlalchemy import text

        await db.execute(text("TRUNCATE users, project_locations CASCADE"))
    await database.close()


@pytest.fixture(params=["sqlite", "postgres"])
async def database_url(
    request: pytest.FixtureRequest, tmp_path: Path, sqlite_template: Path
) -> AsyncIterator[str]:
    """A fresh, migrated, empty database for one test."""
    if request.param == "sqlite":
        path = tmp_path / "roost.db"
        shutil.copy(sqlite_template, path)
        yield f"sqlite+aiosqlite:///{path}"
        return
    url = request.getfixturevalue("postgres_database")
    await _truncate(url)
    yield url


@pytest.fixture
async def database(database_url: str) -> AsyncIterator[Database]:
    """The test's database, for services and repositories used without an app."""
    opened = Database(database_url)
    try:
        yield opened
    finally:
        await opened.close()


@pytest.fixture(scope="session")
def fake_llm_server() -> Iterator[FakeLLM]:
    """One fake upstream for the whole run; each test gets it reset."""
    with FakeLLM(tokens=8) as fake:
        yield fake


@pytest.fixture
def fake_llm(fake_llm_server: FakeLLM) -> FakeLLM:
    fake_llm_server.reset()
    return fake_llm_server


@pytest.fixture
def work(tmp_path: Path) -> Path:
    """The folder of the test's one project location in tests marked ``located``."""
    return (tmp_path / "work").resolve()


@pytest.fixture
def settings(
    request: pytest.FixtureRequest, tmp_path: Path, database_url: str, fake_llm: FakeLLM
) -> Settings:
    """An OpenAI-compatible provider at the fake upstream, and a small default model;
    in tests marked ``located``, one project location: ``work``."""
    chosen = Settings(
        home=tmp_path / "home",
        database_url=database_url,
        openai_base_url=fake_llm.url,
        openai_api_key=fake_llm.api_key,
        default_model="fake-small",
        heartbeat_seconds=15,
        allowed_hosts=["roost.test", "t"],  # the in-process clients' names
    )
    if request.node.get_closest_marker("located"):
        return located(chosen, request.getfixturevalue("work"))
    return chosen


@pytest.fixture
async def open_app(settings: Settings) -> AsyncIterator[tuple[Any, httpx.AsyncClient]]:
    """An app in required mode where anyone may register; rate limits out of the way,
    as these tests make many requests from one address."""
    async with running(settings, **OPEN_REGISTRATION) as made:
        yield made


@pytest.fixture
async def team(settings: Settings) -> AsyncIterator[Team]:
    """An app in required mode whose first user, the admin, is logged in."""
    async with admin_team(settings) as made:
        yield made


@pytest.fixture
async def live_server(app: Any) -> AsyncIterator[str]:
    """The test's app behind a real uvicorn on a free loopback port, in the test's loop."""
    async with serving(app) as url:
        yield url


@pytest.fixture
async def app(settings: Settings) -> AsyncIterator[Any]:
    application = create_app(settings)
    async with application.router.lifespan_context(application):
        yield application


@pytest.fixture
async def client(app: Any) -> AsyncIterator[httpx.AsyncClient]:
    transport = httpx.ASGITransport(app=app)
    async with httpx.AsyncClient(transport=transport, base_url="http://roost.test") as http:
        yield http
