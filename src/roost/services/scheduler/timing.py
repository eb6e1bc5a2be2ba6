"""When a job fires: a cron expression read in the job's time zone, or a fixed interval;
and what to do about the times missed while no Roost process ran."""

from datetime import datetime, timedelta
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

from croniter import croniter

from roost.clock import utcnow

# A run due up to this long ago is late, not missed: it fires as if on time.
GRACE = timedelta(seconds=60)


class BadSchedule(ValueError):
    """The schedule cannot be read; ``field`` names what is wrong."""

    def __init__(self, field: str, reason: str) -> None:
        super().__init__(reason)
        self.field = field


def zone(name: str) -> ZoneInfo:
    try:
        return ZoneInfo(name)
    except (ZoneInfoNotFoundError, ValueError):
        raise BadSchedule("timezone", f"{name!r} is not a known IANA time zone") from None


def check(cron: str | None, interval_seconds: int | None, timezone: str) -> None:
    """Refuse a schedule that is neither or both, a cron croniter cannot read, or an
    unknown time zone."""
    zone(timezone)
    if (cron is None) == (interval_seconds is None):
        raise BadSchedule("schedule", "give either a cron schedule or interval_seconds")
    if cron is not None and (len(cron.split()) not in (5, 6) or not croniter.is_valid(cron)):
        raise BadSchedule("schedule", f"{cron!r} is not a cron expression (5 or 6 fields)")


def next_after(
    moment: datetime, cron: str | None, interval_seconds: int | None, timezone: str
) -> datetime:
    """The first time the schedule fires after ``moment`` (UTC in, UTC out)."""
    if interval_seconds is not None or cron is None:
        return moment + timedelta(seconds=interval_seconds or 60)
    local = moment.astimezone(zone(timezone))
    following: datetime = croniter(cron, local).get_next(datetime)
    return following.astimezone(moment.tzinfo)


def missed(due: datetime, now: datetime | None = None) -> bool:
    """Whether a run due at ``due`` was missed (the server was down), not just late."""
    return (now or utcnow()) - due > GRACE
