"""Ending turns that no runner is finishing: cancelled before they ran, or left
behind by a process that stopped."""

from collections.abc import Collection

from sqlalchemy.ext.asyncio import AsyncSession

from roost.bus.base import EventBus
from roost.clock import utcnow
from roost.domain.events import Done, Error, Usage
from roost.domain.turn_status import TurnStatus
from roost.errors import ApiError
from roost.services.turns.event_log import log_with
from roost.services.turns.owners import Ending, TurnOwners
from roost.store.db import Database
from roost.store.messages import UncheckedMessages
from roost.store.models import Turn
from roost.store.sessions import UncheckedSessions
from roost.store.turn_inputs import TurnInputRepo
from roost.store.turns import EventRepo, TurnRepo


async def end_turn(
    database: Database,
    bus: EventBus,
    owners: TurnOwners,
    turn_id: str,
    status: TurnStatus,
    *,
    only_if: Collection[TurnStatus],
    error: ApiError | None = None,
) -> bool:
    """End a turn that no runner is finishing: keep what it streamed, close its log.

    Used for turns cancelled before they ran, for turns a stopped process left behind
    and for turns that failed to start (``error`` says why, in the stream's ``error``
    event); the attempt is bumped so that a writer still holding the old one is fenced.
    """
    async with database.write() as db:
        turn = await TurnRepo(db).get_unchecked(turn_id)
        if turn is None or turn.status not in only_if:
            return False
        now = utcnow()
        turn.attempt += 1
        turn.status, turn.finished_at = status, now
        failure = error_event(error) if error is not None else None
        turn.error = failure.body() if failure is not None else turn.error
        # A turn stopped while waiting has spent what it spent before the wait.
        usage = {"input_tokens": 0, "output_tokens": 0, "total_tokens": 0} | (turn.usage or {})
        turn.usage = usage
        message_id = await _keep_partial_answer(db, turn, status.value)
        await _drop_queued_message(db, turn)
        await close_inputs(db, turn.id)
        await settle_session(db, turn.session_id)
        # Every log ends usage, then done.
        done = Done(status=status, message_id=message_id, usage=usage, iterations=turn.iterations)
        closing = [Usage(**usage), done] if failure is None else [failure, Usage(**usage), done]
        events = log_with(db, turn, closing, now)
        body = failure.body() if failure is not None else None
        ending = Ending(status, turn.iterations, body, usage=usage)
        await owners.ended(db, turn, ending)
        session = await UncheckedSessions(db).get(turn.session_id)
    for event in events:
        await bus.publish(event)
    await owners.after_end(turn, session.owner_id if session is not None else "")
    return True


def error_event(error: ApiError) -> Error:
    """A turn's failure as its stream tells it and its ``error`` keeps it: the class's
    code, message and details (left out when it has none)."""
    details = {"details": error.details} if error.details else {}
    return Error(code=error.code, message=error.message, **details)


async def close_inputs(db: AsyncSession, turn_id: str) -> None:
    """Questions and approvals of a turn that ended can no longer be answered."""
    await TurnInputRepo(db).close_pending(turn_id)


async def _keep_partial_answer(db: AsyncSession, turn: Turn, status: str) -> str | None:
    """The answer being streamed when the turn stopped, rebuilt from its text events."""
    events = await EventRepo(db).of_types(turn.id, ["text", "tool_result"])
    text: list[str] = []
    for event in events:
        if event.type == "tool_result":
            text = []
        else:
            text.append(str(event.data.get("content", "")))
    message_id = None
    for message in await UncheckedMessages(db).streaming(turn.id):
        message.content = message.content or "".join(text)
        message.parts = [{"type": "text", "text": message.content}] if message.content else []
        message.status = status
        message_id = message.id
    return message_id


async def _drop_queued_message(db: AsyncSession, turn: Turn) -> None:
    """A message still queued never reached the model: it leaves history with its turn,
    rather than stay where it was stored, among the answers it waited behind."""
    removed = await UncheckedMessages(db).delete_queued(turn.id)
    if removed:
        turn.user_message_id = None
        await UncheckedSessions(db).uncount_messages(turn.session_id, removed)


async def settle_session(db: AsyncSession, session_id: str) -> None:
    """A session is idle once none of its turns is queued, running or waiting."""
    if not list(await TurnRepo(db).active(session_id)):
        await UncheckedSessions(db).set_idle(session_id)
