"""A row whose unique value another transaction took first (after the service's check
saw it free) is the domain's 409 from the repository, never the driver's error."""

from collections.abc import Awaitable, Callable

import pytest

from roost import ids
from roost.clock import utcnow
from roost.errors import AlreadyExists, McpServerExists
from roost.errors.base import ApiError
from roost.store.db import Database
from roost.store.idempotency import IdempotencyRepo
from roost.store.invites import InviteRepo
from roost.store.mcp import McpServerRepo
from roost.store.models import InviteCode, McpServer, Project, User
from roost.store.projects import ProjectRepo
from roost.store.users import UserRepo

ADA = ids.new_id("usr")


def _user(email: str) -> User:
    return User(id=ids.new_id("usr"), email=email, name="x", is_active=True, token_version=1)


def _server() -> McpServer:
    return McpServer(id=ids.new_id("mcp"), name="tools", transport="stdio", command="run")


def _invite() -> InviteCode:
    return InviteCode(id=ids.new_id("inv"), code="SAMECODE", max_uses=1, uses=0)


def _project() -> Project:
    return Project(id=ids.new_id("proj"), name="p", path="/srv/same", files=[], meta={})


# Each insert, given a fresh row with the same unique value each time it is called.
INSERTS: dict[str, Callable[[Database], Awaitable[None]]] = {}


async def _add_user(database: Database) -> None:
    async with database.write() as db:
        await UserRepo(db).add(_user("same@example.com"))


async def _add_server(database: Database) -> None:
    async with database.write() as db:
        await McpServerRepo(db).add(_server())


async def _add_invite(database: Database) -> None:
    async with database.write() as db:
        await InviteRepo(db).add_all([_invite()])


async def _add_project(database: Database) -> None:
    async with database.write() as db:
        await ProjectRepo(db, ADA).insert(_project())


INSERTS.update(user=_add_user, mcp=_add_server, invite=_add_invite, project=_add_project)


@pytest.fixture
async def with_owner(database: Database) -> Database:
    async with database.write() as db:
        db.add(User(id=ADA, name="ada", is_active=True, token_version=1))
    return database


TAKEN: dict[str, type[ApiError]] = {
    "user": AlreadyExists,
    "mcp": McpServerExists,
    "invite": AlreadyExists,
    "project": AlreadyExists,
}


@pytest.mark.parametrize("kind", sorted(INSERTS))
async def test_a_taken_unique_value_is_the_domains_409(with_owner: Database, kind: str) -> None:
    insert = INSERTS[kind]
    await insert(with_owner)
    with pytest.raises(TAKEN[kind]) as refused:
        await insert(with_owner)
    assert type(refused.value) is TAKEN[kind] and refused.value.status == 409


async def test_renaming_an_mcp_server_to_a_taken_name_is_already_exists(
    with_owner: Database,
) -> None:
    await _add_server(with_owner)
    other = McpServer(id=ids.new_id("mcp"), name="other", transport="stdio", command="run")
    async with with_owner.write() as db:
        await McpServerRepo(db).add(other)

    async def rename() -> None:
        async with with_owner.write() as db:
            server = await McpServerRepo(db).get(other.id)
            server.name = "tools"
            await McpServerRepo(db).save(server)

    with pytest.raises(McpServerExists):
        await rename()
    async with with_owner.read() as db:
        assert (await McpServerRepo(db).get(other.id)).name == "other"


async def test_a_claimed_idempotency_key_answers_with_its_row(with_owner: Database) -> None:
    values = {
        "principal": f"user:{ADA}",
        "as_admin": False,
        "method": "POST",
        "path": "/api/sessions",
        "body_hash": "0" * 64,
        "state": "running",
        "created_at": utcnow(),
    }
    async with with_owner.write() as db:
        assert await IdempotencyRepo(db, ADA).claim("k1", **values) is None
    async with with_owner.write() as db:
        held = await IdempotencyRepo(db, ADA).claim("k1", **{**values, "path": "/other"})
    assert held is not None and held.path == "/api/sessions" and held.state == "running"
