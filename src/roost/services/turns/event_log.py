"""Writing a turn's event log, and following it: replay after a cursor, then live.

Writes go to the store before the bus, so no reader ever sees an event that a resume
could not replay. A running turn's events and the writes that go with them (its
messages) are committed in the background by the process's :class:`Committer`. The
runner never waits for a commit, except where a step must be durable before the turn
goes on (it waits on the user, or it ends).
"""

from collections.abc import AsyncGenerator, AsyncIterator, Awaitable, Callable, Sequence
from datetime import datetime

from sqlalchemy.ext.asyncio import AsyncSession

from roost.bus.base import EventBus
from roost.clock import utcnow
from roost.domain.events import Event, Heartbeat, Payload
from roost.services.turns.committer import Committer
from roost.store.db import Database, uninterrupted
from roost.store.models import Turn
from roost.store.turns import EventRepo, TurnRepo, event_of

REPLAY_BATCH = 500

# A write committed with the events logged around it, in the order it was asked for.
Change = Callable[[AsyncSession], Awaitable[None]]
# The last writes of a step, which decide the events that announce them.
Step = Callable[[AsyncSession], Awaitable[Sequence[Payload]]]


class EventWriter:
    """A running turn's log: events get their ``seq`` here and go to the process's
    :class:`Committer`; writes that must be durable before the turn goes on are
    committed by :meth:`commit_with`, with everything pending."""

    def __init__(
        self,
        database: Database,
        bus: EventBus,
        committer: Committer,
        *,
        turn_id: str,
        session_id: str,
        attempt: int,
        last_seq: int,
    ) -> None:
        self.database = database
        self.bus = bus
        self.committer = committer
        self.turn_id = turn_id
        self.session_id = session_id
        self.attempt = attempt
        self.seq = last_seq
        self._pending: list[Event] = []
        self._changes: list[Change] = []
        self._failure: Exception | None = None  # a background commit's, raised on next use

    async def emit(self, payload: Payload) -> Event:
        """Log an event; it is committed in the background (see the module's notes)."""
        self._raise_failure()
        self.seq += 1
        event = Event.of(self.turn_id, self.session_id, self.seq, payload, utcnow())
        self._pending.append(event)
        self.committer.due(self)
        return event

    def change(self, change: Change) -> None:
        """Commit ``change`` with the next events, or with :meth:`commit_with` (every
        change is followed by one or the other), after the changes before it: it does not
        call for a commit of its own."""
        self._raise_failure()
        self._changes.append(change)

    async def commit_with(self, step: Step) -> list[Event]:
        """Commit what is pending, ``step``'s writes and the events it returns, in one
        transaction, and wait for it: what the events announce exists in the store as
        soon as anyone can see them. The caller emits nothing meanwhile."""
        await self.close()
        batch, changes = self.take()
        return await uninterrupted(self._commit(batch, changes, step))

    async def close(self) -> None:
        """Wait until what was emitted is committed; a commit that failed is raised here.
        Safe to call from a cancelled task's clean-up."""
        await self.committer.settle(self)
        self._raise_failure()

    def take(self) -> tuple[list[Event], list[Change]]:
        """What is pending, for a commit (the committer's or this writer's own)."""
        batch, changes = self._pending, self._changes
        self._pending, self._changes = [], []
        return batch, changes

    async def commit_alone(self, batch: list[Event], changes: list[Change]) -> None:
        """Commit a batch in a transaction of its own; a failure is kept for the runner,
        which hears of it at its next emit (or at :meth:`close`)."""
        try:
            await self._commit(batch, changes)
        except Exception as failure:  # e.g. TurnFenced
            self._failure = failure

    async def publish(self, events: list[Event]) -> None:
        for event in events:
            await self.bus.publish(event)

    def _raise_failure(self) -> None:
        """A background commit's failure, raised once: what it could not store waits
        for the next commit."""
        failure, self._failure = self._failure, None
        if failure is not None:
            raise failure

    async def _commit(
        self, batch: list[Event], changes: list[Change], step: Step | None = None
    ) -> list[Event]:
        """Store, then publish. What failed to commit is put back, to go with the next
        commit. A ``step``'s events follow every event emitted so far."""
        made: list[Event] = []
        try:
            async with self.database.write() as db:
                for change in changes:
                    await change(db)
                if step is not None:
                    payloads, now = await step(db), utcnow()
                    made = [
                        Event.of(self.turn_id, self.session_id, self.seq + n, p, now)
                        for n, p in enumerate(payloads, 1)
                    ]
                    self.seq += len(made)
                if batch or made:
                    await EventRepo(db).append(self.turn_id, self.attempt, [*batch, *made])
        except Exception:
            self.seq -= len(made)
            self._pending[:0] = batch
            self._changes[:0] = changes
            raise
        await self.publish([*batch, *made])
        return made


def log_with(
    db: AsyncSession, turn: Turn, payloads: Sequence[Payload], now: datetime
) -> list[Event]:
    """Events written by the unit of work that changes ``turn`` (its start, an ending
    no runner writes), after its last one; published by the caller once committed."""
    made = [
        Event.of(turn.id, turn.session_id, turn.last_seq + n, p, now)
        for n, p in enumerate(payloads, 1)
    ]
    repo = EventRepo(db)
    for event in made:
        repo.add(event)
    turn.last_seq += len(made)
    return made


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

    Subscribes first, then replays the log (unless the bus still holds every event after
    ``after``), then follows live, dropping what the replay already gave; a reader that
    lagged behind the bus re-reads the log. After
    ``heartbeat_seconds`` of silence it yields a ``heartbeat`` that is never stored.
    Batches let a stream write whatever is ready in one go instead of one write an event.
    """
    subscription = bus.subscribe(turn_id)
    last = after
    try:
        held = subscription.since(after)
        while held is None:
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
        if held:  # a live turn's newest events, still on the bus: no read of the log
            batch, last, finished = _fresh(held, last)
            yield batch
            if finished:
                return
        while True:
            live = await subscription.next(heartbeat_seconds)
            if live is None:
                beat = Heartbeat()
                yield [Event.of(turn_id, session_id, last, beat, utcnow())]
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
