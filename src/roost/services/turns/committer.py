"""One committer per process for every running turn's event log.

A turn's writer hands its pending events (and the message writes that go with them) to
the committer, which commits what every turn has pending in one transaction a round:
at once when no round is under way, else in the next one, with everything that arrived
meanwhile. Under load a round carries many turns' events; alone, a turn's first token
is committed at once. Events are published after their round commits.
"""

import asyncio
import contextlib
from typing import TYPE_CHECKING

from roost.store.db import Database, uninterrupted
from roost.store.turns import EventRepo

if TYPE_CHECKING:
    from roost.services.turns.event_log import EventWriter


class Committer:
    def __init__(self, database: Database) -> None:
        self.database = database
        self._due: dict[EventWriter, None] = {}  # an ordered set: first come, first written
        self._next: asyncio.Future[None] | None = None  # the round that will take them
        self._current: set[EventWriter] = set()
        self._current_done: asyncio.Future[None] | None = None
        self._task: asyncio.Task[None] | None = None

    def due(self, writer: "EventWriter") -> None:
        """``writer`` has something pending: commit it in the next round."""
        self._due[writer] = None
        if self._next is None:
            self._next = asyncio.get_running_loop().create_future()
        if self._task is None:
            self._task = asyncio.create_task(self._rounds(), name="roost-committer")

    async def settle(self, writer: "EventWriter") -> None:
        """Return once nothing of ``writer``'s is due or being committed."""
        while True:
            if writer in self._current:
                round_done = self._current_done
            elif writer in self._due:
                round_done = self._next
                if self._task is None:  # the rounds were stopped (a shutdown): go on
                    self._task = asyncio.create_task(self._rounds(), name="roost-committer")
            else:
                return
            assert round_done is not None  # set whenever a writer is current or due
            with contextlib.suppress(asyncio.CancelledError):
                await asyncio.shield(round_done)

    async def drain(self) -> None:
        """Wait for the rounds under way (at shutdown)."""
        if self._task is not None:
            with contextlib.suppress(asyncio.CancelledError):
                await asyncio.shield(self._task)

    async def _rounds(self) -> None:
        try:
            while self._due:
                writers = list(self._due)
                self._due.clear()
                self._current = set(writers)
                self._current_done, self._next = self._next, None
                try:
                    await uninterrupted(self._round(writers))
                finally:
                    self._current = set()
                    if self._current_done is not None:
                        self._current_done.set_result(None)
        finally:
            self._task = None

    async def _round(self, writers: "list[EventWriter]") -> None:
        taken = [(writer, *writer.take()) for writer in writers]
        taken = [
            (writer, events, changes) for writer, events, changes in taken if events or changes
        ]
        if not taken:
            return
        try:
            async with self.database.write(urgent=True) as db:
                for _, _, changes in taken:
                    for change in changes:
                        await change(db)
                logs = [(w.turn_id, w.attempt, events) for w, events, _ in taken if events]
                await EventRepo(db).append_many(logs)
        except Exception:
            # One turn's failure (say it was fenced off) must not hold the others back:
            # each is written alone, and only the one that fails hears of it.
            for writer, events, changes in taken:
                await writer.commit_alone(events, changes)
            return
        for writer, events, _ in taken:
            await writer.publish(events)
