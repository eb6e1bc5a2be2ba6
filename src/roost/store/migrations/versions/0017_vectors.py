"""vectors of memories and messages in tables of their own, of pgvector's type where
the extension can be created

Revision ID: 0017
Revises: 0016
"""

import logging
import struct
from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0017"
down_revision: str | None = "0016"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

log = logging.getLogger("alembic.runtime.migration")

TABLES = (
    ("memory_vectors", "memory_id", "memories"),
    ("message_vectors", "message_id", "messages"),
)

# A vector no longer says what changed text means: it goes with the change, and the
# text is embedded again (services/vector_indexing.py).
SQLITE_TRIGGERS = [
    f"""CREATE TRIGGER {table}_stale AFTER UPDATE OF content ON {parent}
        WHEN old.content != new.content
        BEGIN DELETE FROM {table} WHERE {key} = old.id; END"""  # noqa: S608
    for table, key, parent in TABLES
]
POSTGRESQL_TRIGGERS = [
    statement
    for table, key, parent in TABLES
    for statement in (
        f"""CREATE FUNCTION {table}_stale() RETURNS trigger LANGUAGE plpgsql AS $$
            BEGIN DELETE FROM {table} WHERE {key} = OLD.id; RETURN NULL; END $$""",  # noqa: S608
        f"""CREATE TRIGGER {table}_stale AFTER UPDATE OF content ON {parent}
            FOR EACH ROW WHEN (OLD.content IS DISTINCT FROM NEW.content)
            EXECUTE FUNCTION {table}_stale()""",
    )
]


def upgrade() -> None:
    bind = op.get_bind()
    kind = "BLOB" if bind.dialect.name == "sqlite" else "bytea"
    if bind.dialect.name == "postgresql" and _created_pgvector(bind):
        kind = "vector"
    for table, key, parent in TABLES:
        op.execute(
            f"""CREATE TABLE {table} (
                {key} VARCHAR(40) NOT NULL PRIMARY KEY REFERENCES {parent} (id) ON DELETE CASCADE,
                owner_id VARCHAR(40) NOT NULL,
                model VARCHAR(200) NOT NULL,
                embedding {kind} NOT NULL
            )"""
        )
        op.execute(f"CREATE INDEX ix_{table}_owner_model ON {table} (owner_id, model)")
    for statement in SQLITE_TRIGGERS if bind.dialect.name == "sqlite" else POSTGRESQL_TRIGGERS:
        op.execute(statement)
    kept = bind.execute(
        sa.text(
            "SELECT id, owner_id, embedding_model, embedding FROM memories"
            " WHERE embedding IS NOT NULL AND embedding_model IS NOT NULL"
        )
    ).all()
    value = "CAST(:embedding AS vector)" if kind == "vector" else ":embedding"
    insert = sa.text(
        "INSERT INTO memory_vectors (memory_id, owner_id, model, embedding)"  # noqa: S608
        f" VALUES (:id, :owner, :model, {value})"
    )
    for memory_id, owner_id, model, embedding in kept:
        bind.execute(
            insert,
            {
                "id": memory_id,
                "owner": owner_id,
                "model": model,
                "embedding": _as_text(embedding) if kind == "vector" else embedding,
            },
        )
    op.drop_column("memories", "embedding")
    op.drop_column("memories", "embedding_model")


def downgrade() -> None:
    # The vectors are dropped with their tables: a server of the older schema embeds again.
    sqlite = op.get_bind().dialect.name == "sqlite"
    op.add_column("memories", sa.Column("embedding", sa.LargeBinary(), nullable=True))
    op.add_column("memories", sa.Column("embedding_model", sa.String(length=200), nullable=True))
    for table, _key, parent in TABLES:
        op.execute(f"DROP TRIGGER {table}_stale" + ("" if sqlite else f" ON {parent}"))
        op.execute(f"DROP TABLE {table}")
        if not sqlite:
            op.execute(f"DROP FUNCTION {table}_stale()")


def _created_pgvector(bind: sa.Connection) -> bool:
    """Whether the ``vector`` extension is (now) in this database: created here when the
    server has it and the role may create it; else vectors are kept as bytes."""
    available = sa.text("SELECT 1 FROM pg_available_extensions WHERE name = 'vector'")
    if bind.execute(available).first() is None:
        log.warning("pgvector is not installed: vectors are compared in Python")
        return False
    try:
        with bind.begin_nested():
            bind.execute(sa.text("CREATE EXTENSION IF NOT EXISTS vector"))
    except sa.exc.DBAPIError as refused:
        log.warning("pgvector could not be created: %s", refused.orig)
        return False
    return True


def _as_text(embedding: bytes) -> str:
    return "[" + ",".join(map(repr, struct.unpack(f"<{len(embedding) // 4}f", embedding))) + "]"
