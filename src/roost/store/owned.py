"""Rows a user owns, reached only through their owner.

A repository of owned rows is made for one owner, and every query it runs starts from
``owned()``, which already filters by that owner: a service cannot forget the check,
and another user's row answers exactly as a missing one (the table's ``…NotFound``).

A table's repository names its model, its id prefix and its not-found error::

    class SkillRepo(OwnedRepo[Skill]):
        model = Skill
        prefix = "skill"
        not_found = SkillNotFound

    skill = await SkillRepo(db, caller).get(skill_id, for_update=True)
"""

from typing import Any, ClassVar, Generic, Protocol, TypeVar, cast

from sqlalchemy import Select, delete, select
from sqlalchemy.ext.asyncio import AsyncSession
from sqlalchemy.orm import Mapped

from roost import ids
from roost.errors import NotFound
from roost.store.paging import cut


class OwnedRow(Protocol):
    """A mapped row with a string id that leads back to a user through ``owner_id``.

    mypy reads these columns as SQL expressions on the class, as intended, but not as
    strings on a row of a type variable; ``_columns`` reads them off a row.
    """

    id: Mapped[str]
    owner_id: Mapped[str]


class Owner(Protocol):
    """Whoever a repository acts for: a caller (anything with a ``user_id``)."""

    @property
    def user_id(self) -> str: ...


T = TypeVar("T", bound=OwnedRow)


def owner_id_of(owner: Owner | str) -> str:
    return owner if isinstance(owner, str) else owner.user_id


class OwnedRepo(Generic[T]):
    model: type[T]
    prefix: ClassVar[str]
    # The table's NotFound class, made with the id that was asked for.
    not_found: ClassVar[type[NotFound]]

    def __init__(self, db: AsyncSession, owner: Owner | str) -> None:
        self.db = db
        self.owner_id = owner_id_of(owner)

    def owned(self) -> Select[T]:
        """This owner's rows: the start of every query the repository runs."""
        return select(self.model).where(self.model.owner_id == self.owner_id)

    async def find(self, row_id: str, *, for_update: bool = False) -> T | None:
        """The owner's row with this id, or None (also for a malformed id)."""
        if not ids.is_valid(self.prefix, row_id):
            return None
        query = self.owned().where(self.model.id == row_id)
        if for_update:
            query = query.with_for_update()
        return (await self.db.execute(query)).scalar_one_or_none()

    async def get(self, row_id: str, *, for_update: bool = False) -> T:
        """The owner's row with this id; the table's NotFound when there is none."""
        row = await self.find(row_id, for_update=for_update)
        if row is None:
            raise self._missing(row_id)
        return row

    def add(self, row: T) -> T:
        """A new row, made the owner's whatever owner it was given."""
        _columns(row).owner_id = self.owner_id
        self.db.add(row)
        return row

    async def remove(self, row: T) -> None:
        """Delete a row this repository returned (its cascades run as the ORM's)."""
        if _columns(row).owner_id != self.owner_id:
            raise self._missing(_columns(row).id)
        await self.db.delete(row)

    async def delete(self, row_id: str) -> bool:
        """Delete the owner's row with this id in one statement; whether there was one."""
        if not ids.is_valid(self.prefix, row_id):
            return False
        model = self.model
        result = await self.db.execute(
            delete(model).where(model.id == row_id, model.owner_id == self.owner_id)
        )
        return bool(result.rowcount)  # type: ignore[attr-defined]

    async def all(self, *order: Any, limit: int) -> list[T]:
        """Up to ``limit`` of the owner's rows in ``order``."""
        query = self.owned().order_by(*order).limit(limit)
        return list((await self.db.execute(query)).scalars().all())

    async def page_by_id(
        self, *, limit: int, after: str | None = None, before: str | None = None
    ) -> tuple[list[T], bool]:
        """In the order the rows were made (ids are time-ordered), following ``after``
        or preceding ``before``, and whether more lie beyond them that way."""
        model = self.model
        query = self.owned()
        if before is not None:
            query = query.where(model.id < before).order_by(model.id.desc())
            rows = (await self.db.execute(query.limit(limit + 1))).scalars().all()
            nearest, more = cut(rows, limit)
            return nearest[::-1], more
        if after is not None:
            query = query.where(model.id > after)
        query = query.order_by(model.id).limit(limit + 1)
        return cut((await self.db.execute(query)).scalars().all(), limit)

    def _missing(self, row_id: str) -> NotFound:
        return self.not_found(row_id)


def _columns(row: OwnedRow) -> Any:
    return cast(Any, row)
