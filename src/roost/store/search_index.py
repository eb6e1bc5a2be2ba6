"""The search indexes, which live beside the models rather than in them: the full-text
indexes of messages and memories (on SQLite FTS5 tables kept by triggers, migrations
0016 and 0018; on PostgreSQL GIN indexes on ``to_tsvector('simple', content)``) and
the vector tables,
whose column is pgvector's type or bytes by what the database has (migration 0017).
Schema comparisons leave these names out."""

from typing import Any

OUTSIDE_MODELS = frozenset(
    {
        "message_search_keys",
        "ix_messages_fulltext",
        "memory_search_keys",
        "ix_memories_fulltext",
        "search_vector",  # memories' words on PostgreSQL, a generated column
        "memory_vectors",
        "message_vectors",
    }
)
FTS_TABLES = ("messages_fts", "memories_fts")  # and their shadow tables, …_data, _idx, …


def in_models(name: str | None, _type: str, _parents: Any) -> bool:
    """For Alembic's ``include_name``: whether the models describe this name."""
    return not (name in OUTSIDE_MODELS or (name or "").startswith(FTS_TABLES))


def fts5_query(words: list[str], *, every: bool) -> str:
    """The words as an FTS5 query: each quoted, so that no character is read as syntax;
    all of them, or any."""
    return (" " if every else " OR ").join('"' + word.replace('"', '""') + '"' for word in words)


def tsquery(words: list[str], *, every: bool) -> str:
    """The words as a ``to_tsquery`` operand, likewise quoted: all of them, or any."""
    quoted = ("'" + word.replace("'", "''").replace("\\", "\\\\") + "'" for word in words)
    return (" & " if every else " | ").join(quoted)
