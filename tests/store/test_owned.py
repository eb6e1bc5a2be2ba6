"""An owned repository never hands one user's row to another, whichever way it is asked."""

from collections.abc import Callable
from typing import Any

import pytest

from roost import ids
from roost.errors import NotFound, ProjectNotFound, SessionNotFound, SkillNotFound
from roost.store.db import Database
from roost.store.models import Project, Session, Skill, User
from roost.store.owned import OwnedRepo
from roost.store.projects import ProjectRepo
from roost.store.sessions import SessionRepo
from roost.store.skills import SkillRepo

ADA = ids.new_id("usr")
BOB = ids.new_id("usr")

# Each owned table: its repository, a new row of it, and what a missing row raises.
Kind = tuple[type[OwnedRepo[Any]], Callable[[], Any], type[NotFound]]
KINDS: dict[str, Kind] = {
    "session": (SessionRepo, lambda: Session(id=ids.new_id("ses"), title="t"), SessionNotFound),
    "project": (
        ProjectRepo,
        lambda: Project(id=ids.new_id("proj"), name="p", path=f"/srv/{ids.new_id('proj')}"),
        ProjectNotFound,
    ),
    "skill": (SkillRepo, lambda: Skill(id=ids.new_id("skill"), name="s"), SkillNotFound),
}


@pytest.fixture
async def database_with_users(database: Database) -> Database:
    async with database.write() as db:
        db.add_all([User(id=ADA, name="ada"), User(id=BOB, name="bob")])
    return database


@pytest.fixture(params=sorted(KINDS))
def kind(request: pytest.FixtureRequest) -> Kind:
    return KINDS[request.param]


async def test_another_owners_row_is_not_found(database_with_users: Database, kind: Kind) -> None:
    repo_of, make, missing = kind
    async with database_with_users.write() as db:
        row = make()
        row.owner_id = BOB  # the repository makes it Ada's whatever it was given
        repo_of(db, ADA).add(row)
        row_id = row.id
    assert row.owner_id == ADA

    async with database_with_users.write() as db:
        bob = repo_of(db, BOB)
        for for_update in (False, True):
            with pytest.raises(missing) as refused:
                await bob.get(row_id, for_update=for_update)
            assert type(refused.value) is missing and refused.value.status == 404
            assert row_id in refused.value.details.values()
            assert await bob.find(row_id, for_update=for_update) is None
        assert await bob.all(bob.model.id, limit=10) == []
        assert await bob.page_by_id(limit=10) == ([], False)
        assert await bob.delete(row_id) is False
        mine = await repo_of(db, ADA).get(row_id)
        with pytest.raises(missing):
            await bob.remove(mine)

    async with database_with_users.read() as db:
        ada = repo_of(db, ADA)
        assert (await ada.get(row_id, for_update=True)).id == row_id  # untouched
        assert [r.id for r in await ada.all(ada.model.id, limit=10)] == [row_id]
        assert [r.id for r in (await ada.page_by_id(limit=10))[0]] == [row_id]


async def test_a_malformed_or_unknown_id_is_not_found(
    database_with_users: Database, kind: Kind
) -> None:
    repo_of, make, missing = kind
    unknown = make().id
    async with database_with_users.write() as db:
        repo = repo_of(db, ADA)
        for row_id in (unknown, "nope", unknown + "x", "' OR 1=1 --", "x" * 10_000):
            with pytest.raises(missing):
                await repo.get(row_id)
            assert await repo.delete(row_id) is False


async def test_the_owner_deletes_only_their_own(database_with_users: Database, kind: Kind) -> None:
    repo_of, make, _ = kind
    async with database_with_users.write() as db:
        theirs = [repo_of(db, owner).add(make()) for owner in (ADA, BOB)]
    ada_row, bob_row = (row.id for row in theirs)
    async with database_with_users.write() as db:
        assert await repo_of(db, ADA).delete(bob_row) is False
        assert await repo_of(db, ADA).delete(ada_row) is True
    async with database_with_users.read() as db:
        assert await repo_of(db, ADA).find(ada_row) is None
        assert (await repo_of(db, BOB).get(bob_row)).id == bob_row
