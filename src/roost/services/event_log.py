"""Writing a turn's event log, and following it: replay after a cursor, then live.

Writes go to the store before the bus, so no reader ever sees an event that a resume
could not replay. Deltas wait a few milliseconds to be committed together.
"""

import asyncio
import contextlib
from collections.abc import AsyncIterator
from typing import Any

from roost.bus.base import EventBus
from roost.clock import utcnow
from roost.engine.events import DELTA_TYPES, Event
from roost.store.db import Database, uninterrupted
from roost.store.turns import EventRepo, TurnRepo, event_of

GROUP_COMMIT_SECONDS = 0.005
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

    async def emit(self, type: str, **data: Any) -> Event:
        """Log an event; deltas are committed within a few ms, the rest before returning."""
        self.seq += 1
        event = Event(self.turn_id, self.session_id, self.seq, type, utcnow(), data)
        self._pending.append(event)
        if type in DELTA_TYPES:
            if self._flusher is None:
                self._flusher = asyncio.create_task(self._flush_soon())
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

    async def close(self) -> None:
        """Commit what is pending; safe to call from a cancelled task's clean-up."""
        if self._flusher is not None:
            self._flusher.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await self._flusher
            self._flusher = None
        await self.flush()

    async def _flush_soon(self) -> None:
        try:
            await asyncio.sleep(GROUP_COMMIT_SECONDS)
        finally:
            self._flusher = None
        await self.flush()


async def follow(
    database: Database,
    bus: EventBus,
    turn_id: str,
    session_id: str,
    *,
    after: int = 0,
    heartbeat_seconds: float = 15.0,
) -> AsyncIterator[Event]:
    """Every event after ``after`` exactly once, in order, until ``done``.

    Subscribes first, then replays the log, then follows live, dropping what the
    replay already gave; a reader that lagged behind the bus re-reads the log. After
    ``heartbeat_seconds`` of silence it yields a ``heartbeat`` that is never stored.
    """
    subscription = bus.subscribe(turn_id)
    last = after
    try:
        while True:
            replayed = await _replay(database, turn_id, session_id, last)
            for event in replayed:
                last = event.seq
                yield event
                if _is_last(event):
                    return
            if len(replayed) < REPLAY_BATCH and not subscription.lagged:
                break
            subscription.lagged = False
        if await _gone(database, turn_id):
            return
        while True:
            live = await subscription.next(heartbeat_seconds)
            if live is None:
                yield Event(turn_id, session_id, last, "heartbeat", utcnow(), {})
                continue
            if subscription.lagged:
                subscription.lagged = False
                for missed in await _replay(database, turn_id, session_id, last):
                    last = missed.seq
                    yield missed
                    if _is_last(missed):
                        return
                continue
            if live.seq <= last:
                continue
            last = live.seq
            yield live
            if _is_last(live):
                return
    finally:
        subscription.close()


async def _replay(database: Database, turn_id: str, session_id: str, after: int) -> list[Event]:
    async def read() -> list[Event]:
        async with database.read() as db:
            rows = await EventRepo(db).after(turn_id, after, limit=REPLAY_BATCH)
        return [event_of(row, session_id) for row in rows]

    return await uninterrupted(read())


async def _gone(database: Database, turn_id: str) -> bool:
    """A turn deleted with its session has nothing more to say."""

    async def read() -> bool:
        async with database.read() as db:
            return await TurnRepo(db).get(turn_id) is None

    return await uninterrupted(read())


def _is_last(event: Event) -> bool:
    return event.type == "done"
