"""Test sets, their cases and evaluation runs: what a client sends and what it is shown
(CoAgent's shapes, with Roost's fields beside them)."""

from typing import Annotated, Any

from pydantic import BaseModel, Field, StrictInt, StringConstraints, computed_field

from roost.api.schemas.agents import ModelRef, Preamble, Temperature
from roost.api.schemas.common import ClientModel, ListOut, NoNul, Timestamp, Whole, either
from roost.services.evals.assertions import Assertion
from roost.services.evals.service import Configuration
from roost.services.evals.testsets import MAX_CASES, CaseData
from roost.store.models import EvalRun, TestCase, TestSet

CaseId = Annotated[
    str,
    StringConstraints(strict=True, min_length=1, max_length=100, pattern=r"^[A-Za-z0-9_.:-]+$"),
]
CaseText = Annotated[str, StringConstraints(strict=True, min_length=1, max_length=100_000), NoNul]
Expected = Annotated[str, StringConstraints(strict=True, max_length=100_000), NoNul]
Description = Annotated[str, StringConstraints(strict=True, max_length=2000), NoNul]
TestSetName = Annotated[
    str, StringConstraints(strict=True, min_length=1, max_length=200, strip_whitespace=True), NoNul
]
Assertions = Annotated[list[Assertion], Field(max_length=50)]
ConfigurationName = Annotated[
    str,
    StringConstraints(strict=True, min_length=1, max_length=100, pattern=r"^[A-Za-z0-9_.:@/-]+$"),
]


class CaseIn(ClientModel):
    id: CaseId | None = Field(None, description="Yours, unique in the set; else one is made.")
    input: CaseText
    expected: Expected | None = None
    assertions: Assertions = Field(default_factory=list)

    def data(self) -> CaseData:
        return CaseData(
            id=self.id,
            input=self.input,
            expected=self.expected,
            assertions=[a.model_dump(mode="json", by_alias=True) for a in self.assertions],
        )


class CaseChange(ClientModel):
    input: CaseText | None = None
    expected: Expected | None = None
    assertions: Assertions | None = None

    def changes(self) -> dict[str, Any]:
        sent = self.model_fields_set
        changes: dict[str, Any] = {}
        if "input" in sent and self.input is not None:
            changes["input"] = self.input
        if "expected" in sent:
            changes["expected"] = self.expected
        if "assertions" in sent:
            changes["assertions"] = [
                a.model_dump(mode="json", by_alias=True) for a in self.assertions or []
            ]
        return changes


class TestSetIn(ClientModel):
    __test__ = False  # not a pytest class, whatever its name

    name: TestSetName
    description: Description = ""
    cases: Annotated[list[CaseIn], Field(max_length=MAX_CASES)] = Field(default_factory=list)


class TestSetReplace(ClientModel):
    """PUT: name and description; ``cases``, when given, replace every case."""

    __test__ = False

    name: TestSetName
    description: Description = ""
    cases: Annotated[list[CaseIn], Field(max_length=MAX_CASES)] | None = None


class CasesIn(ClientModel):
    cases: Annotated[list[CaseIn], Field(min_length=1, max_length=MAX_CASES)]


class CaseOut(BaseModel):
    id: str
    position: int
    input: str
    expected: str | None
    assertions: list[dict[str, Any]]
    created_at: Timestamp
    updated_at: Timestamp

    @classmethod
    def of(cls, case: TestCase) -> "CaseOut":
        return cls(
            id=case.id,
            position=case.position,
            input=case.input,
            expected=case.expected,
            assertions=case.assertions,
            created_at=case.created_at,
            updated_at=case.updated_at,
        )


class TestSetSummary(BaseModel):
    __test__ = False

    id: str
    name: str
    description: str
    case_count: int
    created_at: Timestamp
    updated_at: Timestamp

    @classmethod
    def of(cls, testset: TestSet) -> "TestSetSummary":
        return cls(
            id=testset.id,
            name=testset.name,
            description=testset.description,
            case_count=testset.case_count,
            created_at=testset.created_at,
            updated_at=testset.updated_at,
        )


class TestSetOut(TestSetSummary):
    __test__ = False

    cases: list[CaseOut]

    @classmethod
    def with_cases(cls, testset: TestSet, cases: list[TestCase]) -> "TestSetOut":
        summary = TestSetSummary.of(testset).model_dump()
        return cls(**summary, cases=[CaseOut.of(case) for case in cases])


class TestSetListOut(ListOut[TestSetSummary]):
    __test__ = False

    @computed_field  # type: ignore[prop-decorator]
    @property
    def testsets(self) -> list[TestSetSummary]:
        """CoAgent's name for the same list."""
        return self.data


class CaseListOut(ListOut[CaseOut]):
    pass


class ConfigurationIn(ClientModel):
    name: ConfigurationName | None = Field(
        None, description='Its column in the report; else "<agent>@<model>".'
    )
    agent_id: str | None = either(
        "agent_id", "agent", max_length=100, description="An agent's id or name."
    )
    preamble: Preamble | None = Field(None, description="Or a bare system message.")
    model_ref: ModelRef | None = Field(None, description="In place of the agent's model.")
    temperature: Temperature | None = None

    def configuration(self) -> Configuration:
        return Configuration(
            name=self.name,
            agent=self.agent_id,
            preamble=self.preamble,
            model=self.model_ref.ref if self.model_ref else None,
            temperature=self.temperature,
        )


class EvalRunIn(ClientModel):
    configurations: Annotated[list[ConfigurationIn], Field(min_length=1, max_length=10)]
    concurrency: Annotated[StrictInt, Field(ge=1, le=256), Whole] = Field(
        4, description="Cases run at once (at most the server's ROOST_EVAL_MAX_CONCURRENCY)."
    )
    repeats: Annotated[StrictInt, Field(ge=1, le=20), Whole] = Field(
        1, description="Runs of every case x configuration; >1 gives pass-rate intervals."
    )


class EvalRunOut(BaseModel):
    id: str
    testset_id: str
    status: str = Field(description="queued, running, completed, cancelled, interrupted or failed.")
    configurations: list[dict[str, Any]]
    concurrency: int
    repeats: int
    total: int
    done: int
    summary: list[dict[str, Any]] | None
    error: dict[str, Any] | None
    created_at: Timestamp
    started_at: Timestamp | None
    finished_at: Timestamp | None

    @classmethod
    def of(cls, run: EvalRun) -> "EvalRunOut":
        return cls(
            id=run.id,
            testset_id=run.testset_id,
            status=run.status,
            configurations=run.configurations,
            concurrency=run.concurrency,
            repeats=run.repeats,
            total=run.total,
            done=run.done,
            summary=run.summary,
            error=run.error,
            created_at=run.created_at,
            started_at=run.started_at,
            finished_at=run.finished_at,
        )


class EvalRunListOut(ListOut[EvalRunOut]):
    @computed_field  # type: ignore[prop-decorator]
    @property
    def runs(self) -> list[EvalRunOut]:
        """The same list as `data`."""
        return self.data


class ResultListOut(ListOut[dict[str, Any]]):
    pass
