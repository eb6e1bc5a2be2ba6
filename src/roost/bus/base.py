"""The seams between turns and the processes that run and watch them (DESIGN.md §5).

The in-process back ends live in :mod:`roost.bus.local`; scale-out ones put the same
interfaces over PostgreSQL and Redis.
"""

from collections.abc import AsyncIterator, Callable, Coroutine
from typing import Any, Protocol

from roost.domain.events import Event

# Runs a turn: its id, and what the process that accepted it already did to start it
# (None when the job must start it itself, as a turn that waited in the queue does).
TurnJob = Callable[[str, Any], Coroutine[Any, Any, None]]


class Subscription(Protocol):
    """Live events of one turn. ``lagged`` turns true if the reader fell too far behind
    and events were dropped: the reader then catches up from the event log."""

    lagged: bool

    def __aiter__(self) -> AsyncIterator[Event]: ...

    async def next(self, within: float) -> Event | None:
        """The next event, or None after ``within`` seconds of silence."""
        ...

    def drain(self) -> list[Event]:
        """The events already waiting, without waiting for more."""
        ...

    def since(self, seq: int) -> list[Event] | None:
        """The events after ``seq`` published before the subscription began, if the bus
        still holds all of them; None sends the reader to the log."""
        ...

    def close(self) -> None: ...


class EventBus(Protocol):
    backend: str  # "local" (this process only) or a shared one; /api/features shows it

    def subscribe(self, turn_id: str) -> Subscription: ...

    async def publish(self, event: Event) -> None: ...


class TurnQueue(Protocol):
    """Runs turns, one at a time per session, in the order they were submitted."""

    backend: str  # "local" (this process only) or a shared one; /api/features shows it

    def submit(self, session_id: str, turn_id: str, started: Any = None) -> None:
        """Run the turn after the session's earlier ones; ``started`` goes to the job."""
        ...

    def cancel(self, turn_id: str) -> bool:
        """Stop the turn if it runs here: True when its task will end it. A turn still
        waiting for its go is taken off the queue, and its caller ends it."""
        ...

    async def wait(self, turn_id: str) -> None:
        """Return when the turn is no longer queued or running here."""
        ...

    async def aclose(self) -> None: ...
