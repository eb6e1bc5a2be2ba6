"""Turns and their append-only event log.

Every write that a running turn makes carries its attempt number and is refused when
the turn has moved on (a newer attempt, or a cancel), so a stalled worker cannot
write into a turn it no longer owns.
"""

from collections.abc import Collection, Sequence
from typing import Any

from sqlalchemy import case, delete, insert, select, tuple_, update
from sqlalchemy.ext.asyncio import AsyncSession

from roost import ids
from roost.domain.events import Event
from roost.domain.turn_status import ACTIVE, TurnStatus, sources, transition
from roost.errors import TurnNotFound
from roost.store.models import Session, Turn, TurnEvent
from roost.store.paging import cut


class TurnFenced(Exception):
    """The turn is no longer this attempt's to write."""


class TurnRepo:
    def __init__(self, db: AsyncSession) -> None:
        self.db = db

    async def in_session(self, session: Session, turn_id: str) -> Turn:
        """A turn of a session the caller owns (``session`` comes from ``SessionRepo``);
        :class:`TurnNotFound` for a malformed id or a turn of another session."""
        turn = await self.get_unchecked(turn_id) if ids.is_valid("turn", turn_id) else None
        if turn is None or turn.session_id != session.id:
            raise TurnNotFound(turn_id)
        return turn

    async def find_in_session(self, session: Session, turn_id: str) -> Turn | None:
        """The turn a cursor names, if it is one of this owned session's; None for a
        malformed id."""
        if not ids.is_valid("turn", turn_id):
            return None
        query = select(Turn).where(Turn.id == turn_id, Turn.session_id == session.id)
        return (await self.db.execute(query)).scalar_one_or_none()

    async def get_unchecked(self, turn_id: str) -> Turn | None:
        """A turn by id with no owner check: for the turn engine, which acts on a turn
        already authorised (or found by the engine itself)."""
        return (await self.db.execute(select(Turn).where(Turn.id == turn_id))).scalar_one_or_none()

    async def lock_unchecked(self, turn_id: str) -> Turn | None:
        """:meth:`get_unchecked` with the row locked until the transaction ends."""
        query = select(Turn).where(Turn.id == turn_id).with_for_update()
        return (await self.db.execute(query)).scalar_one_or_none()

    def add(self, turn: Turn) -> None:
        self.db.add(turn)

    async def active(self, session_id: str) -> Sequence[Turn]:
        """The session's queued, running and waiting turns, oldest first."""
        query = (
            select(Turn)
            .where(Turn.session_id == session_id, Turn.status.in_(ACTIVE))
            .order_by(Turn.id)
        )
        return (await self.db.execute(query)).scalars().all()

    async def busy_sessions(self, owner_id: str) -> list[str]:
        """The ids of the owner's sessions that have a queued, running or waiting turn."""
        query = (
            select(Turn.session_id)
            .join(Session, Session.id == Turn.session_id)
            .where(Session.owner_id == owner_id, Turn.status.in_(ACTIVE))
            .distinct()
        )
        return list((await self.db.execute(query)).scalars().all())

    async def page(
        self, session_id: str, *, limit: int, before: str | None = None
    ) -> tuple[list[Turn], bool]:
        """Newest turns first."""
        query = select(Turn).where(Turn.session_id == session_id)
        if before is not None:
            query = query.where(Turn.id < before)
        query = query.order_by(Turn.id.desc()).limit(limit + 1)
        return cut((await self.db.execute(query)).scalars().all(), limit)

    async def last(self, session_id: str) -> Turn | None:
        query = select(Turn).where(Turn.session_id == session_id).order_by(Turn.id.desc())
        return (await self.db.execute(query.limit(1))).scalar_one_or_none()

    async def set_fields(
        self, turn_id: str, attempt: int, *, status: TurnStatus | None = None, **fields: Any
    ) -> None:
        """Change a turn this attempt still owns; a new ``status`` must be a move the
        table allows from the stored one."""
        query = update(Turn).where(Turn.id == turn_id, Turn.attempt == attempt)
        if status is not None:
            query = query.where(Turn.status.in_(sources(status)))
            fields["status"] = status
        result = await self.db.execute(query.values(**fields))
        if not result.rowcount:  # type: ignore[attr-defined]
            if status is not None:
                await self._check_move(turn_id, attempt, status)
            raise TurnFenced(turn_id)

    async def _check_move(self, turn_id: str, attempt: int, status: TurnStatus) -> None:
        """Why an update of the status changed nothing: the attempt was fenced off
        (the caller raises that), or the move is illegal (raised here)."""
        query = select(Turn.status).where(Turn.id == turn_id, Turn.attempt == attempt)
        current = (await self.db.execute(query)).scalar_one_or_none()
        if current is not None:
            transition(current, status)

    async def with_status(self, statuses: Collection[TurnStatus]) -> Sequence[Turn]:
        """Every session's turns in one of ``statuses``, oldest first."""
        query = select(Turn).where(Turn.status.in_(statuses)).order_by(Turn.id)
        return (await self.db.execute(query)).scalars().all()

    async def waiting_before(self, turn: Turn) -> bool:
        """Whether an older turn of the session waits for input (this one must wait too)."""
        query = select(Turn.id).where(
            Turn.session_id == turn.session_id, Turn.status == TurnStatus.WAITING, Turn.id < turn.id
        )
        return (await self.db.execute(query.limit(1))).first() is not None

    async def queued(self, session_id: str) -> Sequence[str]:
        query = (
            select(Turn.id)
            .where(Turn.session_id == session_id, Turn.status == TurnStatus.QUEUED)
            .order_by(Turn.id)
        )
        return (await self.db.execute(query)).scalars().all()

    async def delete(self, turn_id: str) -> None:
        await self.db.execute(delete(Turn).where(Turn.id == turn_id))


FENCED_AT_ONCE = 64  # turns whose last_seq one statement moves


class EventRepo:
    def __init__(self, db: AsyncSession) -> None:
        self.db = db

    async def append(self, turn_id: str, attempt: int, events: Sequence[Event]) -> None:
        """Store events after the turn's last one, refusing a fenced-off attempt."""
        await self.append_many([(turn_id, attempt, events)])

    async def append_many(self, logs: Sequence[tuple[str, int, Sequence[Event]]]) -> None:
        """Store several turns' events, each after its turn's last one: one fenced update
        for every :data:`FENCED_AT_ONCE` turns, one insert; :class:`TurnFenced` (naming
        the first of its batch) when any turn's attempt was fenced off."""
        if not logs:
            return
        for start in range(0, len(logs), FENCED_AT_ONCE):
            await self._move_last_seqs(logs[start : start + FENCED_AT_ONCE])
        await self.db.execute(
            insert(TurnEvent),
            [
                {"turn_id": e.turn_id, "seq": e.seq, "type": e.type, "data": e.data, "ts": e.ts}
                for _, _, events in logs
                for e in events
            ],
        )

    async def _move_last_seqs(self, logs: Sequence[tuple[str, int, Sequence[Event]]]) -> None:
        expected = [(turn_id, attempt, events[0].seq - 1) for turn_id, attempt, events in logs]
        last_seqs = {turn_id: events[-1].seq for turn_id, _, events in logs}
        # SQLAlchemy compiles and caches the statement once for each number of WHENs: each
        # number of turns a round carried would stay in its cache (a gigabyte of large
        # statements under load). Padded to a power of two with ids no turn has, and at
        # most FENCED_AT_ONCE turns a statement, seven small shapes serve every round.
        padding = (1 << (len(last_seqs) - 1).bit_length()) - len(last_seqs)
        last_seqs.update({f"-{n}": 0 for n in range(padding)})
        result = await self.db.execute(
            update(Turn)
            .where(tuple_(Turn.id, Turn.attempt, Turn.last_seq).in_(expected))
            .values(last_seq=case(last_seqs, value=Turn.id))
            .execution_options(synchronize_session=False)
        )
        if result.rowcount != len(logs):  # type: ignore[attr-defined]
            raise TurnFenced(logs[0][0])

    async def after(self, turn_id: str, seq: int, *, limit: int = 1000) -> list[TurnEvent]:
        query = (
            select(TurnEvent)
            .where(TurnEvent.turn_id == turn_id, TurnEvent.seq > seq)
            .order_by(TurnEvent.seq)
            .limit(limit)
        )
        return list((await self.db.execute(query)).scalars().all())

    def add(self, event: Event) -> None:
        """An event written by the unit of work that changes the turn (its start): the
        caller moves ``last_seq`` on in the same flush."""
        self.db.add(
            TurnEvent(
                turn_id=event.turn_id, seq=event.seq, type=event.type, data=event.data, ts=event.ts
            )
        )

    async def of_types(self, turn_id: str, types: Sequence[str]) -> list[TurnEvent]:
        query = (
            select(TurnEvent)
            .where(TurnEvent.turn_id == turn_id, TurnEvent.type.in_(types))
            .order_by(TurnEvent.seq)
        )
        return list((await self.db.execute(query)).scalars().all())


def event_of(row: TurnEvent, session_id: str) -> Event:
    return Event(row.turn_id, session_id, row.seq, row.type, row.ts, row.data)
