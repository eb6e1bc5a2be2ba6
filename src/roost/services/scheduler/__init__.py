"""The scheduler (Oqto's sldr): jobs that ask an agent a prompt on a schedule.

``service.py`` (jobs, run now, history), ``loop.py`` (the pass every process makes,
each due time fired once), ``timing.py`` (cron in a time zone, intervals, missed
times), ``owner.py`` (what a run keeps of its turn).
"""

from roost.services.scheduler.loop import Scheduler
from roost.services.scheduler.owner import ScheduleOwner
from roost.services.scheduler.service import SchedulerService

__all__ = ["ScheduleOwner", "Scheduler", "SchedulerService"]
