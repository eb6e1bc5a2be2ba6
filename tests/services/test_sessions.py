"""The session service on its own, on a real database: what a caller owns, without HTTP."""

import asyncio
from collections.abc import Awaitable, Callable

import pytest

from roost import ids
from roost.errors import SessionNotFound
from roost.services.caller import Caller
from roost.services.sessions import DEFAULT_TITLE, SessionService
from roost.store.db import Database
from roost.store.models import User
from roost.store.sessions import SessionFilter

ADA = Caller(user_id=ids.new_id("usr"))
BOB = Caller(user_id=ids.new_id("usr"))


@pytest.fixture
async def sessions(database: Database) -> SessionService:
    async with database.write() as db:
        db.add_all([User(id=ADA.user_id, name="ada"), User(id=BOB.user_id, name="bob")])
    return SessionService(database)


async def test_a_session_is_made_listed_changed_and_deleted(sessions: SessionService) -> None:
    untitled = await sessions.create(ADA, {})
    named = await sessions.create(ADA, {"title": "Plans", "folder": "work"})
    assert untitled.title == DEFAULT_TITLE and untitled.custom_title is None
    assert named.custom_title == "Plans" and named.owner_id == ADA.user_id
    listed = await sessions.page(ADA, SessionFilter(), limit=10)
    assert {s.id for s in listed.items} == {untitled.id, named.id} and not listed.has_more
    in_work = await sessions.page(ADA, SessionFilter(folder="work"), limit=10)
    assert [s.id for s in in_work.items] == [named.id]

    changed = await sessions.update(ADA, untitled.id, {"title": "Renamed", "pinned": True})
    assert (changed.title, changed.pinned) == ("Renamed", True)
    assert (await sessions.get(ADA, untitled.id)).title == "Renamed"
    await sessions.delete(ADA, untitled.id)
    with pytest.raises(SessionNotFound):
        await sessions.get(ADA, untitled.id)


async def test_another_users_session_is_not_found_by_any_method(sessions: SessionService) -> None:
    mine = await sessions.create(ADA, {"title": "Mine"})
    attempts: list[Callable[[], Awaitable[object]]] = [
        lambda: sessions.get(BOB, mine.id),
        lambda: sessions.update(BOB, mine.id, {"title": "Taken"}),
        lambda: sessions.touch(BOB, mine.id),
        lambda: sessions.delete(BOB, mine.id),
    ]
    for attempt in attempts:
        with pytest.raises(SessionNotFound) as refused:
            await attempt()
        assert refused.value.code == "SESSION_NOT_FOUND"
    assert (await sessions.page(BOB, SessionFilter(), limit=10)).items == []
    assert (await sessions.get(ADA, mine.id)).title == "Mine"  # untouched


async def test_one_session_per_workspace_however_many_ask_at_once(
    sessions: SessionService,
) -> None:
    made = await asyncio.gather(
        *(sessions.get_or_create(ADA, "/srv/app/./", {"title": "App"}) for _ in range(5))
    )
    assert len({session.id for session, _ in made}) == 1
    assert [created for _, created in made].count(True) == 1
    assert made[0][0].working_directory == "/srv/app"
    theirs, created = await sessions.get_or_create(BOB, "/srv/app", {})
    assert created and theirs.id != made[0][0].id  # each user's workspace is their own
