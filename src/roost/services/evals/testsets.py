"""Test sets (CoAgent): cases an agent is checked against, each an input, what is
expected of the answer, and assertions; made with the set or one by one, imported and
exported as JSON or JSONL."""

from dataclasses import dataclass, field
from typing import Any

from roost import ids
from roost.clock import utcnow
from roost.errors import AlreadyExists, InvalidRequest
from roost.services.caller import Caller
from roost.store.db import Database, flush_unique
from roost.store.evals import CaseRepo, TestSetRepo
from roost.store.models import TestCase, TestSet
from roost.store.paging import Page

MAX_CASES = 2_000  # a set's cases: an evaluation runs each against every configuration


@dataclass(frozen=True)
class CaseData:
    input: str
    id: str | None = None
    expected: str | None = None
    assertions: list[dict[str, Any]] = field(default_factory=list)


class TestSetService:
    __test__ = False  # not a pytest class, whatever its name

    def __init__(self, database: Database) -> None:
        self.database = database

    async def create(
        self, caller: Caller, name: str, description: str, cases: list[CaseData]
    ) -> tuple[TestSet, list[TestCase]]:
        taken = _taken(name)
        async with self.database.write() as db:
            repo = TestSetRepo(db, caller)
            if await repo.named(name) is not None:
                raise taken
            testset = repo.add(
                TestSet(id=ids.new_id("tset"), name=name, description=description, case_count=0)
            )
            await flush_unique(db, taken)
            made = await _add_cases(CaseRepo(db, testset.id), testset, cases)
        return testset, made

    async def page(self, caller: Caller, *, limit: int, after: str | None) -> Page[TestSet]:
        async with self.database.read() as db:
            items, more = await TestSetRepo(db, caller).listed(limit=limit, after=after)
        return Page(items, more, items[-1].id if more and items else None)

    async def get(self, caller: Caller, testset_id: str) -> tuple[TestSet, list[TestCase]]:
        async with self.database.read() as db:
            testset = await TestSetRepo(db, caller).get(testset_id)
            return testset, await CaseRepo(db, testset.id).all()

    async def replace(
        self,
        caller: Caller,
        testset_id: str,
        name: str,
        description: str,
        cases: list[CaseData] | None,
    ) -> tuple[TestSet, list[TestCase]]:
        """PUT: name and description; the cases too when they are given."""
        async with self.database.write() as db:
            repo = TestSetRepo(db, caller)
            testset = await repo.get(testset_id, for_update=True)
            other = await repo.named(name)
            if other is not None and other.id != testset.id:
                raise _taken(name)
            testset.name, testset.description, testset.updated_at = name, description, utcnow()
            await flush_unique(db, _taken(name))
            cases_of = CaseRepo(db, testset.id)
            if cases is not None:
                await cases_of.clear()
                testset.case_count = 0
                await _add_cases(cases_of, testset, cases)
            return testset, await cases_of.all()

    async def delete(self, caller: Caller, testset_id: str) -> None:
        """The set, its cases, and its evaluation runs with their results."""
        async with self.database.write() as db:
            repo = TestSetRepo(db, caller)
            await repo.remove(await repo.get(testset_id, for_update=True))

    async def cases(
        self, caller: Caller, testset_id: str, *, limit: int, after: int | None
    ) -> tuple[list[TestCase], bool]:
        async with self.database.read() as db:
            testset = await TestSetRepo(db, caller).get(testset_id)
            return await CaseRepo(db, testset.id).page(limit=limit, after=after)

    async def add_cases(
        self, caller: Caller, testset_id: str, cases: list[CaseData]
    ) -> list[TestCase]:
        async with self.database.write() as db:
            testset = await TestSetRepo(db, caller).get(testset_id, for_update=True)
            return await _add_cases(CaseRepo(db, testset.id), testset, cases)

    async def change_case(
        self, caller: Caller, testset_id: str, case_id: str, changes: dict[str, Any]
    ) -> TestCase:
        async with self.database.write() as db:
            testset = await TestSetRepo(db, caller).get(testset_id, for_update=True)
            case = await CaseRepo(db, testset.id).get(case_id)
            for key in ("input", "expected", "assertions"):
                if key in changes:
                    setattr(case, key, changes[key])
            case.updated_at = testset.updated_at = utcnow()
            return case

    async def delete_case(self, caller: Caller, testset_id: str, case_id: str) -> None:
        async with self.database.write() as db:
            testset = await TestSetRepo(db, caller).get(testset_id, for_update=True)
            case = await CaseRepo(db, testset.id).get(case_id)
            await db.delete(case)
            testset.case_count -= 1
            testset.updated_at = utcnow()


async def _add_cases(repo: CaseRepo, testset: TestSet, cases: list[CaseData]) -> list[TestCase]:
    """Append cases; an id given twice, or one the set has, is ALREADY_EXISTS."""
    if testset.case_count + len(cases) > MAX_CASES:
        raise InvalidRequest(
            f"A test set holds at most {MAX_CASES} cases",
            details={"field": "cases", "reason": f"at most {MAX_CASES} cases"},
        )
    known = await repo.ids()
    position = await repo.next_position()
    made = []
    for offset, case in enumerate(cases):
        case_id = case.id or ids.new_id("case")
        if case_id in known:
            raise AlreadyExists(
                f"The test set has a case {case_id}",
                details={"field": "id", "case_id": case_id},
            )
        known.add(case_id)
        row = TestCase(
            testset_id=testset.id,
            id=case_id,
            position=position + offset,
            input=case.input,
            expected=case.expected,
            assertions=case.assertions,
        )
        repo.db.add(row)
        made.append(row)
    testset.case_count += len(cases)
    testset.updated_at = utcnow()
    return made


def _taken(name: str) -> AlreadyExists:
    return AlreadyExists(f"A test set named {name} exists", details={"field": "name", "name": name})
