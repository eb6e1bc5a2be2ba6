"""The database: one async engine, and transactions that say whether they write.

On SQLite a writing transaction starts with ``BEGIN IMMEDIATE`` so that two writers
queue on the busy timeout instead of failing when a read lock cannot be upgraded;
reading transactions stay ``DEFERRED`` and never block each other (WAL). SQLite has
one writer at a time anyway, so a process's writers also take turns on a lock of its
own first (:class:`WriterTurns`): however many wait, none fails because the busy
timeout ran out (that timeout is left for other processes, such as the CLI beside a
running server).
"""

import asyncio
import contextlib
from collections import deque
from collections.abc import AsyncIterator, Coroutine
from contextlib import asynccontextmanager
from pathlib import Path
from typing import Any, TypeVar

from sqlalchemy import event, text
from sqlalchemy.dialects import postgresql, sqlite
from sqlalchemy.engine import Connection, make_url
from sqlalchemy.exc import IntegrityError
from sqlalchemy.ext.asyncio import (
    AsyncEngine,
    AsyncSession,
    async_sessionmaker,
    create_async_engine,
)

from roost.store import sqlite_inline

SQLITE_BUSY_TIMEOUT_MS = 10_000
# A transaction that finds every connection in use waits for one this long: a turn's
# writes wait their turn rather than fail because the server is busy.
CONNECTION_WAIT_SECONDS = 600
KEPT_CONNECTIONS = 10  # open even when idle; the rest of the pool closes when returned
T = TypeVar("T")


class Database:
    def __init__(self, url: str, *, pool_size: int = 30) -> None:
        parsed = make_url(url)
        self.backend = parsed.get_backend_name()
        if self.backend == "sqlite":
            self.engine = _sqlite_engine(url)
        else:
            kept = min(KEPT_CONNECTIONS, pool_size)
            self.engine = create_async_engine(
                url,
                pool_size=kept,
                max_overflow=pool_size - kept,
                pool_timeout=CONNECTION_WAIT_SECONDS,
            )
        self._reader = async_sessionmaker(self.engine, expire_on_commit=False)
        self._writer = async_sessionmaker(
            self.engine.execution_options(roost_write=True), expire_on_commit=False
        )
        # PostgreSQL needs no such turn: its writers lock rows, not the database.
        self._one_writer = WriterTurns() if self.backend == "sqlite" else None

    @asynccontextmanager
    async def read(self) -> AsyncIterator[AsyncSession]:
        async with self._reader() as session, session.begin():
            yield session

    @asynccontextmanager
    async def write(self, *, urgent: bool = False) -> AsyncIterator[AsyncSession]:
        """A writing transaction; an ``urgent`` one (the event log's committer, which every
        running turn's stream waits on) goes before the writers already waiting."""
        async with self._turn_to_write(urgent), self._writer() as session, session.begin():
            yield session

    def _turn_to_write(self, urgent: bool) -> contextlib.AbstractAsyncContextManager[Any]:
        if self._one_writer is None:
            return contextlib.nullcontext()
        return self._one_writer.turn(urgent=urgent)

    async def ping(self) -> bool:
        try:
            async with self.engine.connect() as conn:
                await conn.execute(text("SELECT 1"))
        except Exception:
            return False
        return True

    async def close(self) -> None:
        await self.engine.dispose()


class WriterTurns:
    """One writer at a time, first come first served; urgent writers go first among
    those waiting, but not all the time.

    After an urgent writer held the turn for a while, the others waiting get as long
    again before the next urgent one may pass them: under a load that always has an
    urgent writer waiting (the committer, while many turns stream), the others (turns
    starting) still get half the time to write, instead of one of them per round.
    """

    def __init__(self) -> None:
        self._held = False
        self._waiting: deque[asyncio.Future[None]] = deque()
        self._urgent: deque[asyncio.Future[None]] = deque()
        self._others_until = 0.0  # the loop's time until which the others go first

    @asynccontextmanager
    async def turn(self, *, urgent: bool = False) -> AsyncIterator[None]:
        if self._held or self._waiting or self._urgent:
            handed = asyncio.get_running_loop().create_future()
            queue = self._urgent if urgent else self._waiting
            queue.append(handed)
            try:
                await handed
            except asyncio.CancelledError:
                if handed.done() and not handed.cancelled():
                    self._pass_on()  # handed the turn just as it was cancelled: give it on
                else:
                    queue.remove(handed)
                raise
        self._held = True
        clock = asyncio.get_running_loop().time
        taken = clock()
        try:
            yield
        finally:
            if urgent:
                now = clock()
                self._others_until = now + (now - taken)
            self._pass_on()

    def _pass_on(self) -> None:
        """The turn goes to the next urgent writer, else the next one, else nobody;
        while the others' share runs, to the next other writer first."""
        others_first = asyncio.get_running_loop().time() < self._others_until
        queues = (self._waiting, self._urgent) if others_first else (self._urgent, self._waiting)
        for queue in queues:
            while queue:
                handed = queue.popleft()
                if not handed.done():
                    handed.set_result(None)
                    return
        self._held = False


def _sqlite_engine(url: str) -> AsyncEngine:
    database = make_url(url).database
    if database and database != ":memory:":
        Path(database).parent.mkdir(parents=True, exist_ok=True)
    engine = create_async_engine(url, async_creator=sqlite_inline.creator(url))

    @event.listens_for(engine.sync_engine, "connect")
    def _on_connect(dbapi_connection: Any, _record: Any) -> None:
        dbapi_connection.isolation_level = None  # SQLAlchemy emits BEGIN itself, below
        cursor = dbapi_connection.cursor()
        for pragma in (
            "journal_mode=WAL",
            "foreign_keys=ON",
            f"busy_timeout={SQLITE_BUSY_TIMEOUT_MS}",
            "synchronous=NORMAL",
        ):
            cursor.execute(f"PRAGMA {pragma}")
        cursor.close()

    @event.listens_for(engine.sync_engine, "begin")
    def _on_begin(conn: Connection) -> None:
        writes = conn.get_execution_options().get("roost_write", False)
        conn.exec_driver_sql("BEGIN IMMEDIATE" if writes else "BEGIN")

    return engine


async def insert_or_ignore(
    session: AsyncSession, table: Any, values: dict[str, Any], conflict: list[str]
) -> bool:
    """Insert a row unless one with the same ``conflict`` columns exists; True if inserted."""
    statement: Any
    if session.get_bind().dialect.name == "postgresql":
        statement = postgresql.insert(table)
    else:
        statement = sqlite.insert(table)
    statement = statement.values(**values).on_conflict_do_nothing(index_elements=conflict)
    result = await session.execute(statement)
    return bool(result.rowcount)  # type: ignore[attr-defined]


async def flush_unique(session: AsyncSession, taken: Exception) -> None:
    """Write what is pending now, raising ``taken`` (the domain's error) when it breaks a
    unique rule: the check before it cannot see a row another transaction is adding at
    the same moment, and the driver's own error must not reach a service at commit."""
    try:
        await session.flush()
    except IntegrityError as race:
        raise taken from race


async def uninterrupted(work: Coroutine[Any, Any, T]) -> T:
    """Finish a database operation even if the task awaiting it is cancelled meanwhile.

    A cancel that lands inside a driver call leaves the connection half-used, and the
    pool's clean-up of it can outlive the event loop; so the operation runs to its end
    (it is short) and the cancel takes effect right after.
    """
    task = asyncio.ensure_future(work)
    try:
        return await asyncio.shield(task)
    except asyncio.CancelledError:
        # Awaiting the task itself would pass a second cancel on to it (a worker being
        # stopped cancels its turn twice): keep shielding it until it is done.
        while not task.done():
            with contextlib.suppress(asyncio.CancelledError):
                await asyncio.shield(task)
        raise
