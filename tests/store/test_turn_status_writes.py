"""Every write of a turn's status goes through the table of moves, on both databases."""

import pytest
from sqlalchemy import select

from roost import ids
from roost.domain.turn_status import IllegalTransition, TurnStatus
from roost.store.db import Database
from roost.store.models import Session, Turn, User
from roost.store.turns import TurnFenced, TurnRepo


async def _queued_turn(database: Database) -> str:
    async with database.write() as db:
        user = User(id=ids.new_id("usr"), email=f"{ids.new_id('usr')}@example.com")
        session = Session(id=ids.new_id("ses"), owner_id=user.id)
        turn = Turn(id=ids.new_id("turn"), session_id=session.id)
        for row in (user, session, turn):  # no relationships order the inserts
            db.add(row)
            await db.flush()
    return turn.id


async def _status(database: Database, turn_id: str) -> TurnStatus:
    async with database.read() as db:
        status = (await db.execute(select(Turn.status).where(Turn.id == turn_id))).scalar_one()
    assert type(status) is TurnStatus  # read back as the enum, stored as its string
    return status


async def test_an_update_statement_refuses_a_move_the_table_does_not_allow(
    database_url: str,
) -> None:
    database = Database(database_url)
    try:
        turn_id = await _queued_turn(database)
        with pytest.raises(IllegalTransition, match="from queued to completed"):
            async with database.write() as db:
                await TurnRepo(db).set_fields(turn_id, 1, status=TurnStatus.COMPLETED)
        assert await _status(database, turn_id) is TurnStatus.QUEUED
        with pytest.raises(TurnFenced):  # another attempt's write is fenced, as before
            async with database.write() as db:
                await TurnRepo(db).set_fields(turn_id, 2, status=TurnStatus.RUNNING)
        async with database.write() as db:
            await TurnRepo(db).set_fields(turn_id, 1, status=TurnStatus.RUNNING)
        assert await _status(database, turn_id) is TurnStatus.RUNNING
    finally:
        await database.close()


async def test_a_loaded_turn_refuses_a_move_the_table_does_not_allow(database_url: str) -> None:
    database = Database(database_url)
    try:
        turn_id = await _queued_turn(database)
        async with database.write() as db:
            turn = await TurnRepo(db).get_unchecked(turn_id)
            assert turn is not None
            with pytest.raises(IllegalTransition, match="from queued to waiting"):
                turn.status = TurnStatus.WAITING
            turn.status = TurnStatus.CANCELLED
        assert await _status(database, turn_id) == "cancelled"
        async with database.read() as db:
            turn = await TurnRepo(db).get_unchecked(turn_id)
            assert turn is not None
            with pytest.raises(IllegalTransition, match="from cancelled to running"):
                turn.status = TurnStatus.RUNNING
    finally:
        await database.close()
