"""Search over a user's messages. By words, on the index of migration 0016: FTS5's
``MATCH``, ``bm25`` and ``snippet`` on SQLite; ``to_tsvector`` and ``ts_rank_cd`` on
PostgreSQL; both read the query as words that must all appear. By meaning, on the
message vectors of migration 0017 (store/vectors.py)."""

import re
from collections.abc import Sequence
from dataclasses import dataclass, field, replace
from datetime import datetime
from typing import Any

from sqlalchemy import ColumnElement, Float, String, bindparam, column, select, text
from sqlalchemy.ext.asyncio import AsyncSession

from roost.store.columns import UtcDateTime
from roost.store.models import Message, Session
from roost.store.search_index import fts5_query, tsquery
from roost.store.vectors import SEARCHED_ROLES, VectorIndex, message_vectors

# Marks around a match in a snippet: control characters no message text carries, so
# that the snippet can be escaped for HTML and the marks turned into <mark> after.
OPEN, CLOSE = "\x02", "\x03"
SNIPPET_WORDS = 16
SNIPPET_SOURCE = 20_000  # characters of a message a snippet is looked for in
SNIPPET_CHARS = 160


@dataclass(frozen=True)
class MessageFilter:
    session_id: str | None = None
    project_id: str | None = None
    role: str | None = None
    since: datetime | None = None
    until: datetime | None = None


@dataclass(frozen=True)
class Found:
    message_id: str
    session_id: str
    session_title: str | None
    turn_id: str | None
    role: str
    created_at: datetime
    snippet: str  # with OPEN and CLOSE around the matches
    score: float
    parts: dict[str, float] = field(default_factory=dict)  # keyword, semantic, fused


async def search(
    db: AsyncSession,
    owner_id: str,
    words: list[str],
    where: MessageFilter,
    *,
    limit: int,
    offset: int,
) -> list[Found]:
    """Up to ``limit`` of the owner's messages that hold every word, best first."""
    if not words:
        return []
    sqlite = db.get_bind().dialect.name == "sqlite"
    params: dict[str, Any] = {"owner": owner_id, "limit": limit, "offset": offset}
    conditions = ["s.owner_id = :owner"]
    if where.session_id is not None:
        conditions.append("m.session_id = :session_id")
        params["session_id"] = where.session_id
    else:  # a run's session is searched when named, not among the user's chats
        conditions.append("s.kind = 'chat'")
    if where.project_id is not None:
        conditions.append("s.project_id = :project_id")
        params["project_id"] = where.project_id
    if where.role is not None:
        conditions.append("m.role = :role")
        params["role"] = where.role
    if where.since is not None:
        conditions.append("m.created_at >= :since")
        params["since"] = where.since
    if where.until is not None:
        conditions.append("m.created_at < :until")
        params["until"] = where.until
    filters = " AND ".join(conditions)
    if sqlite:
        params["match"] = fts5_query(words, every=True)
        query = f"""
            SELECT m.id, m.session_id, s.title, m.turn_id, m.role, m.created_at,
                   snippet(messages_fts, 0, '{OPEN}', '{CLOSE}', '…', {SNIPPET_WORDS}),
                   -bm25(messages_fts)
            FROM messages_fts
            JOIN message_search_keys k ON k.key = messages_fts.rowid
            JOIN messages m ON m.id = k.message_id
            JOIN sessions s ON s.id = m.session_id
            WHERE messages_fts MATCH :match AND {filters}
            ORDER BY bm25(messages_fts), m.id DESC
            LIMIT :limit OFFSET :offset"""  # noqa: S608 (the filters are fixed text)
    else:
        # The snippet is cut here rather than by ts_headline, whose parser drops what
        # reads as an HTML tag from the text.
        params["terms"] = tsquery(words, every=True)
        query = f"""
            SELECT m.id, m.session_id, s.title, m.turn_id, m.role, m.created_at,
                   substr(m.content, 1, {SNIPPET_SOURCE}),
                   ts_rank_cd(to_tsvector('simple', m.content), q)
            FROM messages m
            JOIN sessions s ON s.id = m.session_id,
                 to_tsquery('simple', :terms) AS q
            WHERE m.role IN ('user', 'assistant') AND m.content != ''
              AND to_tsvector('simple', m.content) @@ q AND {filters}
            ORDER BY 8 DESC, m.id DESC
            LIMIT :limit OFFSET :offset"""  # noqa: S608 (the filters are fixed text)
    typed = [bindparam(name, type_=UtcDateTime()) for name in ("since", "until") if name in params]
    statement = (
        text(query)
        .bindparams(*typed)
        .columns(
            column("id", String),
            column("session_id", String),
            column("title", String),
            column("turn_id", String),
            column("role", String),
            column("created_at", UtcDateTime()),
            column("snippet", String),
            column("score", Float),
        )
    )
    rows = (await db.execute(statement, params)).all()
    return [
        _found(
            row,
            (row[6] or "") if sqlite else snippet(row[6] or "", words),
            "keyword",
            float(row[7]),
        )
        for row in rows
    ]


async def similar(
    db: AsyncSession,
    index: VectorIndex,
    owner_id: str,
    model: str,
    vector: Sequence[float],
    words: list[str],
    where: MessageFilter,
    *,
    limit: int,
) -> list[Found]:
    """Up to ``limit`` of the owner's messages nearest in meaning, best first."""
    query = (
        select(
            Message.id,
            Message.session_id,
            Session.title,
            Message.turn_id,
            Message.role,
            Message.created_at,
            Message.content,
        )
        .join(Session, Session.id == Message.session_id)
        .join(message_vectors, message_vectors.c.message_id == Message.id)
        .where(message_vectors.c.owner_id == owner_id, message_vectors.c.model == model)
        .where(Session.owner_id == owner_id, Message.role.in_(SEARCHED_ROLES), *_conditions(where))
    )
    found = await index.nearest(
        db, query, message_vectors, vector, limit=limit, newest_first=Message.id.desc()
    )
    return [
        _found(row, snippet(row[6][:SNIPPET_SOURCE], words), "semantic", similarity)
        for row, similarity in found
    ]


def _found(row: Any, shown: str, ranking: str, score: float) -> Found:
    """A hit from a row of (id, session id, title, turn id, role, created at, …)."""
    return Found(
        message_id=row[0],
        session_id=row[1],
        session_title=row[2],
        turn_id=row[3],
        role=row[4],
        created_at=row[5],
        snippet=shown,
        score=round(score, 4),
        parts={ranking: round(score, 4)},
    )


def fused(by_words: list[Found], by_meaning: list[Found], *, k: int = 60) -> list[Found]:
    """Both rankings in one (reciprocal rank fusion): each list gives a message
    1 / (k + its rank); the sum is the score, and the parts are each list's."""
    scores: dict[str, float] = {}
    hits: dict[str, Found] = {}
    parts: dict[str, dict[str, float]] = {}
    for ranking in (by_words, by_meaning):
        for rank_number, hit in enumerate(ranking, 1):
            scores[hit.message_id] = scores.get(hit.message_id, 0.0) + 1 / (k + rank_number)
            hits.setdefault(hit.message_id, hit)  # the keyword hit's snippet first
            parts.setdefault(hit.message_id, {"keyword": 0.0, "semantic": 0.0}).update(hit.parts)
    ordered = sorted(scores, key=lambda key: (-scores[key], _descending(key)))
    return [
        replace(
            hits[key],
            score=round(scores[key], 6),
            parts=parts[key] | {"fused": round(scores[key], 6)},
        )
        for key in ordered
    ]


def _descending(message_id: str) -> list[int]:
    return [-ord(char) for char in message_id]  # the newer first among equals


def _conditions(where: MessageFilter) -> list[ColumnElement[bool]]:
    """The filter as SQLAlchemy conditions on Message and Session."""
    conditions: list[ColumnElement[bool]] = []
    if where.session_id is not None:
        conditions.append(Message.session_id == where.session_id)
    else:  # a run's session is searched when named, not among the user's chats
        conditions.append(Session.kind == "chat")
    if where.project_id is not None:
        conditions.append(Session.project_id == where.project_id)
    if where.role is not None:
        conditions.append(Message.role == where.role)
    if where.since is not None:
        conditions.append(Message.created_at >= where.since)
    if where.until is not None:
        conditions.append(Message.created_at < where.until)
    return conditions


def snippet(content: str, words: list[str]) -> str:
    """About SNIPPET_CHARS of the content around its first match, every word marked."""
    pattern = re.compile(r"\b(" + "|".join(re.escape(w) for w in words) + r")\b", re.I)
    first = pattern.search(content)
    start = max(0, (first.start() if first else 0) - SNIPPET_CHARS // 3)
    if start:
        space = content.find(" ", start)
        start = space + 1 if 0 <= space < start + 20 else start
    end = min(len(content), start + SNIPPET_CHARS)
    if end < len(content):
        space = content.rfind(" ", start, end)
        end = space if space > start + SNIPPET_CHARS // 2 else end
    cut = pattern.sub(lambda m: OPEN + m.group(0) + CLOSE, content[start:end])
    return ("…" if start else "") + cut + ("…" if end < len(content) else "")
