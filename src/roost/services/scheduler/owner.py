"""What a scheduled run keeps of its turn: how it ended, in the transaction that ends it."""

from sqlalchemy.ext.asyncio import AsyncSession

from roost.clock import utcnow
from roost.services.turns import Ending, Extras
from roost.store.models import ScheduledJob, Turn
from roost.store.schedules import RunRepo


class ScheduleOwner:
    async def extras(self, _turn: Turn, _run_id: str, /) -> Extras:
        return Extras()

    async def turn_ended(self, db: AsyncSession, turn: Turn, run_id: str, ending: Ending) -> None:
        run = await RunRepo(db).get(run_id)
        if run is None:
            return
        run.status, run.finished_at, run.turn_id = ending.status.value, utcnow(), turn.id
        run.error = ending.error
        job = await db.get(ScheduledJob, run.job_id)
        if job is not None:
            job.last_status = run.status

    async def after_end(self, turn: Turn, run_id: str) -> None:
        del turn, run_id
