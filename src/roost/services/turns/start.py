"""Starting a turn: one transaction that marks it running, stores its user message (or
moves the one stored while it was queued to the end of history), with the empty answer
the model's first reply streams into, logs ``turn_start`` and reads what the run needs
(the history the model is sent, whether its owner is an admin). A turn whose session is
idle starts in the transaction that creates it (:func:`begin`); a queued one when its
go comes (:func:`mark_running`); a turn that waited on the user goes on here too.
"""

from dataclasses import dataclass
from datetime import datetime
from typing import Any

from sqlalchemy.ext.asyncio import AsyncSession

from roost import ids
from roost.clock import utcnow
from roost.domain.events import Event, Payload, Status, TurnStart
from roost.domain.turn_status import TurnStatus
from roost.engine.providers.catalogue import context_window
from roost.services.turns.history import within_window
from roost.services.turns.sink import add_empty_answer
from roost.store.db import Database
from roost.store.messages import MessageRepo, UncheckedMessages
from roost.store.models import Message, Session, Turn
from roost.store.sessions import UncheckedSessions
from roost.store.turn_inputs import TurnInputRepo
from roost.store.turns import EventRepo, TurnRepo
from roost.store.users import UserRepo

# Turns that answer an existing message rather than bring a new one.
REWRITES = frozenset({"regenerate", "continue", "edit"})


def brings_message(kind: str) -> bool:
    """Whether a turn of ``kind`` brings a new user message (a message, a task's prompt)."""
    return kind not in REWRITES


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
    admin: bool  # whether the session's owner is an admin (admin-only tools)


async def mark_running(database: Database, turn_id: str) -> Marked | None:
    """Start a queued turn in one transaction: its user message, its status and
    ``turn_start``; with the history the model will read. A turn that waited on the
    user goes on instead, with the user's responses."""
    async with database.write() as db:
        turns = TurnRepo(db)
        turn = await turns.get_unchecked(turn_id)
        if turn is None or turn.status != TurnStatus.QUEUED:
            return None
        if await turns.waiting_before(turn):
            return None  # held: it is submitted again once the waiting turn moves on
        session = await UncheckedSessions(db).get(turn.session_id)
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
            elif brings_message(turn.kind):
                await _take_off_queue(db, session, turn)
        return await begin(db, turn, session, responses)


async def begin(
    db: AsyncSession,
    turn: Turn,
    session: Session,
    responses: dict[str, dict[str, Any]] | None = None,
    *,
    asked: bool = False,
    admin: bool | None = None,
) -> Marked:
    """Mark ``turn`` running in the caller's transaction: its user message (``asked``:
    made here; else already stored), ``turn_start`` and what the run needs (``admin``
    when the caller knows). History is read before the new rows are added, so that they
    all go to the store in one flush at commit."""
    now = utcnow()
    turn.status, turn.started_at = TurnStatus.RUNNING, turn.started_at or now
    turn.last_seq += 1  # turn_start's, logged below
    asking = user_message(session, turn) if asked else None
    if asking is not None:
        turn.user_message_id = asking.id
    history, left_out = await history_of(db, turn, asking)
    if asking is not None:
        _store_user_message(db, session, asking)
    session.status, session.updated_at = "running", now
    start = _log_start(db, turn, now, resuming=responses is not None)
    # The first answer's empty message joins this transaction, one fewer before the
    # model is called; not when the turn continues an answer or goes on after a wait,
    # nor when history must be summarised first (the summary comes before it).
    fresh = responses is None and not turn.options.get("continue_message_id")
    answer_id = add_empty_answer(db, turn, session) if fresh and not left_out else None
    if admin is None:
        owner = await UserRepo(db).get(session.owner_id)
        admin = owner is not None and owner.is_admin
    return Marked(turn, session, history, left_out, start, responses, answer_id, admin)


async def history_of(
    db: AsyncSession, turn: Turn, asking: Message | None = None
) -> tuple[list[Message], bool]:
    """The messages the model is sent (with ``asking``, the user's message not yet
    stored), and whether older ones did not fit."""
    messages = await MessageRepo(db, turn.session_id).conversation()
    if asking is not None:
        messages.append(asking)
    if turn.options.get("continue_message_id"):
        until = turn.options["continue_message_id"]
        messages = [m for m in messages if m.id <= until]
    return within_window(messages, context_window((turn.model or "").partition("/")[2]))


def _log_start(db: AsyncSession, turn: Turn, now: datetime, *, resuming: bool) -> Event:
    """``turn_start`` (or, for a turn going on after a wait, a ``resumed`` status),
    written in the transaction that starts the turn, at the seq :func:`begin` kept."""
    payload: Payload = TurnStart(
        message_id=turn.options.get("continue_message_id") or turn.user_message_id,
        model=turn.model,
        agent=turn.agent,
        kind=turn.kind,
    )
    if resuming:
        payload = Status(status="resumed", message="Going on with your answers")
    event = Event.of(turn.id, turn.session_id, turn.last_seq, payload, now)
    EventRepo(db).add(event)
    return event


def add_user_message(
    db: AsyncSession, session: Session, turn: Turn, *, status: str = "completed"
) -> str:
    """The turn's user message, from what its request brought; ``status`` is
    :data:`QUEUED` for one stored as it is accepted behind another turn."""
    return _store_user_message(db, session, user_message(session, turn, status=status))


def _store_user_message(db: AsyncSession, session: Session, message: Message) -> str:
    """Add the user's message to the session, counted, as its latest activity."""
    MessageRepo(db, session.id).add(message)
    session.message_count += 1
    session.last_activity_at = utcnow()
    return message.id


def user_message(session: Session, turn: Turn, *, status: str = "completed") -> Message:
    """The turn's user message, not yet stored."""
    content = str(turn.options.get("content", ""))
    parts: list[dict[str, Any]] = [{"type": "text", "text": content}] if content else []
    parts += turn.options.get("attachments") or []
    return Message(
        id=ids.new_id("msg"),
        session_id=session.id,
        turn_id=turn.id,
        role="user",
        content=content,
        parts=parts,
        status=status,
    )


async def _take_off_queue(db: AsyncSession, session: Session, turn: Turn) -> None:
    """A message stored when it was queued moves to the end of history as its turn starts:
    ids order history, and the answers it waited behind came after it was stored. Should
    it have gone meanwhile (history replaced), the turn's request brings it back."""
    moved = ids.new_id("msg")
    queued = turn.user_message_id
    if queued is not None and await UncheckedMessages(db).dequeue(queued, moved):
        turn.user_message_id = moved
    else:
        turn.user_message_id = add_user_message(db, session, turn)


async def _drop_rolled_back(db: AsyncSession, turn: Turn) -> None:
    """``on_busy=rollback``: the stopped turns and all they produced go."""
    for old in turn.options.get("rollback") or []:
        removed = await UncheckedMessages(db).delete_of_turn(old)
        session = await UncheckedSessions(db).get(turn.session_id)
        assert session is not None  # deleting a session deletes its turns
        session.message_count = max(0, session.message_count - removed)
        await TurnRepo(db).delete(old)


async def _responses(db: AsyncSession, turn_id: str) -> dict[str, dict[str, Any]]:
    """The user's answered requests of a turn, by the call they answer (the newest answer
    for a call id that came back in a later wait)."""
    return {row.call_id: row.response or {} for row in await TurnInputRepo(db).answered(turn_id)}
