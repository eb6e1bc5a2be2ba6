"""the full-text index of messages: FTS5 on SQLite, a GIN expression index on PostgreSQL

Revision ID: 0016
Revises: 0015
"""

from collections.abc import Sequence

from alembic import op

revision: str = "0016"
down_revision: str | None = "0015"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

# What is indexed: what the user and the assistant said, once it has words.
SQLITE = [
    # The FTS row of a message has a key of its own: SQLite's VACUUM may renumber the
    # rowids of a table without an INTEGER PRIMARY KEY, such as messages.
    """CREATE TABLE message_search_keys (
        key INTEGER PRIMARY KEY,
        message_id VARCHAR(40) NOT NULL UNIQUE
    )""",
    "CREATE VIRTUAL TABLE messages_fts USING fts5("
    "content, tokenize = 'unicode61 remove_diacritics 2')",
    """CREATE TRIGGER messages_fts_insert AFTER INSERT ON messages
        WHEN new.role IN ('user', 'assistant') AND new.content != ''
        BEGIN
            INSERT INTO message_search_keys (message_id) VALUES (new.id);
            INSERT INTO messages_fts (rowid, content)
                SELECT key, new.content FROM message_search_keys WHERE message_id = new.id;
        END""",
    """CREATE TRIGGER messages_fts_delete AFTER DELETE ON messages
        BEGIN
            DELETE FROM messages_fts WHERE rowid =
                (SELECT key FROM message_search_keys WHERE message_id = old.id);
            DELETE FROM message_search_keys WHERE message_id = old.id;
        END""",
    """CREATE TRIGGER messages_fts_update AFTER UPDATE OF content, role ON messages
        BEGIN
            DELETE FROM messages_fts WHERE rowid =
                (SELECT key FROM message_search_keys WHERE message_id = old.id);
            DELETE FROM message_search_keys WHERE message_id = old.id;
            INSERT INTO message_search_keys (message_id)
                SELECT new.id WHERE new.role IN ('user', 'assistant') AND new.content != '';
            INSERT INTO messages_fts (rowid, content)
                SELECT key, new.content FROM message_search_keys WHERE message_id = new.id;
        END""",
    """INSERT INTO message_search_keys (message_id)
        SELECT id FROM messages WHERE role IN ('user', 'assistant') AND content != ''""",
    """INSERT INTO messages_fts (rowid, content)
        SELECT k.key, m.content
        FROM message_search_keys k JOIN messages m ON m.id = k.message_id""",
]

POSTGRESQL = [
    """CREATE INDEX ix_messages_fulltext ON messages
        USING GIN (to_tsvector('simple', content))
        WHERE role IN ('user', 'assistant') AND content != ''""",
]


def upgrade() -> None:
    for statement in SQLITE if op.get_bind().dialect.name == "sqlite" else POSTGRESQL:
        op.execute(statement)


def downgrade() -> None:
    if op.get_bind().dialect.name == "sqlite":
        for name in ("messages_fts_insert", "messages_fts_delete", "messages_fts_update"):
            op.execute(f"DROP TRIGGER IF EXISTS {name}")
        op.execute("DROP TABLE IF EXISTS messages_fts")
        op.execute("DROP TABLE IF EXISTS message_search_keys")
    else:
        op.execute("DROP INDEX IF EXISTS ix_messages_fulltext")
