"""Starting a queued turn: one transaction that marks it running, stores its user
message (or moves the one stored while it was queued to the end of history), with the
empty answer the model's first reply streams into, logs ``turn_start`` and reads the
history the model is sent. A turn that waited on the user goes on here too.
"""

from dataclasses import dataclass
from datetime import datetime
from typing import Any

from sqlalchemy import delete, select, update

from roost import ids
from roost.clock import utcnow
from roost.domain.events import Event, Payload, Status, TurnStart
from roost.domain.turn_status import TurnStatus
from roost.engine.providers.catalogue import context_window
from roost.services.turns.history import within_window
from roost.services.turns.sink import add_empty_answer
from roost.store.db import Database
from roost.store.messages import QUEUED, in_conversation
from roost.store.models import Message, Session, Turn, TurnEvent, TurnInput
from roost.store.turns import TurnRepo


@dataclass
class Marked:
    """A turn just marked running, with what its run needs to begin."""

    turn: Turn
    session: Session
    history: list[Message]
    left_out: bool
    start: Event
    responses: dict[str, dict[str, Any]] | None  # set when a waiting turn goes on
    answer_id: str | None  # the empty answer made with the start, for the first model call


async def mark_running(database: Database, turn_id: str) -> Marked | None:
    """Start a queued turn in one transaction: its user message, its status and
    ``turn_start``; with the history the model will read. A turn that waited on the
    user goes on instead, with the user's responses."""
    async with database.write() as db:
        turn = await TurnRepo(db).get(turn_id)
        if turn is None or turn.status != TurnStatus.QUEUED:
            return None
        if await TurnRepo(db).waiting_before(turn):
            return None  # held: it is submitted again once the waiting turn moves on
        session = await db.get(Session, turn.session_id)
        assert session is not None  # deleting a session deletes its turns
        responses = None
        if turn.options.get("resuming"):
            turn.attempt += 1  # fences off any writer left from before the wait
            turn.options = {k: v for k, v in turn.options.items() if k != "resuming"}
            responses = await _responses(db, turn.id)
        else:
            await _drop_rolled_back(db, turn)
            if turn.user_message_id is None and turn.options.get("content") is not None:
                turn.user_message_id = add_user_message(db, session, turn)
            elif turn.kind == "message":
                await _take_off_queue(db, session, turn)
        now = utcnow()
        turn.status, turn.started_at = TurnStatus.RUNNING, turn.started_at or now
        session.status, session.updated_at = "running", now
        history, left_out = await history_of(db, turn)
        start = _log_start(db, turn, now, resuming=responses is not None)
        # The first answer's empty message joins this transaction, one fewer before
        # the model is called; not when the turn continues an answer or goes on after a
        # wait, nor when history must be summarised first (the summary comes before it).
        fresh = responses is None and not turn.options.get("continue_message_id")
        answer_id = add_empty_answer(db, turn, session) if fresh and not left_out else None
    return Marked(turn, session, history, left_out, start, responses, answer_id)


async def history_of(db: Any, turn: Turn) -> tuple[list[Message], bool]:
    """The messages the model is sent, and whether older ones did not fit."""
    query = (
        select(Message)
        .where(Message.session_id == turn.session_id, in_conversation())
        .order_by(Message.id)
    )
    messages = list((await db.execute(query)).scalars().all())
    if turn.options.get("continue_message_id"):
        until = turn.options["continue_message_id"]
        messages = [m for m in messages if m.id <= until]
    return within_window(messages, context_window((turn.model or "").partition("/")[2]))


def _log_start(db: Any, turn: Turn, now: datetime, *, resuming: bool) -> Event:
    """``turn_start`` (or, for a turn going on after a wait, a ``resumed`` status),
    written in the transaction that starts the turn."""
    payload: Payload = TurnStart(
        message_id=turn.options.get("continue_message_id") or turn.user_message_id,
        model=turn.model,
        agent=turn.agent,
        kind=turn.kind,
    )
    if resuming:
        payload = Status(status="resumed", message="Going on with your answers")
    event = Event(turn.id, turn.session_id, turn.last_seq + 1, payload.type, now, payload.body())
    db.add(TurnEvent(turn_id=turn.id, seq=event.seq, type=event.type, data=event.data, ts=now))
    turn.last_seq = event.seq
    return event


def add_user_message(db: Any, session: Session, turn: Turn, *, status: str = "completed") -> str:
    """The turn's user message, from what its request brought; ``status`` is
    :data:`QUEUED` for one stored as it is accepted behind another turn."""
    content = str(turn.options.get("content", ""))
    parts: list[dict[str, Any]] = [{"type": "text", "text": content}] if content else []
    parts += turn.options.get("attachments") or []
    message = Message(
        id=ids.new_id("msg"),
        session_id=session.id,
        turn_id=turn.id,
        role="user",
        content=content,
        parts=parts,
        status=status,
    )
    db.add(message)
    session.message_count += 1
    session.last_activity_at = utcnow()
    return message.id


async def _take_off_queue(db: Any, session: Session, turn: Turn) -> None:
    """A message stored when it was queued moves to the end of history as its turn starts:
    ids order history, and the answers it waited behind came after it was stored. Should
    it have gone meanwhile (history replaced), the turn's request brings it back."""
    moved = ids.new_id("msg")
    result = await db.execute(
        update(Message)
        .where(Message.id == turn.user_message_id, Message.status == QUEUED)
        .values(id=moved, status="completed")
    )
    if result.rowcount:
        turn.user_message_id = moved
    else:
        turn.user_message_id = add_user_message(db, session, turn)


async def _drop_rolled_back(db: Any, turn: Turn) -> None:
    """``on_busy=rollback``: the stopped turns and all they produced go."""
    for old in turn.options.get("rollback") or []:
        removed = await db.execute(delete(Message).where(Message.turn_id == old))
        session = await db.get(Session, turn.session_id)
        session.message_count = max(0, session.message_count - (removed.rowcount or 0))
        await TurnRepo(db).delete(old)


async def _responses(db: Any, turn_id: str) -> dict[str, dict[str, Any]]:
    """The user's answered requests of a turn, by the call they answer (the newest answer
    for a call id that came back in a later wait)."""
    query = (
        select(TurnInput)
        .where(TurnInput.turn_id == turn_id, TurnInput.status == "answered")
        .order_by(TurnInput.id)
    )
    return {row.call_id: row.response or {} for row in (await db.execute(query)).scalars()}
