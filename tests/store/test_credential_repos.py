"""API keys and logins are a user's: a repository made for one user neither finds,
revokes nor ends another's, and revoking a key twice at once revokes it once."""

import asyncio
import secrets

import pytest

from roost import ids
from roost.clock import utcnow
from roost.errors import ApiKeyNotFound
from roost.store.api_keys import ApiKeyLookup, ApiKeyRepo
from roost.store.db import Database
from roost.store.logins import LoginRepo
from roost.store.models import ApiKey, LoginSession, User

ADA = ids.new_id("usr")
BOB = ids.new_id("usr")


def new_key(name: str) -> ApiKey:
    return ApiKey(
        id=ids.new_id("key"), name=name, prefix="rk_x", key_hash=secrets.token_hex(32), scopes=[]
    )


async def add_users(database: Database) -> None:
    async with database.write() as db:
        db.add_all([User(id=ADA, name="ada"), User(id=BOB, name="bob")])


@pytest.fixture
async def keys(database: Database) -> dict[str, str]:
    """One key each for ada and bob: owner -> key id."""
    await add_users(database)
    async with database.write() as db:
        made = {owner: ApiKeyRepo(db, owner).add(new_key(owner)).id for owner in (ADA, BOB)}
    return made


async def test_a_users_keys_are_theirs_alone(database: Database, keys: dict[str, str]) -> None:
    async with database.write() as db:
        ada = ApiKeyRepo(db, ADA)
        assert [key.id for key in await ada.live()] == [keys[ADA]]
        assert await ada.find(keys[BOB]) is None
        with pytest.raises(ApiKeyNotFound):
            await ada.get(keys[BOB])
        assert not await ada.revoke(keys[BOB], utcnow())
        assert await ApiKeyLookup(db).owner_of(keys[BOB]) == BOB
    async with database.read() as db:
        bobs = await ApiKeyRepo(db, BOB).live()
    assert [key.id for key in bobs] == [keys[BOB]] and bobs[0].revoked_at is None


async def test_a_key_revoked_twice_at_once_is_revoked_once(
    database: Database, keys: dict[str, str]
) -> None:
    """The second revoke starts while the first is not yet committed, and waits for it."""
    first_in = asyncio.Event()

    async def revoke(first: bool) -> bool:
        if not first:
            await first_in.wait()
        async with database.write() as db:
            revoked = await ApiKeyRepo(db, ADA).revoke(keys[ADA], utcnow())
            if first:
                first_in.set()
                await asyncio.sleep(0.3)  # the second reaches the row meanwhile
        return revoked

    assert list(await asyncio.gather(revoke(True), revoke(False))) == [True, False]
    async with database.read() as db:
        assert await ApiKeyRepo(db, ADA).live() == []


async def test_a_user_ends_only_their_own_logins(database: Database) -> None:
    await add_users(database)
    async with database.write() as db:
        ada_login = LoginRepo(db, ADA).add(LoginSession(id=ids.new_id("lgn"))).id
        bob_login = LoginRepo(db, BOB).add(LoginSession(id=ids.new_id("lgn"))).id
    async with database.write() as db:
        assert await LoginRepo(db, ADA).find(bob_login) is None
        await LoginRepo(db, ADA).end(bob_login, utcnow())
        await LoginRepo(db, ADA).end_all(utcnow())
    async with database.read() as db:
        ada = await LoginRepo(db, ADA).get(ada_login)
        bob = await LoginRepo(db, BOB).get(bob_login)
    assert ada.revoked_at is not None and ada.user_id == ADA
    assert bob.revoked_at is None and bob.user_id == BOB
