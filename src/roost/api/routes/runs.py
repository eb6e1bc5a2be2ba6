"""Runs over HTTP (CoAgent, API.md §13): one prompt answered by an agent, waited for,
streamed or left in the background; and the run log.

``POST /api/runs`` answers a body the schema refuses as CoAgent does: ``400
INVALID_REQUEST`` with ``details {field, reason}`` (see the error handlers)."""

from typing import Annotated

from fastapi import APIRouter, Path, Query, Request, Response, status
from fastapi.responses import JSONResponse

from roost.api.deps import Before, Caller, Limit, Services
from roost.api.middleware.error_handlers import COAGENT_ERRORS
from roost.api.openapi import errors
from roost.api.schemas.common import DateTimeIn
from roost.api.schemas.runs import RunIn, RunListOut, RunOut
from roost.api.sse import event_stream, wants_stream
from roost.errors import InvalidRequest, UpstreamError, restored
from roost.store.runs import RunFilter

router = APIRouter(tags=["runs"])

RUN_HEADER = "X-Run-ID"
MAX_META_FILTERS = 10

RunRef = Annotated[str, Path(max_length=200, description="The run's run_id (or id).")]
MetaFilter = Annotated[
    list[str] | None,
    Query(
        max_length=MAX_META_FILTERS,
        description="`key=value`: runs whose log_meta has this entry (repeat for more); "
        "`log_meta.key=value` works too.",
    ),
]


@router.post(
    "/runs",
    response_model=RunOut,
    responses={
        200: {"content": {"text/event-stream": {}}, "description": "The run, or its events."},
        202: {"description": "With ?background=true: the run, under way."},
        **errors(400, 404, 409, 502, 503),
    },
    openapi_extra=COAGENT_ERRORS,
)
async def create_run(
    request: Request,
    caller: Caller,
    services: Services,
    body: RunIn,
    background: Annotated[bool, Query(description="Answer 202 at once.")] = False,
) -> Response:
    """Run one prompt with an agent (``agent_id``) or a bare ``preamble``; wait for the
    answer (stream it with ``stream: true`` or ``Accept: text/event-stream``)."""
    if not body.prompt.strip():
        raise InvalidRequest(
            "Missing required field: prompt",
            details={"field": "prompt", "reason": "Prompt field is required and cannot be empty"},
        )
    run = await services.runs.start(caller, body.request())
    if background:
        return JSONResponse(
            RunOut.of(run).model_dump(mode="json"), status_code=status.HTTP_202_ACCEPTED
        )
    if wants_stream(request, body.stream):
        assert run.session_id is not None and run.turn_id is not None
        response = event_stream(
            services.turns.follow(run.session_id, run.turn_id),
            turn_id=run.turn_id,
            session_id=run.session_id,
        )
        response.headers[RUN_HEADER] = run.run_id
        return response
    ended = await services.runs.wait(caller, run)
    failure = restored(ended.error) if ended.status == "failed" and ended.error else None
    if isinstance(failure, UpstreamError):  # the provider's failure, as the HTTP answer
        failure.details["run_id"] = ended.run_id
        raise failure
    return JSONResponse(RunOut.of(ended).model_dump(mode="json"))


@router.get("/runs", response_model=RunListOut)
async def list_runs(
    request: Request,
    caller: Caller,
    services: Services,
    limit: Limit = 50,
    before: Before = None,
    agent: Annotated[str | None, Query(max_length=100, description="Agent id or name.")] = None,
    meta: MetaFilter = None,
    since: Annotated[DateTimeIn | None, Query(alias="from")] = None,
    until: Annotated[DateTimeIn | None, Query(alias="to")] = None,
) -> RunListOut:
    """Your runs, newest first; filtered by agent, log_meta entries and time
    (``from`` inclusive, ``to`` exclusive)."""
    where = RunFilter(agent=agent, meta=_meta(request, meta), since=since, until=until)
    page = await services.runs.page(caller, where, limit=limit, before=before)
    return RunListOut.of(page, RunOut.of)


@router.get("/runs/{run_ref}", response_model=RunOut)
async def get_run(caller: Caller, services: Services, run_ref: RunRef) -> RunOut:
    """The request, the answer, usage, latency and the agent version it ran."""
    return RunOut.of(await services.runs.get(caller, run_ref))


def _meta(request: Request, meta: list[str] | None) -> dict[str, str]:
    pairs = list(meta or [])
    pairs += [
        f"{key.removeprefix('log_meta.')}={value}"
        for key, value in request.query_params.multi_items()
        if key.startswith("log_meta.")
    ]
    if len(pairs) > MAX_META_FILTERS:
        raise InvalidRequest(
            f"At most {MAX_META_FILTERS} log_meta filters",
            details={"field": "meta", "reason": "too many filters"},
        )
    wanted: dict[str, str] = {}
    for pair in pairs:
        key, sep, value = pair.partition("=")
        if not sep or not key or len(key) > 100 or "\x00" in pair:
            raise InvalidRequest(
                "A log_meta filter is key=value",
                details={"field": "meta", "reason": f"{pair[:100]!r} is not key=value"},
            )
        wanted[key] = value
    return wanted
