"""SQLite for SQLAlchemy's asyncio engine, run in the event loop's own thread.

``aiosqlite`` sends every call to a thread of its connection and back: two thread
switches, a wake-up of the loop and a wait for the GIL per statement. A turn's writes
are a few short statements on a local file, so those hand-offs cost more than the work
(they were most of a short turn's database time, and under load a transaction held
SQLite's write lock across many turns of a busy loop). This module gives SQLAlchemy's
``aiosqlite`` dialect a connection with ``aiosqlite``'s interface whose calls run at
once, through ``create_async_engine(async_creator=...)``.

The price: a statement blocks the loop while it runs. Roost's statements are short and
indexed; a reader never waits (WAL); a writer waits only for another process that holds
the write lock (the busy timeout), as a CLI command beside the server does for a moment.

The ``sqlite3`` module is sqlean.py's where it is installed: the same interface, built
with extension loading, which many Pythons' own ``sqlite3`` lacks and ``sqlite-vec``
needs. Its errors are raised as ``sqlite3``'s, which SQLAlchemy knows.
"""

import contextlib
import logging
import sqlite3
from collections.abc import Callable, Iterable, Iterator, Sequence
from types import ModuleType
from typing import Any

from sqlalchemy.dialects.sqlite.aiosqlite import SQLiteDialect_aiosqlite
from sqlalchemy.engine import make_url

log = logging.getLogger("roost.store")


def _driver() -> ModuleType:
    try:
        import sqlean
    except ImportError:
        return sqlite3
    return sqlean  # type: ignore[no-any-return]


DRIVER = _driver()


@contextlib.contextmanager
def _sqlite3_errors() -> Iterator[None]:
    """The driver's errors as the standard module's classes of the same name."""
    try:
        yield
    except sqlite3.Error:
        raise
    except DRIVER.Error as error:
        kind = getattr(sqlite3, type(error).__name__, sqlite3.DatabaseError)
        translated = kind(*error.args)
        for name in ("sqlite_errorcode", "sqlite_errorname"):
            if hasattr(error, name):
                setattr(translated, name, getattr(error, name))
        raise translated from error


def load_vectors(connection: Any) -> bool:
    """Load ``sqlite-vec`` into a connection; whether it could be."""
    try:
        import sqlite_vec
    except ImportError:
        return False
    try:
        connection.enable_load_extension(True)
        try:
            sqlite_vec.load(connection)
        finally:
            connection.enable_load_extension(False)
    except (AttributeError, DRIVER.Error, sqlite3.Error) as failure:
        log.warning("sqlite-vec could not be loaded", extra={"error": str(failure)})
        return False
    return True


class InlineCursor:
    """``aiosqlite.Cursor``'s awaitables over a ``sqlite3`` cursor."""

    def __init__(self, cursor: sqlite3.Cursor) -> None:
        self._cursor = cursor

    async def __aenter__(self) -> "InlineCursor":
        return self

    async def __aexit__(self, *_exc: object) -> None:
        self._cursor.close()

    @property
    def description(self) -> Any:
        return self._cursor.description

    @property
    def rowcount(self) -> int:
        return self._cursor.rowcount

    @property
    def lastrowid(self) -> int | None:
        return self._cursor.lastrowid

    @property
    def arraysize(self) -> int:
        return self._cursor.arraysize

    @arraysize.setter
    def arraysize(self, value: int) -> None:
        self._cursor.arraysize = value

    async def execute(self, sql: str, parameters: Any = ()) -> "InlineCursor":
        with _sqlite3_errors():
            self._cursor.execute(sql, parameters)
        return self

    async def executemany(self, sql: str, parameters: Iterable[Any]) -> "InlineCursor":
        with _sqlite3_errors():
            self._cursor.executemany(sql, parameters)
        return self

    async def fetchone(self) -> Any:
        with _sqlite3_errors():
            return self._cursor.fetchone()

    async def fetchmany(self, size: int | None = None) -> list[Any]:
        with _sqlite3_errors():
            return self._cursor.fetchmany(size if size is not None else self._cursor.arraysize)

    async def fetchall(self) -> list[Any]:
        with _sqlite3_errors():
            return self._cursor.fetchall()

    async def close(self) -> None:
        self._cursor.close()


class _RunAtOnce:
    """What SQLAlchemy's dialect puts on ``aiosqlite``'s queue to its thread (to set the
    isolation level) runs here at once instead."""

    def put_nowait(self, item: tuple[Any, Callable[[], Any]]) -> None:
        future, function = item
        try:
            future.set_result(function())
        except Exception as error:
            future.set_exception(error)


class InlineConnection:
    """``aiosqlite.Connection``'s interface, as SQLAlchemy's dialect uses it, over a
    ``sqlite3`` connection in this thread."""

    def __init__(self, connection: sqlite3.Connection) -> None:
        self._conn = connection
        self._connection: sqlite3.Connection | None = connection  # None once closed
        self._tx = _RunAtOnce()

    @property
    def isolation_level(self) -> str | None:
        return self._conn.isolation_level

    def cursor(self) -> InlineCursor:
        return InlineCursor(self._conn.cursor())

    async def execute(self, sql: str, parameters: Sequence[Any] = ()) -> InlineCursor:
        return await self.cursor().execute(sql, parameters)

    async def create_function(self, *args: Any, **kwargs: Any) -> None:
        self._conn.create_function(*args, **kwargs)

    async def commit(self) -> None:
        with _sqlite3_errors():
            self._conn.commit()

    async def rollback(self) -> None:
        with _sqlite3_errors():
            self._conn.rollback()

    async def close(self) -> None:
        if self._connection is not None:
            self._connection = None
            self._conn.close()

    def stop(self) -> None:
        """Close at once (SQLAlchemy's forced terminate)."""
        if self._connection is not None:
            self._connection = None
            self._conn.close()


def creator(url: str) -> Callable[[], Any]:
    """The ``async_creator`` for a SQLite URL: connected as the dialect would."""
    args, options = SQLiteDialect_aiosqlite().create_connect_args(make_url(url))
    database, *_ = args
    # The loop's thread may differ between a pool's check-outs (SQLAlchemy never uses
    # one connection from two places at once).
    options["check_same_thread"] = False

    async def connect() -> InlineConnection:
        connection = DRIVER.connect(database, **options)
        load_vectors(connection)
        return InlineConnection(connection)

    return connect
