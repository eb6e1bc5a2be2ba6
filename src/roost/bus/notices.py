"""Notices: small messages to every live connection of one user — a session created,
renamed or deleted, a turn started, a task's status or plan changed — so that a second
browser tab shows what the first did. Fire and forget: a listener that falls behind
loses notices (and is told so), never slows whoever publishes.

In-process (``LocalNotices``), or through Redis when it is configured
(``RedisNotices``), so that a notice reaches the user's connections on every process.
"""

import asyncio
import contextlib
import logging
from collections.abc import Mapping
from typing import Any, Protocol

import orjson

log = logging.getLogger("roost.bus")

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


class RedisNotices(LocalNotices):
    """Notices through Redis (``ROOST_REDIS_URL``), so that every process's connections
    hear what any process did: publishing goes to a channel per user; one subscription
    per process, to all of them, hands each notice to this process's listeners."""

    backend = "redis"
    PREFIX = "roost:notices:"

    def __init__(self, redis: Any) -> None:
        super().__init__()
        self.redis = redis
        self._pump: asyncio.Task[None] | None = None
        self._sending: set[asyncio.Task[Any]] = set()

    def listen(self, user_id: str) -> Listener:
        if self._pump is None or self._pump.done():
            self._pump = asyncio.create_task(self._relay())
        return super().listen(user_id)

    def publish(self, user_id: str, notice: Notice) -> None:
        sent = asyncio.create_task(self._send(user_id, notice))
        self._sending.add(sent)
        sent.add_done_callback(self._sending.discard)

    async def _send(self, user_id: str, notice: Notice) -> None:
        try:
            await self.redis.publish(self.PREFIX + user_id, orjson.dumps(dict(notice)))
        except Exception:
            log.warning("a notice could not be published", exc_info=True)

    async def _relay(self) -> None:
        """This process's one subscription: each notice to the local listeners."""
        pubsub = self.redis.pubsub()
        try:
            await pubsub.psubscribe(self.PREFIX + "*")
            while True:
                message = await pubsub.get_message(ignore_subscribe_messages=True, timeout=1.0)
                if message is None or message.get("type") != "pmessage":
                    continue
                channel = message["channel"]
                channel = channel.decode() if isinstance(channel, bytes) else str(channel)
                user_id = channel.removeprefix(self.PREFIX)
                super().publish(user_id, orjson.loads(message["data"]))
        finally:
            with contextlib.suppress(Exception):
                await pubsub.aclose()

    async def aclose(self) -> None:
        for task in (self._pump, *self._sending):
            if task is not None:
                task.cancel()
        for task in (self._pump, *self._sending):
            if task is not None:
                with contextlib.suppress(BaseException):
                    await task
