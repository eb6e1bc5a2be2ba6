"""Checks shared by every list that pages by an id cursor."""

from collections.abc import Awaitable, Callable
from typing import TypeVar

from roost.errors import InvalidRequest

Row = TypeVar("Row")


async def anchor(find: Callable[[str], Awaitable[Row | None]], name: str, value: str) -> Row:
    """The row a cursor names, looked up with its list's repository (``find`` returns None
    for a malformed id, and for a row outside the list: another user's, another
    session's), which is the same 400 as an unknown id, so a cursor cannot tell whether
    someone else's id exists."""
    found = await find(value)
    if found is None:
        raise InvalidRequest(
            f"Cursor {name}={value} names nothing in this list",
            details={"field": name, "cursor": value},
        )
    return found


def one_direction(before: str | None, after: str | None) -> None:
    if before is not None and after is not None:
        raise InvalidRequest(
            "Give either before or after, not both", details={"fields": ["before", "after"]}
        )
