"""``roost user`` and ``roost key``: accounts and API keys from the server's console,
checked through the HTTP API of an app on the same home."""

import asyncio
from collections.abc import Awaitable, Callable
from pathlib import Path
from typing import Any, TypeVar

import httpx
import pytest
from typer.testing import CliRunner, Result

from roost.app import create_app
from roost.cli import app
from roost.config import Settings

T = TypeVar("T")
PASSWORD = "correct horse battery"
runner = CliRunner()


@pytest.fixture
def home(tmp_path: Path) -> Path:
    return tmp_path / "home"


def roost(home: Path, *args: str, stdin: str | None = None) -> Result:
    return runner.invoke(app, [*args, "--home", str(home)], input=stdin)


def create_user(home: Path, email: str, *flags: str, password: str = PASSWORD) -> Result:
    made = roost(home, "user", "create", email, *flags, "--password-stdin", stdin=password + "\n")
    assert made.exit_code == 0, made.output
    return made


def with_api(home: Path, work: Callable[[httpx.AsyncClient], Awaitable[T]]) -> T:
    """Run ``work`` against an app in required mode on the same home."""

    async def run() -> T:
        server = create_app(Settings(home=home, auth="required"))
        async with server.router.lifespan_context(server):
            transport = httpx.ASGITransport(app=server)
            async with httpx.AsyncClient(transport=transport, base_url="http://t") as client:
                return await work(client)

    return asyncio.run(run())


async def log_in(client: httpx.AsyncClient, email: str, password: str) -> httpx.Response:
    return await client.post("/api/auth/login", json={"email": email, "password": password})


def test_user_create_makes_an_account_that_logs_in_through_the_api(home: Path) -> None:
    made = create_user(home, "Ada@Example.com", "--name", "Ada", "--admin")
    assert PASSWORD not in made.output
    assert made.stdout.startswith("created usr_") and "ada@example.com (admin)" in made.stdout

    async def check(client: httpx.AsyncClient) -> dict[str, Any]:
        response = await log_in(client, "ada@example.com", PASSWORD)
        assert response.status_code == 200, response.text
        return dict(response.json()["user"])

    user = with_api(home, check)
    assert user["name"] == "Ada" and user["is_admin"] is True


def test_user_create_asks_twice_without_echo_and_list_shows_users(home: Path) -> None:
    asked = roost(home, "user", "create", "bob@example.com", stdin=f"{PASSWORD}\n{PASSWORD}\n")
    assert asked.exit_code == 0, asked.output
    assert PASSWORD not in asked.output
    assert "(admin)" not in asked.stdout
    create_user(home, "cy@example.com", "--admin")
    listed = roost(home, "user", "list")
    assert listed.exit_code == 0, listed.output
    rows = listed.stdout.splitlines()
    assert rows[0].split() == ["ID", "EMAIL", "ADMIN", "ACTIVE", "NAME"]
    assert [row.split()[1:4] for row in rows[1:]] == [
        ["cy@example.com", "yes", "yes"],
        ["bob@example.com", "no", "yes"],
    ]


@pytest.mark.parametrize(
    ("args", "stdin", "message"),
    [
        (["user", "create", "taken@example.com", "--password-stdin"], PASSWORD, "exists"),
        (["user", "create", "new@example.com", "--password-stdin"], "password123", "too weak"),
        (["user", "create", "not-an-email", "--password-stdin"], PASSWORD, "not an email"),
        (["user", "create", "new@example.com", "--password-stdin"], "", "no password"),
        (["user", "reset-password", "ghost@example.com", "--password-stdin"], PASSWORD, "ghost"),
        (["key", "create", "ghost@example.com", "--name", "ci"], None, "ghost"),
        (["key", "create", "taken@example.com", "--name", "ci", "--scopes", "root"], None, "root"),
        (["key", "create", "taken@example.com", "--name", "ci", "--scopes", "admin"], None, "hold"),
        (["key", "list", "ghost@example.com"], None, "ghost"),
        (["key", "revoke", "key_01m8a97z54byzvm9agg9cemc09"], None, "not found"),
    ],
)
def test_errors_exit_1_with_one_line(
    home: Path, args: list[str], stdin: str | None, message: str
) -> None:
    create_user(home, "taken@example.com")
    failed = roost(home, *args, stdin=None if stdin is None else stdin + "\n")
    assert failed.exit_code == 1, failed.output
    assert failed.stdout == ""
    assert failed.stderr.startswith("error: ") and failed.stderr.count("\n") == 1
    assert message in failed.stderr
    if stdin:
        assert stdin not in failed.output


def test_reset_password_replaces_it_and_ends_every_login(home: Path) -> None:
    create_user(home, "bob@example.com")

    async def first_login(client: httpx.AsyncClient) -> str:
        return str((await log_in(client, "bob@example.com", PASSWORD)).json()["access_token"])

    token = with_api(home, first_login)
    new = "a brand new secret"
    reset = roost(home, "user", "reset-password", "BOB@example.com", "--password-stdin", stdin=new)
    assert reset.exit_code == 0, reset.output
    assert new not in reset.output

    async def after(client: httpx.AsyncClient) -> list[int]:
        me = await client.get("/api/me", headers={"Authorization": f"Bearer {token}"})
        old = await log_in(client, "bob@example.com", PASSWORD)
        fresh = await log_in(client, "bob@example.com", new)
        return [me.status_code, old.status_code, fresh.status_code]

    assert with_api(home, after) == [401, 401, 200]


def test_a_created_key_authenticates_until_revoked(home: Path) -> None:
    create_user(home, "bob@example.com")
    flags = ["--name", "ci", "--scopes", "read", "--expires-days", "30"]
    made = roost(home, "key", "create", "bob@example.com", *flags)
    assert made.exit_code == 0, made.output
    secret = made.stdout.strip()
    assert secret.startswith("rk_") and "\n" not in secret
    key_id = made.stderr.split()[1]
    listed = roost(home, "key", "list", "bob@example.com")
    assert key_id in listed.stdout and secret not in listed.stdout
    assert "read" in listed.stdout and "ci" in listed.stdout

    async def use(client: httpx.AsyncClient) -> list[Any]:
        me = await client.get("/api/me", headers={"X-API-Key": secret})
        write = await client.post("/api/sessions", headers={"X-API-Key": secret}, json={})
        return [me.status_code, me.json().get("email"), write.status_code]

    assert with_api(home, use) == [200, "bob@example.com", 403]  # a read-only key
    revoked = roost(home, "key", "revoke", key_id)
    assert revoked.exit_code == 0 and key_id in revoked.stdout

    async def refused(client: httpx.AsyncClient) -> int:
        return (await client.get("/api/me", headers={"X-API-Key": secret})).status_code

    assert with_api(home, refused) == 401
    assert key_id not in roost(home, "key", "list", "bob@example.com").stdout


def test_a_key_gets_what_its_user_holds_unless_told_less(home: Path) -> None:
    create_user(home, "bob@example.com")
    create_user(home, "ada@example.com", "--admin")
    for email in ("bob@example.com", "ada@example.com"):
        assert roost(home, "key", "create", email, "--name", "all").exit_code == 0
    bob = roost(home, "key", "list", "bob@example.com").stdout.splitlines()[1].split()
    ada = roost(home, "key", "list", "ada@example.com").stdout.splitlines()[1].split()
    assert (bob[2], ada[2]) == ("read,write", "admin,read,write")
