"""What a service read for a key, kept a few seconds: rows every turn reads (a user's
defaults, their skills) need not cost a transaction each time. Another replica's change
shows once the time is up; a change made here is forgotten at once by its service."""

import time
from collections.abc import Callable, Coroutine
from typing import Any, Generic, TypeVar

from roost.store.db import uninterrupted

T = TypeVar("T")
MAX_KEYS = 10_000  # past this many, everything is forgotten (memory stays bounded)


class RecentlyRead(Generic[T]):
    def __init__(self, seconds: float, clock: Callable[[], float] = time.monotonic) -> None:
        self.seconds = seconds
        self._clock = clock
        self._kept: dict[str, tuple[float, T]] = {}

    async def get(self, key: str, read: Callable[[], Coroutine[Any, Any, T]]) -> T:
        """What ``read`` gave for ``key`` less than ``seconds`` ago, else a new read
        (which runs to its end even if the caller is cancelled meanwhile)."""
        kept = self._kept.get(key)
        if kept is not None and self._clock() - kept[0] < self.seconds:
            return kept[1]
        value = await uninterrupted(read())
        if len(self._kept) > MAX_KEYS:
            self._kept.clear()
        self._kept[key] = (self._clock(), value)
        return value

    def forget(self, key: str | None = None) -> None:
        """Drop what was kept for ``key``; with no key, for every key."""
        if key is None:
            self._kept.clear()
        else:
            self._kept.pop(key, None)
