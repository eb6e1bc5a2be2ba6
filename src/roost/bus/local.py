"""In-process back ends: asyncio fan-out and an asyncio turn dispatcher."""

import asyncio
import contextlib
import logging
from collections import deque
from collections.abc import AsyncIterator
from typing import Any

from roost.bus.base import TurnJob
from roost.domain.events import Event

log = logging.getLogger("roost.bus")

SUBSCRIBER_BUFFER = 10_000
# The newest events of each live turn the bus keeps, so that a reader who subscribes
# just after the turn started (the request that started it) needs no read of the log.
TAIL = 64
# Events after which nothing is published for a while: the turn's tail is let go.
QUIET_TYPES = frozenset({"done", "input_required"})


class LocalSubscription:
    def __init__(self, bus: "LocalEventBus", turn_id: str, held: list[Event] | None) -> None:
        self._bus = bus
        self._turn_id = turn_id
        self._queue: asyncio.Queue[Event] = asyncio.Queue(SUBSCRIBER_BUFFER)
        self._held = held
        self.lagged = False

    def since(self, seq: int) -> list[Event] | None:
        """Every event after ``seq`` published before this subscription began, when the
        bus still held them all; None when it cannot tell (read the log instead)."""
        held = self._held
        if not held or held[0].seq > seq + 1:
            return None
        return [event for event in held if event.seq > seq]

    def offer(self, event: Event) -> None:
        try:
            self._queue.put_nowait(event)
        except asyncio.QueueFull:
            self.lagged = True  # the reader re-reads the log; nothing is lost

    async def next(self, within: float) -> Event | None:
        try:
            return await asyncio.wait_for(self._queue.get(), within)
        except TimeoutError:
            return None

    async def __aiter__(self) -> AsyncIterator[Event]:
        while True:
            yield await self._queue.get()

    def drain(self) -> list[Event]:
        drained = []
        while not self._queue.empty():
            drained.append(self._queue.get_nowait())
        return drained

    def close(self) -> None:
        self._bus._unsubscribe(self._turn_id, self)


class LocalEventBus:
    backend = "local"

    def __init__(self) -> None:
        self._subscribers: dict[str, set[LocalSubscription]] = {}
        self._tails: dict[str, deque[Event]] = {}

    def subscribe(self, turn_id: str) -> LocalSubscription:
        tail = self._tails.get(turn_id)
        subscription = LocalSubscription(self, turn_id, list(tail) if tail else None)
        self._subscribers.setdefault(turn_id, set()).add(subscription)
        return subscription

    async def publish(self, event: Event) -> None:
        if event.type in QUIET_TYPES:
            self._tails.pop(event.turn_id, None)
        else:
            tail = self._tails.get(event.turn_id)
            if tail is None:
                tail = self._tails[event.turn_id] = deque(maxlen=TAIL)
            tail.append(event)
        for subscription in self._subscribers.get(event.turn_id, ()):
            subscription.offer(event)

    def _unsubscribe(self, turn_id: str, subscription: LocalSubscription) -> None:
        subscribers = self._subscribers.get(turn_id)
        if subscribers is not None:
            subscribers.discard(subscription)
            if not subscribers:
                del self._subscribers[turn_id]


class LocalTurnQueue:
    """One asyncio worker per busy session runs its turns in order."""

    backend = "local"

    def __init__(self, job: TurnJob) -> None:
        self._job = job
        self._waiting: dict[str, deque[tuple[str, Any]]] = {}
        self._workers: dict[str, asyncio.Task[None]] = {}
        self._running: dict[str, asyncio.Task[None]] = {}
        self._finished: dict[str, asyncio.Event] = {}

    def submit(self, session_id: str, turn_id: str, started: Any = None) -> None:
        waiting = self._waiting.setdefault(session_id, deque())
        if any(queued == turn_id for queued, _ in waiting):
            return  # submitted again (a held turn released) before it ran: once is enough
        waiting.append((turn_id, started))
        self._finished.setdefault(turn_id, asyncio.Event())
        if session_id not in self._workers:
            self._workers[session_id] = asyncio.create_task(
                self._work(session_id), name=f"roost-session-{session_id}"
            )

    def cancel(self, turn_id: str) -> bool:
        task = self._running.get(turn_id)
        # A task that has just ended (a turn held behind a waiting one returns at once)
        # stays listed until its worker goes on: it will not end the turn, the caller does.
        if task is not None and task.cancel():
            return True
        for waiting in self._waiting.values():
            for entry in waiting:
                if entry[0] == turn_id:
                    waiting.remove(entry)
                    self._done(turn_id)
                    return False
        return False

    async def wait(self, turn_id: str) -> None:
        finished = self._finished.get(turn_id)
        if finished is not None:
            await finished.wait()

    async def aclose(self) -> None:
        for waiting in self._waiting.values():
            waiting.clear()
        tasks = [*self._running.values(), *self._workers.values()]
        for task in tasks:
            task.cancel()
        for task in tasks:
            with contextlib.suppress(asyncio.CancelledError, Exception):
                await task

    async def _work(self, session_id: str) -> None:
        waiting = self._waiting[session_id]
        try:
            while waiting:
                turn_id, started = waiting.popleft()
                task = asyncio.create_task(
                    self._job(turn_id, started), name=f"roost-turn-{turn_id}"
                )
                self._running[turn_id] = task
                try:
                    await asyncio.shield(task)
                except asyncio.CancelledError:
                    if not task.done():  # the worker itself is being stopped
                        task.cancel()
                        raise
                except Exception:
                    log.exception("turn job failed", extra={"turn_id": turn_id})
                finally:
                    self._running.pop(turn_id, None)
                    self._done(turn_id)
        finally:
            self._workers.pop(session_id, None)
            self._waiting.pop(session_id, None)

    def _done(self, turn_id: str) -> None:
        finished = self._finished.pop(turn_id, None)
        if finished is not None:
            finished.set()
