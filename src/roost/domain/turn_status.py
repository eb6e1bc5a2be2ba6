"""A turn's status and the moves between them (API.md: ``queued → running →
completed | cancelled | failed | interrupted``, with ``waiting`` while it asks the user).

Every change of a turn's status is checked here, whether made on a loaded row (the
model's validator) or by an update statement (``TurnRepo.set_fields``): a move the
table does not allow is a bug of Roost's own, raised rather than stored.
"""

from collections.abc import Mapping
from enum import StrEnum


class TurnStatus(StrEnum):
    QUEUED = "queued"
    RUNNING = "running"
    WAITING = "waiting"
    COMPLETED = "completed"
    CANCELLED = "cancelled"
    FAILED = "failed"
    INTERRUPTED = "interrupted"


# A waiting turn (for an answer or an approval) still holds its session; it has no
# task, so unlike a running one it survives a restart.
ACTIVE = frozenset({TurnStatus.QUEUED, TurnStatus.RUNNING, TurnStatus.WAITING})
RUNNABLE = frozenset({TurnStatus.QUEUED, TurnStatus.RUNNING})
TERMINAL = frozenset(
    {TurnStatus.COMPLETED, TurnStatus.CANCELLED, TurnStatus.FAILED, TurnStatus.INTERRUPTED}
)

TRANSITIONS: Mapping[TurnStatus, frozenset[TurnStatus]] = {
    # Started; cancelled or stopped by a shutdown before it ran; failed while starting.
    TurnStatus.QUEUED: frozenset(
        {TurnStatus.RUNNING, TurnStatus.CANCELLED, TurnStatus.FAILED, TurnStatus.INTERRUPTED}
    ),
    # Asks the user something, or ends.
    TurnStatus.RUNNING: frozenset({TurnStatus.WAITING} | TERMINAL),
    # Answered (queued to go on), or cancelled; it has no task a shutdown could stop.
    TurnStatus.WAITING: frozenset({TurnStatus.QUEUED, TurnStatus.CANCELLED}),
    **{ended: frozenset() for ended in TERMINAL},
}


class IllegalTransition(RuntimeError):
    """A status change the table does not allow: a fault in Roost, not in a request."""


def transition(current: str | None, to: str) -> TurnStatus:
    """``to`` as a :class:`TurnStatus` if a turn in ``current`` may move there (``None``:
    a new turn, which starts queued); raises :class:`IllegalTransition` otherwise."""
    target = TurnStatus(to)
    allowed = {TurnStatus.QUEUED} if current is None else TRANSITIONS[TurnStatus(current)]
    if target not in allowed:
        raise IllegalTransition(f"a turn cannot go from {current} to {target}")
    return target


def sources(to: TurnStatus) -> frozenset[TurnStatus]:
    """The statuses a turn may move to ``to`` from."""
    return frozenset(status for status, targets in TRANSITIONS.items() if to in targets)
