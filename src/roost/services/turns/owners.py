"""Turns run on behalf of something else: a task now; later a schedule's run, a
delegated child or an evaluation. The turn's ``options["owner"]`` names its owner
(``{"kind": "task", "id": "task_…"}``); the owner may give the turn more tools and
instructions, and hears how it ended, in the transaction that ends it.

Whoever owns it, a turn's start and end are also told to its user's live connections
(:mod:`roost.bus.notices`: the WebSocket's ``agent``, ``sessions`` and ``hstry``
channels).
"""

from collections.abc import Awaitable, Callable
from dataclasses import dataclass
from typing import Any, Protocol

from sqlalchemy.ext.asyncio import AsyncSession

from roost.bus.notices import Notices
from roost.domain.turn_status import TurnStatus
from roost.engine.tools.registry import KeepOutput, Tool
from roost.store.models import Turn


@dataclass(frozen=True)
class Ending:
    """How a turn ended, as its owner needs to know it."""

    status: TurnStatus
    iterations: int
    error: dict[str, Any] | None = None  # the ``error`` event's body, when it failed
    report: Any = None  # the result of the tool that ended the turn (``finish_task``)
    answer: str | None = None  # the last answer's text, when a runner ended the turn
    usage: dict[str, int] | None = None  # what the turn spent


@dataclass(frozen=True)
class Extras:
    """What an owner adds to its turn: tools (offered besides the agent's), instructions
    for the system prompt, where kept outputs go, a tighter iteration limit; and what it
    sets in place of the agent's: its preamble and temperature."""

    tools: tuple[Tool, ...] = ()
    offered: tuple[str, ...] = ()  # registered tools the turn offers even if its agent does not
    instructions: str | None = None
    keep_output: KeepOutput | None = None
    max_iterations: int | None = None
    preamble: str | None = None  # in place of the agent's (a run's own preamble)
    temperature: float | None = None  # in place of the agent's
    # Nobody is there to answer: tools that would wait on a person are not offered.
    unattended: bool = False

    @property
    def names(self) -> tuple[str, ...]:
        """Every tool name the owner adds to what the turn offers."""
        return (*self.offered, *(tool.name for tool in self.tools))


class TurnOwner(Protocol):
    async def extras(self, turn: Turn, owner_id: str, /) -> Extras:
        """What the turn gets from its owner, as it starts."""
        ...

    async def turn_ended(self, db: AsyncSession, turn: Turn, owner_id: str, ending: Ending) -> None:
        """In the transaction that ends the turn: keep what the owner keeps of it."""
        ...

    async def after_end(self, turn: Turn, owner_id: str) -> None:
        """Once the end is committed: work that must not hold the transaction open."""
        ...


# Hears of every turn's end, once committed: (the turn, its session's owner).
Watcher = Callable[[Turn, str], Awaitable[None]]


class TurnOwners:
    """The owners by kind; a turn that names none (a chat turn) gets nothing from here."""

    def __init__(self, notices: Notices | None = None) -> None:
        self._owners: dict[str, TurnOwner] = {}
        self._watchers: list[Watcher] = []
        self.notices = notices

    def watch(self, watcher: "Watcher") -> None:
        """Call ``watcher(turn, user_id)`` once any turn's end is committed."""
        self._watchers.append(watcher)

    def register(self, kind: str, owner: TurnOwner) -> None:
        self._owners[kind] = owner

    def _of(self, turn: Turn) -> tuple[TurnOwner, str] | None:
        named = (turn.options or {}).get("owner")
        if not isinstance(named, dict):
            return None
        owner = self._owners.get(str(named.get("kind")))
        return (owner, str(named.get("id"))) if owner is not None else None

    async def extras(self, turn: Turn) -> Extras:
        found = self._of(turn)
        return await found[0].extras(turn, found[1]) if found else Extras()

    async def ended(self, db: AsyncSession, turn: Turn, ending: Ending) -> None:
        if (found := self._of(turn)) is not None:
            await found[0].turn_ended(db, turn, found[1], ending)

    def started(self, turn: Turn, user_id: str) -> None:
        """Tell the user's connections that a turn began in one of their sessions."""
        self._tell(user_id, turn, "turn_started")

    async def after_end(self, turn: Turn, user_id: str) -> None:
        """Once the end is committed: the owner's work after it, and the user's
        connections told."""
        self._tell(user_id, turn, "turn_ended")
        if (found := self._of(turn)) is not None:
            await found[0].after_end(turn, found[1])
        for watcher in self._watchers:
            await watcher(turn, user_id)

    def _tell(self, user_id: str, turn: Turn, kind: str) -> None:
        if self.notices is None:
            return
        ids = {"session_id": turn.session_id, "turn_id": turn.id}
        self.notices.publish(user_id, {"channel": "agent", "type": kind, "kind": turn.kind, **ids})
        self.notices.publish(user_id, {"channel": "sessions", "type": "updated", **ids})
        self.notices.publish(user_id, {"channel": "hstry", "type": "messages_changed", **ids})
