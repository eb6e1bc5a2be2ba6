"""Checks shared by every list that pages by an id cursor."""

from roost import ids
from roost.errors import InvalidRequest


def check_cursor_shape(prefix: str, name: str, value: str) -> None:
    if not ids.is_valid(prefix, value):
        raise unknown_cursor(name, value)


def unknown_cursor(name: str, value: str) -> InvalidRequest:
    return InvalidRequest(
        f"Cursor {name}={value} names nothing in this list",
        details={"field": name, "cursor": value},
    )


def one_direction(before: str | None, after: str | None) -> None:
    if before is not None and after is not None:
        raise InvalidRequest(
            "Give either before or after, not both", details={"fields": ["before", "after"]}
        )
