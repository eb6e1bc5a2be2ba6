"""Writing a turn's event log, and following it: replay after a cursor, then live.

Writes go to the store before the bus, so no reader ever sees an event that a resume
could not replay. Deltas wait a few milliseconds to be committed together.
"""

import asyncio
import contextlib
from collections.abc import AsyncGenerator, AsyncIterator, Awaitable, Callable

from sqlalchemy.ext.asyncio import AsyncSession

from roost.bus.base import EventBus
from roost.clock import utcnow
from roost.domain.events import DELTA_TYPES, Event, Heartbeat, Payload
from roost.store.db import Database, uninterrupted
from roost.store.turns import EventRepo, TurnRepo, event_of

REPLAY_BATCH = 500


class EventWriter:
    def __init__(
        self,
        database: Database,
        bus: EventBus,
        *,
        turn_id: str,
        session_id: str,
        attempt: int,
        last_seq: int,
    ) -> None:
        self.database = database
        self.bus = bus
        self.turn_id = turn_id
        self.session_id = session_id
        self.attempt = attempt
        self.seq = last_seq
        self._pending: list[Event] = []
        self._lock = asyncio.Lock()
        self._flusher: asyncio.Task[None] | None = None

    async def emit(self, payload: Payload) -> Event:
        """Log an event. A delta is committed in the background: at once when no commit
        is under way, else with the others that arrive meanwhile. Any other event is
        committed, with the deltas before it, before this returns."""
        self.seq += 1
        event = Event(
            self.turn_id, self.session_id, self.seq, payload.type, utcnow(), payload.body()
        )
        self._pending.append(event)
        if event.type in DELTA_TYPES:
            if self._flusher is None:
                self._flusher = asyncio.create_task(self._flush_while_pending())
        else:
            await self.flush()
        return event

    async def flush(self) -> None:
        async with self._lock:
            batch, self._pending = self._pending, []
            if not batch:
                return
            await uninterrupted(self._store(batch))
            for event in batch:
                await self.bus.publish(event)

    async def _store(self, batch: list[Event]) -> None:
        async with self.database.write() as db:
            await EventRepo(db).append(self.turn_id, self.attempt, batch)

    async def emit_with(
        self,
        change: Callable[[AsyncSession], Awaitable[None]],
        events: list[Payload],
    ) -> None:
        """Log events in one transaction with ``change``, so that what they announce
        exists in the store as soon as anyone can see them."""
        await self.close()
        async with self._lock:
            made = [
                Event(
                    self.turn_id,
                    self.session_id,
                    self.seq + number,
                    payload.type,
                    utcnow(),
                    payload.body(),
                )
                for number, payload in enumerate(events, 1)
            ]

            async def store() -> None:
                async with self.database.write() as db:
                    await EventRepo(db).append(self.turn_id, self.attempt, made)
                    await change(db)

            await uninterrupted(store())
            self.seq += len(made)
        for event in made:
            await self.bus.publish(event)

    async def close(self) -> None:
        """Commit what is pending; safe to call from a cancelled task's clean-up."""
        if self._flusher is not None:
            with contextlib.suppress(asyncio.CancelledError):
                await asyncio.shield(self._flusher)
        await self.flush()

    async def _flush_while_pending(self) -> None:
        try:
            while self._pending:
                await self.flush()
        finally:
            self._flusher = None


async def follow(
    database: Database,
    bus: EventBus,
    turn_id: str,
    session_id: str,
    *,
    after: int = 0,
    heartbeat_seconds: float = 15.0,
) -> AsyncIterator[Event]:
    """Every event after ``after`` exactly once, in order, until ``done``."""
    async for batch in follow_batches(
        database, bus, turn_id, session_id, after=after, heartbeat_seconds=heartbeat_seconds
    ):
        for event in batch:
            yield event


async def follow_batches(
    database: Database,
    bus: EventBus,
    turn_id: str,
    session_id: str,
    *,
    after: int = 0,
    heartbeat_seconds: float = 15.0,
) -> AsyncGenerator[list[Event], None]:
    """The events after ``after``, in the batches they become available, until ``done``.

    Subscribes first, then replays the log, then follows live, dropping what the
    replay already gave; a reader that lagged behind the bus re-reads the log. After
    ``heartbeat_seconds`` of silence it yields a ``heartbeat`` that is never stored.
    Batches let a stream write whatever is ready in one go instead of one write an event.
    """
    subscription = bus.subscribe(turn_id)
    last = after
    try:
        while True:
            replayed, more = await _replay(database, turn_id, session_id, last, check=True)
            if not more:
                return  # ended before the cursor, or deleted with its session
            batch, last, finished = _fresh(replayed, last)
            if batch:
                yield batch
            if finished:
                return
            if len(replayed) < REPLAY_BATCH and not subscription.lagged:
                break
            subscription.lagged = False
        while True:
            live = await subscription.next(heartbeat_seconds)
            if live is None:
                beat = Heartbeat()
                yield [Event(turn_id, session_id, last, beat.type, utcnow(), beat.body())]
                continue
            ready = [live, *subscription.drain()]
            if subscription.lagged:
                subscription.lagged = False
                ready, _ = await _replay(database, turn_id, session_id, last)
            batch, last, finished = _fresh(ready, last)
            if batch:
                yield batch
            if finished:
                return
    finally:
        subscription.close()


def _fresh(events: list[Event], last: int) -> tuple[list[Event], int, bool]:
    """The events after ``last`` up to ``done``; the new ``last``; whether ``done`` came."""
    fresh: list[Event] = []
    for event in events:
        if event.seq <= last:
            continue
        fresh.append(event)
        last = event.seq
        if event.type == "done":
            return fresh, last, True
    return fresh, last, False


async def _replay(
    database: Database, turn_id: str, session_id: str, after: int, *, check: bool = False
) -> tuple[list[Event], bool]:
    """The logged events after ``after``; and, when asked, whether any can follow them
    (answered by the events themselves when there are some). None can when the turn is
    gone, or when its log ended with ``done`` at or before ``after``: a reader resuming
    at the end of a finished turn is told so at once instead of waiting for ever."""

    async def read() -> tuple[list[Event], bool]:
        async with database.read() as db:
            rows = await EventRepo(db).after(turn_id, after, limit=REPLAY_BATCH)
            more = bool(rows) or not check or await _open(db, turn_id)
        return [event_of(row, session_id) for row in rows], more

    return await uninterrupted(read())


async def _open(db: AsyncSession, turn_id: str) -> bool:
    """Whether the turn exists and its log has not ended (``done`` is always last)."""
    if await TurnRepo(db).get_unchecked(turn_id) is None:
        return False
    return not await EventRepo(db).of_types(turn_id, ["done"])
