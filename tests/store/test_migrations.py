"""The migrations build exactly the schema the models describe, on both databases."""

from typing import Any

from alembic.autogenerate import compare_metadata
from alembic.migration import MigrationContext
from sqlalchemy import Connection

from roost.store.db import Database
from roost.store.models import Base
from roost.store.search_index import in_models


async def test_migrated_schema_matches_the_models(database_url: str) -> None:
    database = Database(database_url)

    def differences(connection: Connection) -> list[Any]:
        opts = {"compare_type": True, "include_name": in_models}  # not the search index
        context = MigrationContext.configure(connection, opts=opts)
        return list(compare_metadata(context, Base.metadata))

    try:
        async with database.engine.connect() as connection:
            diff = await connection.run_sync(differences)
    finally:
        await database.close()
    assert diff == []


async def test_sqlite_runs_with_wal_and_foreign_keys(tmp_path: Any) -> None:
    database = Database(f"sqlite+aiosqlite:///{tmp_path / 'x.db'}")
    try:
        async with database.engine.connect() as connection:
            mode = (await connection.exec_driver_sql("PRAGMA journal_mode")).scalar()
            keys = (await connection.exec_driver_sql("PRAGMA foreign_keys")).scalar()
            busy = (await connection.exec_driver_sql("PRAGMA busy_timeout")).scalar()
    finally:
        await database.close()
    assert (mode, keys) == ("wal", 1)
    assert busy is not None and busy >= 5000
