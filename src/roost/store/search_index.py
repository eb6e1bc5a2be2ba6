"""The search indexes, which live beside the models rather than in them: the full-text
index of messages (on SQLite an FTS5 table kept by triggers, migration 0016; on
PostgreSQL a GIN index on ``to_tsvector('simple', content)``) and the vector tables,
whose column is pgvector's type or bytes by what the database has (migration 0017).
Schema comparisons leave these names out."""

from typing import Any

OUTSIDE_MODELS = frozenset(
    {"message_search_keys", "ix_messages_fulltext", "memory_vectors", "message_vectors"}
)
FTS_TABLE = "messages_fts"  # and its shadow tables, messages_fts_data, _idx, …


def in_models(name: str | None, _type: str, _parents: Any) -> bool:
    """For Alembic's ``include_name``: whether the models describe this name."""
    return not (name in OUTSIDE_MODELS or (name or "").startswith(FTS_TABLE))
