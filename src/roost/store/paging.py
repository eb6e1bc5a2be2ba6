"""Keyset pages: ask for one row more than the page to learn whether more remain."""

from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any, Generic, TypeVar

from sqlalchemy import ColumnElement, select
from sqlalchemy.ext.asyncio import AsyncSession

T = TypeVar("T")


@dataclass(frozen=True)
class Page(Generic[T]):
    items: list[T]
    has_more: bool
    next_cursor: str | None


def cut(rows: Sequence[T], limit: int) -> tuple[list[T], bool]:
    """The first ``limit`` rows, and whether there were more."""
    return list(rows[:limit]), len(rows) > limit


async def row_in_list(
    db: AsyncSession, model: type[T], row_id: str, *scope: ColumnElement[bool]
) -> T | None:
    """The row with this id among those ``scope`` selects (its owner, its session): the
    row a cursor names, checked to be in the list it pages."""
    key: Any = model.id  # type: ignore[attr-defined]
    query = select(model).where(key == row_id, *scope)
    return (await db.execute(query)).scalar_one_or_none()
