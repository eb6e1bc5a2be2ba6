"""Checks shared by every list that pages by an id cursor."""

from typing import TypeVar

from sqlalchemy import ColumnElement
from sqlalchemy.ext.asyncio import AsyncSession

from roost import ids
from roost.errors import InvalidRequest
from roost.store.paging import row_in_list

Row = TypeVar("Row")


def check_cursor_shape(prefix: str, name: str, value: str) -> None:
    if not ids.is_valid(prefix, value):
        raise unknown_cursor(name, value)


def unknown_cursor(name: str, value: str) -> InvalidRequest:
    return InvalidRequest(
        f"Cursor {name}={value} names nothing in this list",
        details={"field": name, "cursor": value},
    )


async def anchor(
    db: AsyncSession,
    model: type[Row],
    prefix: str,
    name: str,
    value: str,
    *scope: ColumnElement[bool],
) -> Row:
    """The row a cursor names in its list. ``scope`` is what makes the list: its session,
    its owner. A row outside it (another user's, another session's) is the same 400 as an
    unknown id, so a cursor cannot tell whether someone else's id exists."""
    check_cursor_shape(prefix, name, value)
    found = await row_in_list(db, model, value, *scope)
    if found is None:
        raise unknown_cursor(name, value)
    return found


def one_direction(before: str | None, after: str | None) -> None:
    if before is not None and after is not None:
        raise InvalidRequest(
            "Give either before or after, not both", details={"fields": ["before", "after"]}
        )
