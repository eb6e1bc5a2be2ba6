"""Vectors of memories and messages (migration 0017), and the nearest to a query's.

Compared in the database where it can: by sqlite-vec's ``vec_distance_cosine`` on
SQLite, by pgvector's ``<=>`` on PostgreSQL. Where the extension is missing, the newest
``MAX_IN_PYTHON`` candidates are read back and compared in Python. Either way the
comparison is exact (no approximate index), within the owner's vectors of one model.
Vectors are kept as little-endian float32 bytes, or as pgvector's ``vector``.
"""

import math
import struct
from collections.abc import Sequence
from typing import Any

from sqlalchemy import (
    Column,
    ColumnElement,
    Float,
    LargeBinary,
    MetaData,
    Row,
    Select,
    String,
    Table,
    and_,
    bindparam,
    cast,
    func,
    select,
    text,
)
from sqlalchemy.dialects.postgresql import insert as pg_insert
from sqlalchemy.dialects.sqlite import insert as sqlite_insert
from sqlalchemy.exc import DBAPIError
from sqlalchemy.ext.asyncio import AsyncSession
from sqlalchemy.types import UserDefinedType

from roost.store.models import Memory, Message, Session

MAX_IN_PYTHON = 2_000  # candidates compared when the database cannot compare them
SQLITE_VEC, PGVECTOR, PYTHON = "sqlite-vec", "pgvector", "python"
SEARCHED_ROLES = ("user", "assistant")  # what message search finds, by words or meaning

# Outside the models (their column's type depends on the database): see search_index.
_metadata = MetaData()


def _vector_table(name: str, key: str) -> Table:
    return Table(
        name,
        _metadata,
        Column(key, String(40), primary_key=True),
        Column("owner_id", String(40), nullable=False),
        Column("model", String(200), nullable=False),
        Column("embedding", LargeBinary, nullable=False),
    )


memory_vectors = _vector_table("memory_vectors", "memory_id")
message_vectors = _vector_table("message_vectors", "message_id")


class PgVector(UserDefinedType[str]):
    """pgvector's type, bound as its text form (``[1.0,2.0]``)."""

    cache_ok = True

    def get_col_spec(self, **_kw: Any) -> str:
        return "vector"


async def backend_of(db: AsyncSession) -> str:
    """How this database compares vectors: ``sqlite-vec``, ``pgvector`` or ``python``."""
    if db.get_bind().dialect.name == "sqlite":
        try:
            await db.execute(text("SELECT vec_version()"))
        except DBAPIError:
            return PYTHON
        return SQLITE_VEC
    column_type = await db.scalar(
        text(
            "SELECT format_type(atttypid, atttypmod) FROM pg_attribute"
            " WHERE attrelid = 'message_vectors'::regclass AND attname = 'embedding'"
        )
    )
    return PGVECTOR if column_type == "vector" else PYTHON


class VectorIndex:
    """Writes and nearest-neighbour reads over the vector tables, by ``backend``."""

    def __init__(self, backend: str) -> None:
        self.backend = backend

    async def put(
        self, db: AsyncSession, table: Table, rows: Sequence[tuple[str, str, str, Sequence[float]]]
    ) -> None:
        """Keep (key, owner, model, vector) rows, replacing a key's earlier vector."""
        if not rows:
            return
        key = table.primary_key.columns.values()[0].name
        values = [
            {key: item, "owner_id": owner, "model": model, "vector": self._stored(vector)}
            for item, owner, model, vector in rows
        ]
        stored: Any = bindparam("vector")
        if self.backend == PGVECTOR:
            stored = cast(bindparam("vector", type_=String), PgVector())
        sqlite = db.get_bind().dialect.name == "sqlite"
        insert = (sqlite_insert(table) if sqlite else pg_insert(table)).values(
            {key: bindparam(key), "owner_id": bindparam("owner_id"), "model": bindparam("model")}
            | {"embedding": stored}
        )
        upsert = insert.on_conflict_do_update(
            index_elements=[key],
            set_={
                "owner_id": insert.excluded.owner_id,
                "model": insert.excluded.model,
                "embedding": insert.excluded.embedding,
            },
        )
        await db.execute(upsert, values)

    async def nearest(
        self,
        db: AsyncSession,
        query: Select[*tuple[Any, ...]],
        table: Table,
        vector: Sequence[float],
        *,
        limit: int,
        newest_first: ColumnElement[Any],
    ) -> list[tuple[Row[*tuple[Any, ...]], float]]:
        """The ``limit`` rows of ``query`` (which joins ``table`` and filters it) whose
        vectors are nearest to ``vector``, each with its cosine similarity, best first.
        ``newest_first`` orders the candidates compared in Python."""
        if self.backend == PYTHON:
            rows = (
                await db.execute(
                    query.add_columns(table.c.embedding).order_by(newest_first).limit(MAX_IN_PYTHON)
                )
            ).all()
            scored = [(row, cosine(vector, unpacked(row[-1]))) for row in rows]
            scored.sort(key=lambda pair: -pair[1])
            return scored[:limit]
        similarity = self._similarity(table, vector).label("similarity")
        rows = (
            await db.execute(query.add_columns(similarity).order_by(similarity.desc()).limit(limit))
        ).all()
        return [(row, float(row[-1])) for row in rows]

    def _similarity(self, table: Table, vector: Sequence[float]) -> ColumnElement[float]:
        distance: ColumnElement[float]
        if self.backend == SQLITE_VEC:
            distance = func.vec_distance_cosine(table.c.embedding, bindparam(None, packed(vector)))
        else:
            asked = cast(bindparam(None, as_text(vector), type_=String), PgVector())
            distance = table.c.embedding.op("<=>", return_type=Float)(asked)
        return 1 - distance

    def _stored(self, vector: Sequence[float]) -> bytes | str:
        return as_text(vector) if self.backend == PGVECTOR else packed(vector)


def packed(vector: Sequence[float]) -> bytes:
    return struct.pack(f"<{len(vector)}f", *vector)


def unpacked(data: bytes) -> list[float]:
    return list(struct.unpack(f"<{len(data) // 4}f", data))


def as_text(vector: Sequence[float]) -> str:
    return "[" + ",".join(map(repr, map(float, vector))) + "]"


def cosine(a: Sequence[float], b: Sequence[float]) -> float:
    """Their cosine similarity, -1 to 1; 0 when either is empty or zero, or sizes differ."""
    if len(a) != len(b) or not a:
        return 0.0
    dot = math.fsum(x * y for x, y in zip(a, b, strict=True))
    norms = math.sqrt(math.fsum(x * x for x in a)) * math.sqrt(math.fsum(y * y for y in b))
    return dot / norms if norms else 0.0


async def memories_without(
    db: AsyncSession, model: str, *, after: str, limit: int
) -> list[tuple[str, str, str]]:
    """(id, owner, content) of memories with no vector from ``model``, in id order
    from ``after``: any owner's, for the background embedder."""
    vector = memory_vectors.c
    query = (
        select(Memory.id, Memory.owner_id, Memory.content)
        .outerjoin(memory_vectors, and_(vector.memory_id == Memory.id, vector.model == model))
        .where(vector.memory_id.is_(None), Memory.id > after)
        .order_by(Memory.id)
        .limit(limit)
    )
    return [(row[0], row[1], row[2]) for row in (await db.execute(query)).all()]


async def messages_without(
    db: AsyncSession,
    model: str,
    *,
    after: str = "",
    limit: int,
    session_ids: Sequence[str] | None = None,
) -> list[tuple[str, str, str]]:
    """(id, owner, content) of what users and assistants said (the messages search
    finds) with no vector from ``model``, in id order from ``after``: of any session's,
    or of these sessions."""
    vector = message_vectors.c
    query = (
        select(Message.id, Session.owner_id, Message.content)
        .join(Session, Session.id == Message.session_id)
        .outerjoin(message_vectors, and_(vector.message_id == Message.id, vector.model == model))
        .where(vector.message_id.is_(None), Message.role.in_(SEARCHED_ROLES), Message.content != "")
    )
    if session_ids is not None:
        query = query.where(Message.session_id.in_(session_ids))
    query = query.where(Message.id > after).order_by(Message.id).limit(limit)
    return [(row[0], row[1], row[2]) for row in (await db.execute(query)).all()]
