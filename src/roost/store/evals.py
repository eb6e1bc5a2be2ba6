"""Test sets and their cases, evaluation runs and their results, always reached through
the user who owns the test set."""

from collections.abc import Sequence

from sqlalchemy import delete, func, select
from sqlalchemy.ext.asyncio import AsyncSession

from roost import ids
from roost.errors import CaseNotFound, EvalRunNotFound, TestSetNotFound
from roost.store.models import EvalResult, EvalRun, TestCase, TestSet
from roost.store.owned import OwnedRepo
from roost.store.paging import cut


class TestSetRepo(OwnedRepo[TestSet]):
    __test__ = False  # not a pytest class, whatever its name
    model = TestSet
    prefix = "tset"
    not_found = TestSetNotFound

    async def named(self, name: str) -> TestSet | None:
        query = self.owned().where(TestSet.name == name)
        return (await self.db.execute(query)).scalar_one_or_none()

    async def listed(self, *, limit: int, after: str | None) -> tuple[list[TestSet], bool]:
        """By name, then id."""
        query = self.owned()
        if after is not None:
            anchor = await self.find(after)
            if anchor is not None:
                query = query.where(
                    (TestSet.name > anchor.name)
                    | ((TestSet.name == anchor.name) & (TestSet.id > anchor.id))
                )
        query = query.order_by(TestSet.name, TestSet.id).limit(limit + 1)
        return cut((await self.db.execute(query)).scalars().all(), limit)


class CaseRepo:
    """The cases of one test set the caller has already reached through its owner."""

    def __init__(self, db: AsyncSession, testset_id: str) -> None:
        self.db = db
        self.testset_id = testset_id

    async def all(self) -> list[TestCase]:
        query = (
            select(TestCase)
            .where(TestCase.testset_id == self.testset_id)
            .order_by(TestCase.position)
        )
        return list((await self.db.execute(query)).scalars().all())

    async def page(self, *, limit: int, after: int | None) -> tuple[list[TestCase], bool]:
        """In the set's order; ``after`` is a position."""
        query = select(TestCase).where(TestCase.testset_id == self.testset_id)
        if after is not None:
            query = query.where(TestCase.position > after)
        query = query.order_by(TestCase.position).limit(limit + 1)
        return cut((await self.db.execute(query)).scalars().all(), limit)

    async def get(self, case_id: str) -> TestCase:
        found = await self.db.get(TestCase, (self.testset_id, case_id))
        if found is None:
            raise CaseNotFound(self.testset_id, case_id)
        return found

    async def ids(self) -> set[str]:
        query = select(TestCase.id).where(TestCase.testset_id == self.testset_id)
        return set((await self.db.execute(query)).scalars())

    async def next_position(self) -> int:
        query = select(func.max(TestCase.position)).where(TestCase.testset_id == self.testset_id)
        return int((await self.db.scalar(query)) or 0) + 1

    async def clear(self) -> None:
        await self.db.execute(delete(TestCase).where(TestCase.testset_id == self.testset_id))


class EvalRunRepo(OwnedRepo[EvalRun]):
    model = EvalRun
    prefix = "eval"
    not_found = EvalRunNotFound

    async def of_set(
        self, testset_id: str, eval_run_id: str, *, for_update: bool = False
    ) -> EvalRun:
        found = await self.find(eval_run_id, for_update=for_update)
        if found is None or found.testset_id != testset_id:
            raise EvalRunNotFound(eval_run_id)
        return found

    async def history(
        self, testset_id: str, *, limit: int, before: str | None
    ) -> tuple[list[EvalRun], bool]:
        """Newest first."""
        query = self.owned().where(EvalRun.testset_id == testset_id)
        if before is not None:
            query = query.where(EvalRun.id < before)
        query = query.order_by(EvalRun.id.desc()).limit(limit + 1)
        return cut((await self.db.execute(query)).scalars().all(), limit)


async def unfinished_eval_runs(db: AsyncSession) -> Sequence[EvalRun]:
    query = select(EvalRun).where(EvalRun.status.in_(("queued", "running")))
    return (await db.execute(query)).scalars().all()


class ResultRepo:
    def __init__(self, db: AsyncSession, eval_run_id: str) -> None:
        self.db = db
        self.eval_run_id = eval_run_id

    def add(self, result: EvalResult) -> None:
        result.id = result.id or ids.new_id("res")
        result.eval_run_id = self.eval_run_id
        self.db.add(result)

    async def after(self, seq: int, *, limit: int) -> list[EvalResult]:
        """In the order they finished, after ``seq``."""
        query = (
            select(EvalResult)
            .where(EvalResult.eval_run_id == self.eval_run_id, EvalResult.seq > seq)
            .order_by(EvalResult.seq)
            .limit(limit)
        )
        return list((await self.db.execute(query)).scalars().all())

    async def all(self) -> list[EvalResult]:
        query = (
            select(EvalResult)
            .where(EvalResult.eval_run_id == self.eval_run_id)
            .order_by(EvalResult.seq)
        )
        return list((await self.db.execute(query)).scalars().all())

    async def done_units(self) -> set[tuple[str, str, int]]:
        query = select(EvalResult.case_id, EvalResult.configuration, EvalResult.repeat).where(
            EvalResult.eval_run_id == self.eval_run_id
        )
        return {(c, n, int(r)) for c, n, r in (await self.db.execute(query)).all()}
