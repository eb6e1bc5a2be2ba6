"""How values are stored: column types the tables share, the same on SQLite and PostgreSQL.

Migrations name them as ``roost.store.models.…``, which imports them from here.
"""

from datetime import UTC, datetime

from sqlalchemy import JSON, DateTime, String, TypeDecorator
from sqlalchemy.dialects.postgresql import JSONB
from sqlalchemy.engine import Dialect

from roost.domain.turn_status import TurnStatus


class UtcDateTime(TypeDecorator[datetime]):
    """A timestamp stored with its zone where the database can, read back aware in UTC."""

    impl = DateTime(timezone=True)
    cache_ok = True

    def process_bind_param(self, value: datetime | None, dialect: Dialect) -> datetime | None:
        if value is not None and value.tzinfo is None:
            raise ValueError("naive datetime given to a UTC column")
        return value.astimezone(UTC) if value is not None else None

    def process_result_value(self, value: datetime | None, dialect: Dialect) -> datetime | None:
        if value is None:
            return None
        return value.replace(tzinfo=UTC) if value.tzinfo is None else value.astimezone(UTC)


class TurnStatusColumn(TypeDecorator[TurnStatus]):
    """A turn's status, stored as its plain string and read back as a :class:`TurnStatus`."""

    impl = String(20)
    cache_ok = True

    def process_bind_param(self, value: str | None, dialect: Dialect) -> str | None:
        return None if value is None else TurnStatus(value).value

    def process_result_value(self, value: str | None, dialect: Dialect) -> TurnStatus | None:
        return None if value is None else TurnStatus(value)


Json = JSON().with_variant(JSONB(), "postgresql")
