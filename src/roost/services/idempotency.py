"""Idempotent retries (API.md §1): the first POST with a key does the work; a retry with
the same key, from the same credential, gets the first answer back instead of doing it
again. An answer that carries a secret is never kept: its retry is told so."""

from dataclasses import dataclass
from datetime import timedelta
from typing import Any

from roost.clock import utcnow
from roost.store.db import Database, uninterrupted
from roost.store.idempotency import IdempotencyRepo, expire_idempotency_keys
from roost.store.models import IdempotencyKey

KEPT_FOR = timedelta(hours=24)
MAX_STORED_BYTES = 1024 * 1024  # a larger answer is not kept: its retry does the work again


@dataclass(frozen=True)
class Attempt:
    """One POST sent with a key: who sent it, through which credential and with what
    rights, the key, and what it asked."""

    owner_id: str
    principal: str
    as_admin: bool
    key: str
    method: str
    path: str
    body_hash: str

    def comes_as(self, row: IdempotencyKey) -> bool:
        """Sent through the credential that sent ``row``, with the same rights: then the
        route's authorisation answers as it did the first time (keys' scopes never
        change, and what a user owns is the same)."""
        return (row.principal, row.as_admin) == (self.principal, self.as_admin)

    def asks_the_same_as(self, row: IdempotencyKey) -> bool:
        return (row.method, row.path, row.body_hash) == (self.method, self.path, self.body_hash)


class IdempotencyStore:
    def __init__(self, database: Database) -> None:
        self.database = database

    async def claim(self, attempt: Attempt) -> IdempotencyKey | None:
        """None when this is the key's first request, which now runs; else the key's row:
        still running, or done with the answer to give again."""
        return await uninterrupted(self._claim(attempt))

    async def _claim(self, attempt: Attempt) -> IdempotencyKey | None:
        async with self.database.write() as db:
            await expire_idempotency_keys(db, utcnow() - KEPT_FOR)
            return await IdempotencyRepo(db, attempt.owner_id).claim(
                attempt.key,
                principal=attempt.principal,
                as_admin=attempt.as_admin,
                method=attempt.method,
                path=attempt.path,
                body_hash=attempt.body_hash,
                state="running",
                created_at=utcnow(),
            )

    async def finish(self, attempt: Attempt, **answer: Any) -> None:
        """Keep the answer (``status_code``, ``content_type`` and ``body``, or ``turn``)."""
        await uninterrupted(self._set(attempt, state="done", **answer))

    async def withhold(self, attempt: Attempt, status_code: int) -> None:
        """The request succeeded with an answer that must not be kept (it holds a
        secret): only that it happened is."""
        await uninterrupted(self._set(attempt, state="withheld", status_code=status_code))

    async def _set(self, attempt: Attempt, **values: Any) -> None:
        async with self.database.write() as db:
            await IdempotencyRepo(db, attempt.owner_id).set(attempt.key, **values)

    async def forget(self, attempt: Attempt) -> None:
        """The request failed: the key is free for a retry that does the work."""
        await uninterrupted(self._forget(attempt))

    async def _forget(self, attempt: Attempt) -> None:
        async with self.database.write() as db:
            await IdempotencyRepo(db, attempt.owner_id).forget_running(attempt.key)
