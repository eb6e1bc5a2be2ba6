"""Notices: small messages to every live connection of one user — a session created,
renamed or deleted, a turn started, a task's status or plan changed — so that a second
browser tab shows what the first did. Fire and forget: a listener that falls behind
loses notices (and is told so), never slows whoever publishes.

In-process today (``LocalNotices``); with a shared bus, replicas will pass them over
Redis behind the same two methods.
"""

import asyncio
from collections.abc import Mapping
from typing import Any, Protocol

Notice = Mapping[str, Any]  # {"channel": …, "type": …, and what the type carries}

LISTENER_BUFFER = 1_000


class Listener:
    """One connection's notices; ``lagged`` turns true when some were dropped."""

    def __init__(self, hub: "LocalNotices", user_id: str) -> None:
        self._hub = hub
        self.user_id = user_id
        self.queue: asyncio.Queue[Notice] = asyncio.Queue(LISTENER_BUFFER)
        self.lagged = False

    def offer(self, notice: Notice) -> None:
        try:
            self.queue.put_nowait(notice)
        except asyncio.QueueFull:
            self.lagged = True

    async def next(self) -> Notice:
        return await self.queue.get()

    def close(self) -> None:
        self._hub._forget(self)


class Notices(Protocol):
    backend: str

    def listen(self, user_id: str) -> Listener: ...

    def publish(self, user_id: str, notice: Notice) -> None: ...


class LocalNotices:
    backend = "local"

    def __init__(self) -> None:
        self._listeners: dict[str, set[Listener]] = {}

    def listen(self, user_id: str) -> Listener:
        listener = Listener(self, user_id)
        self._listeners.setdefault(user_id, set()).add(listener)
        return listener

    def publish(self, user_id: str, notice: Notice) -> None:
        for listener in self._listeners.get(user_id, ()):
            listener.offer(notice)

    def listening(self) -> int:
        """How many listeners there are, for the debug view."""
        return sum(len(listeners) for listeners in self._listeners.values())

    def _forget(self, listener: Listener) -> None:
        listeners = self._listeners.get(listener.user_id)
        if listeners is not None:
            listeners.discard(listener)
            if not listeners:
                del self._listeners[listener.user_id]
