"""The scheduler over HTTP (Oqto's sldr, API.md §14): jobs by name, run now, history,
and the overview. Oqto's ``/api/sldr/…`` paths answer the same."""

from typing import Annotated

from fastapi import APIRouter, Query, Response, status

from roost.api.deps import Before, Caller, Limit, Services
from roost.api.openapi import errors
from roost.api.schemas.scheduler import (
    JobChange,
    JobIn,
    JobListOut,
    JobOut,
    OverviewJob,
    OverviewOut,
    RunListOut,
    RunOut,
)

router = APIRouter(tags=["scheduler"])

AfterName = Annotated[str | None, Query(max_length=100, description="A job name: jobs after it.")]


def routes(base: str, *, documented: bool) -> APIRouter:
    """The scheduler's routes under ``base`` (``/scheduler``, and Oqto's ``/sldr``)."""
    made = APIRouter(tags=["scheduler"], include_in_schema=documented)

    @made.get(f"{base}/jobs", response_model=JobListOut)
    async def list_jobs(
        caller: Caller, services: Services, limit: Limit = 50, after: AfterName = None
    ) -> JobListOut:
        """Your jobs, by name."""
        page = await services.scheduler.page(caller, limit=limit, after=after)
        return JobListOut.of(page, JobOut.of)

    @made.post(
        f"{base}/jobs",
        status_code=status.HTTP_201_CREATED,
        response_model=JobOut,
        responses=errors(404, 409),
    )
    async def create_job(caller: Caller, services: Services, body: JobIn) -> JobOut:
        return JobOut.of(await services.scheduler.create(caller, body.model_dump()))

    @made.get(f"{base}/jobs/{{name}}", response_model=JobOut)
    async def get_job(caller: Caller, services: Services, name: str) -> JobOut:
        return JobOut.of(await services.scheduler.get(caller, name))

    @made.patch(f"{base}/jobs/{{name}}", response_model=JobOut, responses=errors(409))
    async def update_job(caller: Caller, services: Services, name: str, body: JobChange) -> JobOut:
        return JobOut.of(await services.scheduler.update(caller, name, body.changes()))

    @made.delete(f"{base}/jobs/{{name}}", status_code=status.HTTP_204_NO_CONTENT)
    async def delete_job(caller: Caller, services: Services, name: str) -> Response:
        await services.scheduler.delete(caller, name)
        return Response(status_code=status.HTTP_204_NO_CONTENT)

    @made.post(
        f"{base}/jobs/{{name}}/run", status_code=status.HTTP_202_ACCEPTED, response_model=RunOut
    )
    async def run_job(caller: Caller, services: Services, name: str) -> RunOut:
        """Run the job once now, besides its schedule: 202 with the run (its turn goes
        on in the background; follow it in the run's session)."""
        return RunOut.of(await services.scheduler.run_now(caller, name))

    @made.get(f"{base}/jobs/{{name}}/runs", response_model=RunListOut)
    async def job_runs(
        caller: Caller, services: Services, name: str, limit: Limit = 50, before: Before = None
    ) -> RunListOut:
        """The job's runs, newest first."""
        page = await services.scheduler.runs(caller, name, limit=limit, before=before)
        return RunListOut.of(page, RunOut.of)

    @made.get(f"{base}/overview", response_model=OverviewOut)
    async def overview(caller: Caller, services: Services) -> OverviewOut:
        """Each of your jobs with its next run, last run and how it went."""
        jobs = await services.scheduler.overview(caller)
        return OverviewOut(
            jobs=[OverviewJob.of(j) for j in jobs], scheduler=services.settings.scheduler_enabled
        )

    return made


router.include_router(routes("/scheduler", documented=True))
router.include_router(routes("/sldr", documented=False))
