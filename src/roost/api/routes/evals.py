"""Test sets and evaluation runs over HTTP (CoAgent, API.md §13): sets with their cases,
import and export; runs of a set against configurations, their progress as an event
stream, cancel, history, results, the side-by-side report, comparisons and exports."""

from typing import Annotated, Any, Literal

import orjson
from fastapi import APIRouter, Path, Query, Request, Response, status
from fastapi.responses import JSONResponse
from pydantic import ValidationError

from roost.api.deps import After, Before, Caller, Limit, Services
from roost.api.middleware.error_handlers import validation_failure
from roost.api.openapi import errors
from roost.api.schemas.evals import (
    CaseChange,
    CaseIn,
    CaseListOut,
    CaseOut,
    CasesIn,
    EvalRunIn,
    EvalRunListOut,
    EvalRunOut,
    ResultListOut,
    TestSetIn,
    TestSetListOut,
    TestSetOut,
    TestSetReplace,
    TestSetSummary,
)
from roost.api.sse import LastEventId, ResumeAfter, event_stream, resume_point
from roost.errors import InvalidRequest
from roost.services.evals import report

router = APIRouter(tags=["evaluations"])

TestSetId = Annotated[str, Path(max_length=64)]
EvalId = Annotated[str, Path(max_length=64)]
CaseRef = Annotated[str, Path(max_length=100)]
AfterPosition = Annotated[int | None, Query(ge=0, le=2**31 - 1, description="A position.")]
AfterSeq = Annotated[int | None, Query(ge=0, le=2**31 - 1, description="A result's seq.")]
JSONL = ("application/jsonl", "application/x-ndjson", "application/x-jsonlines")
JSONL_MEDIA = "application/jsonl"


@router.get("/testsets", response_model=TestSetListOut)
async def list_testsets(
    caller: Caller, services: Services, limit: Limit = 50, after: After = None
) -> TestSetListOut:
    """Your test sets, by name (CoAgent's ``testsets`` and Roost's list)."""
    page = await services.testsets.page(caller, limit=limit, after=after)
    return TestSetListOut.of(page, TestSetSummary.of)


@router.post(
    "/testsets",
    status_code=status.HTTP_201_CREATED,
    response_model=TestSetOut,
    responses=errors(409),
)
async def create_testset(caller: Caller, services: Services, body: TestSetIn) -> TestSetOut:
    testset, cases = await services.testsets.create(
        caller, body.name, body.description, [case.data() for case in body.cases]
    )
    return TestSetOut.with_cases(testset, cases)


@router.post(
    "/testsets/import",
    status_code=status.HTTP_201_CREATED,
    response_model=TestSetOut,
    responses=errors(400, 409, 413, 422),
    openapi_extra={
        "requestBody": {
            "required": True,
            "content": {
                "application/json": {"schema": {"$ref": "#/components/schemas/TestSetIn"}},
                JSONL_MEDIA: {"schema": {"type": "string"}},
            },
        }
    },
)
async def import_testset(
    request: Request,
    caller: Caller,
    services: Services,
    name: Annotated[str | None, Query(max_length=200, description="JSONL: the set's name.")] = None,
) -> TestSetOut:
    """A set as ``GET …/export`` gives it: JSON (``{name, description, cases}``) or JSONL
    (``Content-Type: application/jsonl``: an optional first line ``{name, description}``,
    then one case a line)."""
    body = await request.body()
    media = request.headers.get("content-type", "").split(";")[0].strip().lower()
    fields = _jsonl_set(body, name) if media in JSONL else _json(body)
    if name is not None:
        fields["name"] = name
    try:
        parsed = TestSetIn.model_validate(fields)
    except ValidationError as refused:
        raise validation_failure(refused.errors()) from None
    testset, cases = await services.testsets.create(
        caller, parsed.name, parsed.description, [case.data() for case in parsed.cases]
    )
    return TestSetOut.with_cases(testset, cases)


@router.get("/testsets/{testset_id}", response_model=TestSetOut)
async def get_testset(caller: Caller, services: Services, testset_id: TestSetId) -> TestSetOut:
    """The set with every case."""
    return TestSetOut.with_cases(*await services.testsets.get(caller, testset_id))


@router.put("/testsets/{testset_id}", response_model=TestSetOut, responses=errors(409))
async def replace_testset(
    caller: Caller, services: Services, testset_id: TestSetId, body: TestSetReplace
) -> TestSetOut:
    cases = None if body.cases is None else [case.data() for case in body.cases]
    made = await services.testsets.replace(caller, testset_id, body.name, body.description, cases)
    return TestSetOut.with_cases(*made)


@router.delete("/testsets/{testset_id}", status_code=status.HTTP_204_NO_CONTENT)
async def delete_testset(caller: Caller, services: Services, testset_id: TestSetId) -> Response:
    """The set, its cases, and its evaluation runs with their results."""
    await services.testsets.delete(caller, testset_id)
    return Response(status_code=status.HTTP_204_NO_CONTENT)


@router.get("/testsets/{testset_id}/export", response_class=Response)
async def export_testset(
    caller: Caller,
    services: Services,
    testset_id: TestSetId,
    format: Literal["json", "jsonl"] = "json",
) -> Response:
    """The set as ``POST /api/testsets/import`` takes it."""
    testset, cases = await services.testsets.get(caller, testset_id)
    shown = [
        {"id": c.id, "input": c.input, "expected": c.expected, "assertions": c.assertions}
        for c in cases
    ]
    head = {"name": testset.name, "description": testset.description}
    if format == "jsonl":
        lines = [orjson.dumps(head), *(orjson.dumps(case) for case in shown)]
        return Response(b"\n".join(lines) + b"\n", media_type=JSONL_MEDIA)
    return JSONResponse({**head, "cases": shown})


@router.get("/testsets/{testset_id}/cases", response_model=CaseListOut)
async def list_cases(
    caller: Caller,
    services: Services,
    testset_id: TestSetId,
    limit: Limit = 50,
    after: AfterPosition = None,
) -> CaseListOut:
    """In the set's order; ``next_cursor`` is a position for ``after``."""
    items, more = await services.testsets.cases(caller, testset_id, limit=limit, after=after)
    return CaseListOut(
        data=[CaseOut.of(c) for c in items],
        has_more=more,
        next_cursor=str(items[-1].position) if more and items else None,
    )


@router.post(
    "/testsets/{testset_id}/cases",
    status_code=status.HTTP_201_CREATED,
    response_model=CaseListOut,
    responses=errors(409),
)
async def add_cases(
    caller: Caller, services: Services, testset_id: TestSetId, body: CasesIn | CaseIn
) -> CaseListOut:
    """Append cases: ``{cases: [...]}``, or one case."""
    asked = body.cases if isinstance(body, CasesIn) else [body]
    made = await services.testsets.add_cases(caller, testset_id, [c.data() for c in asked])
    return CaseListOut(data=[CaseOut.of(c) for c in made], has_more=False, next_cursor=None)


@router.patch("/testsets/{testset_id}/cases/{case_id}", response_model=CaseOut)
async def change_case(
    caller: Caller,
    services: Services,
    testset_id: TestSetId,
    case_id: CaseRef,
    body: CaseChange,
) -> CaseOut:
    case = await services.testsets.change_case(caller, testset_id, case_id, body.changes())
    return CaseOut.of(case)


@router.delete("/testsets/{testset_id}/cases/{case_id}", status_code=status.HTTP_204_NO_CONTENT)
async def delete_case(
    caller: Caller, services: Services, testset_id: TestSetId, case_id: CaseRef
) -> Response:
    await services.testsets.delete_case(caller, testset_id, case_id)
    return Response(status_code=status.HTTP_204_NO_CONTENT)


@router.post(
    "/testsets/{testset_id}/runs",
    status_code=status.HTTP_202_ACCEPTED,
    response_model=EvalRunOut,
    responses=errors(400, 404),
)
async def start_eval_run(
    caller: Caller, services: Services, testset_id: TestSetId, body: EvalRunIn
) -> EvalRunOut:
    """Run every case against every configuration (``repeats`` times), in the
    background: 202 with the evaluation run; follow it by ``…/events``."""
    run = await services.evals.start(
        caller,
        testset_id,
        [c.configuration() for c in body.configurations],
        concurrency=body.concurrency,
        repeats=body.repeats,
    )
    return EvalRunOut.of(run)


@router.get("/testsets/{testset_id}/runs", response_model=EvalRunListOut)
async def list_eval_runs(
    caller: Caller,
    services: Services,
    testset_id: TestSetId,
    limit: Limit = 50,
    before: Before = None,
) -> EvalRunListOut:
    """The set's evaluation runs, newest first."""
    page = await services.evals.history(caller, testset_id, limit=limit, before=before)
    return EvalRunListOut.of(page, EvalRunOut.of)


@router.get("/testsets/{testset_id}/runs/{eval_id}", response_model=EvalRunOut)
async def get_eval_run(
    caller: Caller, services: Services, testset_id: TestSetId, eval_id: EvalId
) -> EvalRunOut:
    """Its progress (``done`` of ``total``) and, once ended, its summary per configuration."""
    return EvalRunOut.of(await services.evals.get(caller, testset_id, eval_id))


@router.post("/testsets/{testset_id}/runs/{eval_id}/cancel", response_model=EvalRunOut)
async def cancel_eval_run(
    caller: Caller, services: Services, testset_id: TestSetId, eval_id: EvalId
) -> EvalRunOut:
    """No further case starts and those under way stop; the results so far stay."""
    return EvalRunOut.of(await services.evals.cancel(caller, testset_id, eval_id))


@router.get(
    "/testsets/{testset_id}/runs/{eval_id}/events",
    response_class=Response,
    responses={200: {"content": {"text/event-stream": {}}, "description": "The events."}},
)
async def eval_run_events(
    caller: Caller,
    services: Services,
    testset_id: TestSetId,
    eval_id: EvalId,
    after: ResumeAfter = None,
    last_event_id: LastEventId = "",
) -> Response:
    """``result`` events (``id`` = the result's seq), then ``eval_ended``; resume with
    ``Last-Event-ID`` or ``?after=``."""
    point = resume_point(after, last_event_id)
    return event_stream(await services.evals.events(caller, testset_id, eval_id, after=point))


@router.get("/testsets/{testset_id}/runs/{eval_id}/results", response_model=ResultListOut)
async def eval_results(
    caller: Caller,
    services: Services,
    testset_id: TestSetId,
    eval_id: EvalId,
    limit: Limit = 50,
    after: AfterSeq = None,
) -> ResultListOut:
    """Each case x configuration x repeat, in the order they finished (by ``seq``)."""
    _run, results = await services.evals.results(caller, testset_id, eval_id)
    chosen = [r for r in results if after is None or r.seq > after]
    page, more = chosen[:limit], len(chosen) > limit
    return ResultListOut(
        data=[report.result_view(r) for r in page],
        has_more=more,
        next_cursor=str(page[-1].seq) if more and page else None,
    )


@router.get("/testsets/{testset_id}/runs/{eval_id}/report", response_model=dict[str, Any])
async def eval_report(
    caller: Caller, services: Services, testset_id: TestSetId, eval_id: EvalId
) -> dict[str, Any]:
    """Side by side: every case with each configuration's results, the summary per
    configuration, and the cases the configurations disagree on."""
    run, results = await services.evals.results(caller, testset_id, eval_id)
    return report.side_by_side(run, results)


@router.get(
    "/testsets/{testset_id}/runs/{eval_id}/compare",
    response_model=dict[str, Any],
    responses=errors(400),
)
async def compare_eval_runs(
    caller: Caller,
    services: Services,
    testset_id: TestSetId,
    eval_id: EvalId,
    other: Annotated[str | None, Query(alias="with", max_length=64)] = None,
    configuration: Annotated[str | None, Query(max_length=100)] = None,
    other_configuration: Annotated[str | None, Query(max_length=100)] = None,
) -> dict[str, Any]:
    """The cases that flipped pass <-> fail: against another run of the set (``with``),
    by case and configuration; or between two configurations (``configuration`` and
    ``other_configuration``), of this run or of it and ``with``."""
    return await services.evals.compare(
        caller,
        testset_id,
        eval_id,
        other_id=other,
        base_configuration=configuration,
        other_configuration=other_configuration,
    )


@router.get("/testsets/{testset_id}/runs/{eval_id}/export", response_class=Response)
async def export_eval_run(
    caller: Caller,
    services: Services,
    testset_id: TestSetId,
    eval_id: EvalId,
    format: Literal["json", "csv"] = "json",
) -> Response:
    """The report as JSON, or every result as a CSV row."""
    run, results = await services.evals.results(caller, testset_id, eval_id)
    if format == "csv":
        name = f"{run.id}.csv"
        return Response(
            report.as_csv(results),
            media_type="text/csv; charset=utf-8",
            headers={"Content-Disposition": f'attachment; filename="{name}"'},
        )
    return JSONResponse(report.side_by_side(run, results))


def _json(body: bytes) -> dict[str, Any]:
    try:
        value = orjson.loads(body)
    except orjson.JSONDecodeError:
        raise InvalidRequest("Request body is not valid JSON") from None
    if not isinstance(value, dict):
        raise InvalidRequest("A test set is a JSON object", details={"field": "body"})
    return value


def _jsonl_set(body: bytes, name: str | None) -> dict[str, Any]:
    """A set from JSON lines: ``{name, description}`` first (optional), then cases."""
    fields: dict[str, Any] = {"name": name, "cases": []}
    for number, line in enumerate(body.splitlines(), 1):
        if not line.strip():
            continue
        try:
            value = orjson.loads(line)
        except orjson.JSONDecodeError:
            raise InvalidRequest(
                f"Line {number} is not JSON", details={"field": f"line {number}"}
            ) from None
        if not isinstance(value, dict):
            raise InvalidRequest(
                f"Line {number} is not a JSON object", details={"field": f"line {number}"}
            )
        if number == 1 and "input" not in value:
            fields |= {k: value[k] for k in ("name", "description") if k in value}
        else:
            fields["cases"].append(value)
    return fields
