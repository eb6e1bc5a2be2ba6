"""The database: one async engine, and transactions that say whether they write.

On SQLite a writing transaction starts with ``BEGIN IMMEDIATE`` so that two writers
queue on the busy timeout instead of failing when a read lock cannot be upgraded;
reading transactions stay ``DEFERRED`` and never block each other (WAL). SQLite has
one writer at a time anyway, so a process's writers also take turns on a lock of its
own first: however many wait, none fails because the busy timeout ran out (that
timeout is left for other processes, such as the CLI beside a running server).
"""

import asyncio
import contextlib
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

SQLITE_BUSY_TIMEOUT_MS = 10_000
T = TypeVar("T")


class Database:
    def __init__(self, url: str) -> None:
        parsed = make_url(url)
        self.backend = parsed.get_backend_name()
        if self.backend == "sqlite":
            self.engine = _sqlite_engine(url)
        else:
            self.engine = create_async_engine(url, pool_size=10, max_overflow=20)
        self._reader = async_sessionmaker(self.engine, expire_on_commit=False)
        self._writer = async_sessionmaker(
            self.engine.execution_options(roost_write=True), expire_on_commit=False
        )
        # First come, first served (asyncio.Lock is fair); PostgreSQL needs no such turn.
        self._one_writer = asyncio.Lock() if self.backend == "sqlite" else None

    @asynccontextmanager
    async def read(self) -> AsyncIterator[AsyncSession]:
        async with self._reader() as session, session.begin():
            yield session

    @asynccontextmanager
    async def write(self) -> AsyncIterator[AsyncSession]:
        async with self._turn_to_write(), self._writer() as session, session.begin():
            yield session

    def _turn_to_write(self) -> contextlib.AbstractAsyncContextManager[Any]:
        return self._one_writer if self._one_writer is not None else contextlib.nullcontext()

    async def ping(self) -> bool:
        try:
            async with self.engine.connect() as conn:
                await conn.execute(text("SELECT 1"))
        except Exception:
            return False
        return True

    async def close(self) -> None:
        await self.engine.dispose()


def _sqlite_engine(url: str) -> AsyncEngine:
    database = make_url(url).database
    if database and database != ":memory:":
        Path(database).parent.mkdir(parents=True, exist_ok=True)
    engine = create_async_engine(url)

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
