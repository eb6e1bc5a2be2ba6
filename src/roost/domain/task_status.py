"""A task's status. A task that never ran is ``pending``; while its turn is active the
task is what its turn is (``queued``, ``running``, ``waiting``); once the turn ends the
task keeps how it ended: ``completed`` (the agent reported success), ``failed`` (it
reported failure, ended without a report, or the turn failed), ``stopped`` (cancelled)
or ``interrupted`` (a restart stopped it). The store writes ``active`` for a task whose
turn speaks for it.
"""

from enum import StrEnum

from roost.domain.turn_status import TurnStatus


class TaskStatus(StrEnum):
    PENDING = "pending"
    QUEUED = "queued"
    RUNNING = "running"
    WAITING = "waiting"
    COMPLETED = "completed"
    FAILED = "failed"
    STOPPED = "stopped"
    INTERRUPTED = "interrupted"


ACTIVE = "active"  # stored while the task's turn is queued, running or waiting
FROM_TURN = frozenset({TaskStatus.QUEUED, TaskStatus.RUNNING, TaskStatus.WAITING})
TURN_SHOWN = frozenset({TurnStatus.QUEUED, TurnStatus.RUNNING, TurnStatus.WAITING})
FINISHED = frozenset(
    {TaskStatus.COMPLETED, TaskStatus.FAILED, TaskStatus.STOPPED, TaskStatus.INTERRUPTED}
)


def shown(stored: str, turn_status: TurnStatus | None) -> TaskStatus:
    """The status a client sees, from the stored one and the task's turn's."""
    if stored != ACTIVE:
        return TaskStatus(stored)
    if turn_status is None:
        return TaskStatus.QUEUED  # claimed by a start whose turn is being made
    if turn_status not in TURN_SHOWN:
        # A turn's end settles its task in the same transaction: not seen, but if it
        # were, the task stopped without hearing how.
        return TaskStatus.INTERRUPTED
    return TaskStatus(turn_status.value)


def ended(turn_status: TurnStatus, success: bool) -> TaskStatus:
    """How a task ends when its turn ends so."""
    if turn_status == TurnStatus.COMPLETED:
        return TaskStatus.COMPLETED if success else TaskStatus.FAILED
    return {
        TurnStatus.CANCELLED: TaskStatus.STOPPED,
        TurnStatus.INTERRUPTED: TaskStatus.INTERRUPTED,
    }.get(turn_status, TaskStatus.FAILED)
