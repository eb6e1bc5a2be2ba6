"""Keeping vectors current, in the background and never on a turn's path: every memory
and every message that search finds gets a vector from the configured embedding model.
At start-up what lacks one is embedded (made before a model was set, or under another
model); after that, a session's messages once one of its turns ends (the finished
answer, not its deltas) or its history is replaced. A changed text loses its vector
(migration 0017's triggers) and so is embedded again with its session's next change.
A memory written through the API or a tool is embedded as it is written."""

import asyncio
import contextlib
import functools
import logging
from collections.abc import Awaitable, Callable, Sequence

from sqlalchemy import Table
from sqlalchemy.exc import IntegrityError

from roost.engine.providers.base import ProviderError
from roost.errors import ApiError
from roost.services.embedder import Embedder
from roost.store.db import Database
from roost.store.models import Turn
from roost.store.vectors import (
    VectorIndex,
    backend_of,
    memories_without,
    memory_vectors,
    message_vectors,
    messages_without,
)

log = logging.getLogger("roost.embeddings")

BATCH = 64
MAX_EMBEDDED_CHARS = 8_000  # of a long message: what an embedding model takes in one go
Missing = list[tuple[str, str, str]]  # (id, owner, content)
# (db, model, after=, limit=) -> what lacks a vector from the model, in id order
Finder = Callable[..., Awaitable[Missing]]


class VectorIndexer:
    def __init__(self, database: Database, embedder: Embedder, index: VectorIndex) -> None:
        self.database = database
        self.embedder = embedder
        self.index = index
        self._changed: asyncio.Queue[str] = asyncio.Queue()  # session ids
        self._task: asyncio.Task[None] | None = None

    async def start(self) -> None:
        """Learn how the database compares vectors; with a model, start embedding."""
        async with self.database.read() as db:
            self.index.backend = await backend_of(db)
        if self.embedder.model and self._task is None:
            self._task = asyncio.create_task(self._run(), name="roost-vector-indexer")

    async def turn_ended(self, turn: Turn, _user_id: str) -> None:
        """A turn's end is committed: its session's new messages are embedded soon (the
        watcher of every turn, so it only takes note)."""
        self.session_changed(turn.session_id)

    def session_changed(self, session_id: str) -> None:
        if self._task is not None:
            self._changed.put_nowait(session_id)

    async def catch_up(self) -> int:
        """Embed every memory and message that lacks a vector; how many were."""
        memories = await self._embed_missing(memory_vectors, memories_without)
        return memories + await self._embed_missing(message_vectors, messages_without)

    async def _run(self) -> None:
        try:
            await self.catch_up()
        except Exception:  # the database failed: what is missing waits for the next start
            log.exception("embedding what lacked a vector failed")
        while True:
            session_ids = {await self._changed.get()}
            while not self._changed.empty() and len(session_ids) < BATCH:
                session_ids.add(self._changed.get_nowait())
            try:
                await self._embed_sessions(sorted(session_ids))
            except Exception:
                log.exception("embedding a session's messages failed")

    async def _embed_sessions(self, session_ids: Sequence[str]) -> None:
        await self._embed_missing(
            message_vectors, functools.partial(messages_without, session_ids=session_ids)
        )

    async def _embed_missing(self, table: Table, find: Finder) -> int:
        """Embed what ``find`` says lacks a vector, a batch at a time in id order, until
        none is left or the model fails; how many were."""
        model, after, done = self.embedder.model, "", 0
        while model:
            async with self.database.read() as db:
                missing = await find(db, model, after=after, limit=BATCH)
            if not missing or not await self._embed(table, missing):
                break
            done += len(missing)
            after = missing[-1][0]
        return done

    async def _embed(self, table: Table, missing: Missing) -> bool:
        """Give these rows their vectors; False when the model failed (tried again at
        the next start, or the row's next turn)."""
        model = self.embedder.model
        try:
            vectors = await self.embedder.vectors([c[:MAX_EMBEDDED_CHARS] for _, _, c in missing])
        except (ProviderError, ApiError) as failure:
            log.warning("embedding stopped", extra={"error": str(failure)})
            return False
        if vectors is None or model is None:
            return False
        rows = [(i, owner, model, v) for (i, owner, _), v in zip(missing, vectors, strict=True)]
        try:
            await self._put(table, rows)
        except IntegrityError:  # one was deleted meanwhile: keep the others'
            for row in rows:
                with contextlib.suppress(IntegrityError):
                    await self._put(table, [row])
        return True

    async def _put(self, table: Table, rows: list[tuple[str, str, str, list[float]]]) -> None:
        async with self.database.write() as db:
            await self.index.put(db, table, rows)

    async def aclose(self) -> None:
        if self._task is not None:
            self._task.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await self._task
            self._task = None
