"""Alembic environment: runs on the connection Roost hands over, or on the URL given."""

from alembic import context
from sqlalchemy import Connection, create_engine, pool, text

from roost.store.models import Base
from roost.store.search_index import in_models

# A fixed key: replicas starting together take turns to migrate.
MIGRATION_LOCK_KEY = 7_401_163_001


def run(connection: Connection) -> None:
    context.configure(
        connection=connection,
        target_metadata=Base.metadata,
        render_as_batch=connection.dialect.name == "sqlite",
        compare_type=True,
        include_name=in_models,
    )
    with context.begin_transaction():
        if connection.dialect.name == "postgresql":
            connection.execute(text(f"SELECT pg_advisory_xact_lock({MIGRATION_LOCK_KEY})"))
        context.run_migrations()


connection = context.config.attributes.get("connection")
if connection is not None:
    run(connection)
else:
    url = context.config.get_main_option("sqlalchemy.url")
    if url is None:
        raise RuntimeError("no connection handed over and no sqlalchemy.url to migrate")
    engine = create_engine(url, poolclass=pool.NullPool)
    with engine.connect() as sync_connection:
        run(sync_connection)
