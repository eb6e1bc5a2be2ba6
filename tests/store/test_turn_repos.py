"""A caller reaches a turn only through a session it owns, and a waiting request only
through its owner; on both databases."""

import pytest

from roost import ids
from roost.clock import utcnow
from roost.domain.events import Event, TextDelta
from roost.errors import TurnNotFound
from roost.store.db import Database
from roost.store.models import Session, Turn, TurnInput, User
from roost.store.sessions import SessionRepo
from roost.store.turn_inputs import TurnInputRepo
from roost.store.turns import FENCED_AT_ONCE, EventRepo, TurnFenced, TurnRepo


class _Caller:
    def __init__(self, user_id: str) -> None:
        self.user_id = user_id


async def _user_with_waiting_turn(database: Database) -> tuple[str, str, str, str]:
    """A user, their session, its turn and a pending request of that turn."""
    async with database.write() as db:
        user = User(id=ids.new_id("usr"), email=f"{ids.new_id('usr')}@example.com")
        session = Session(id=ids.new_id("ses"), owner_id=user.id)
        turn = Turn(id=ids.new_id("turn"), session_id=session.id)
        request = TurnInput(
            id=ids.new_id("inp"),
            turn_id=turn.id,
            session_id=session.id,
            call_id="call_1",
            kind="question",
            prompt="Which one?",
            status="pending",
        )
        for row in (user, session, turn, request):  # no relationships order the inserts
            db.add(row)
            await db.flush()
    return user.id, session.id, turn.id, request.id


async def test_a_turn_is_found_only_in_its_own_session(database_url: str) -> None:
    database = Database(database_url)
    try:
        alice, alice_session, alice_turn, _ = await _user_with_waiting_turn(database)
        _, _, bob_turn, _ = await _user_with_waiting_turn(database)
        async with database.read() as db:
            session = await SessionRepo(db, alice).get(alice_session)
            turns = TurnRepo(db)
            assert (await turns.in_session(session, alice_turn)).id == alice_turn
            assert (await turns.find_in_session(session, alice_turn)) is not None
            for other in (bob_turn, "turn_malformed", ids.new_id("turn")):
                with pytest.raises(TurnNotFound):
                    await turns.in_session(session, other)
                assert await turns.find_in_session(session, other) is None
    finally:
        await database.close()


async def test_a_waiting_request_is_found_only_by_its_owner(database_url: str) -> None:
    database = Database(database_url)
    try:
        alice, _, _, alice_request = await _user_with_waiting_turn(database)
        bob, _, _, bob_request = await _user_with_waiting_turn(database)
        async with database.read() as db:
            inputs = TurnInputRepo(db)
            assert (await inputs.find_owned(_Caller(alice), alice_request)) is not None
            for other in (bob_request, "inp_malformed", ids.new_id("inp")):
                assert await inputs.find_owned(_Caller(alice), other) is None
            mine, more = await inputs.waiting_on(_Caller(alice), limit=10)
            assert [row.id for row in mine] == [alice_request]
            assert not more
            older, _ = await inputs.waiting_on(_Caller(bob), limit=10, before=bob_request)
            assert older == []  # alice's older request is not in bob's inbox
    finally:
        await database.close()


async def test_appending_many_turns_events_moves_each_and_keeps_few_statement_shapes(
    database_url: str,
) -> None:
    database = Database(database_url)
    try:
        async with database.write() as db:
            user = User(id=ids.new_id("usr"), email=f"{ids.new_id('usr')}@example.com")
            session = Session(id=ids.new_id("ses"), owner_id=user.id)
            turns = [Turn(id=ids.new_id("turn"), session_id=session.id) for _ in range(100)]
            for rows in ([user], [session], turns):
                db.add_all(rows)
                await db.flush()
        cache = database.engine.sync_engine._compiled_cache
        assert cache is not None
        shapes_before = len(cache)
        now = utcnow()
        for count in range(1, 101):  # a round of 1 turn, then 2, … then 100
            logs = [  # turn n joins in round n + 1: its events are 1, 2, …
                (
                    turn.id,
                    1,
                    [Event.of(turn.id, session.id, count - n, TextDelta(content="x"), now)],
                )
                for n, turn in enumerate(turns[:count])
            ]
            async with database.write() as db:
                await EventRepo(db).append_many(logs)
        # One cached UPDATE a power of two (1 … 64), not one for each of the 100 sizes,
        # and none with more WHENs than FENCED_AT_ONCE.
        updates = [str(c) for c in cache.values() if str(c).startswith("UPDATE turns")]
        assert len(updates) <= 7 and len(cache) - shapes_before <= 12
        assert max(update.count(" WHEN ") for update in updates) == FENCED_AT_ONCE
        async with database.read() as db:
            for n, turn in enumerate(turns):
                stored = await TurnRepo(db).get_unchecked(turn.id)
                assert stored is not None and stored.last_seq == 100 - n
                seqs = [e.seq for e in await EventRepo(db).after(turn.id, 0)]
                assert seqs == list(range(1, 101 - n))
        event = Event.of(turns[0].id, session.id, 101, TextDelta(content="x"), now)
        stale = Event.of(turns[1].id, session.id, 100, TextDelta(content="x"), now)

        async def append_with_a_stale_attempt() -> None:
            async with database.write() as db:
                logs = [(turns[0].id, 1, [event]), (turns[1].id, 7, [stale])]
                await EventRepo(db).append_many(logs)

        with pytest.raises(TurnFenced):  # an attempt fenced off: no turn moves
            await append_with_a_stale_attempt()
        async with database.read() as db:
            stored = await TurnRepo(db).get_unchecked(turns[0].id)
            assert stored is not None and stored.last_seq == 100
    finally:
        await database.close()
