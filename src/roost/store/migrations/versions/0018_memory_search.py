"""the word index of memories: FTS5 on SQLite, a GIN expression index on PostgreSQL

Revision ID: 0018
Revises: 0017
"""

from collections.abc import Sequence

from alembic import op

revision: str = "0018"
down_revision: str | None = "0017"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

# As messages' (0016): the FTS row has a key of its own, which VACUUM keeps.
SQLITE = [
    """CREATE TABLE memory_search_keys (
        key INTEGER PRIMARY KEY,
        memory_id VARCHAR(40) NOT NULL UNIQUE
    )""",
    "CREATE VIRTUAL TABLE memories_fts USING fts5("
    "content, tokenize = 'unicode61 remove_diacritics 2')",
    """CREATE TRIGGER memories_fts_insert AFTER INSERT ON memories
        BEGIN
            INSERT INTO memory_search_keys (memory_id) VALUES (new.id);
            INSERT INTO memories_fts (rowid, content)
                SELECT key, new.content FROM memory_search_keys WHERE memory_id = new.id;
        END""",
    """CREATE TRIGGER memories_fts_delete AFTER DELETE ON memories
        BEGIN
            DELETE FROM memories_fts WHERE rowid =
                (SELECT key FROM memory_search_keys WHERE memory_id = old.id);
            DELETE FROM memory_search_keys WHERE memory_id = old.id;
        END""",
    """CREATE TRIGGER memories_fts_update AFTER UPDATE OF content ON memories
        BEGIN
            UPDATE memories_fts SET content = new.content WHERE rowid =
                (SELECT key FROM memory_search_keys WHERE memory_id = new.id);
        END""",
    "INSERT INTO memory_search_keys (memory_id) SELECT id FROM memories",
    """INSERT INTO memories_fts (rowid, content)
        SELECT k.key, m.content FROM memory_search_keys k JOIN memories m ON m.id = k.memory_id""",
]

# Kept in a column rather than computed per row: a turn's recall scans a user's
# memories by owner when the planner prefers that to the index, and ranks every match.
POSTGRESQL = [
    """ALTER TABLE memories ADD COLUMN search_vector tsvector
        GENERATED ALWAYS AS (to_tsvector('simple', content)) STORED""",
    "CREATE INDEX ix_memories_fulltext ON memories USING GIN (search_vector)",
]


def upgrade() -> None:
    for statement in SQLITE if op.get_bind().dialect.name == "sqlite" else POSTGRESQL:
        op.execute(statement)


def downgrade() -> None:
    if op.get_bind().dialect.name == "sqlite":
        for name in ("memories_fts_insert", "memories_fts_delete", "memories_fts_update"):
            op.execute(f"DROP TRIGGER IF EXISTS {name}")
        op.execute("DROP TABLE IF EXISTS memories_fts")
        op.execute("DROP TABLE IF EXISTS memory_search_keys")
    else:
        op.execute("DROP INDEX IF EXISTS ix_memories_fulltext")
        op.execute("ALTER TABLE memories DROP COLUMN search_vector")
