"""Keyset pages: ask for one row more than the page to learn whether more remain."""

from collections.abc import Sequence
from dataclasses import dataclass
from typing import Generic, TypeVar

T = TypeVar("T")


@dataclass(frozen=True)
class Page(Generic[T]):
    items: list[T]
    has_more: bool
    next_cursor: str | None


def cut(rows: Sequence[T], limit: int) -> tuple[list[T], bool]:
    """The first ``limit`` rows, and whether there were more."""
    return list(rows[:limit]), len(rows) > limit
