"""Turns: start one (message, regenerate, continue, edit), follow it, cancel it."""

from collections.abc import AsyncGenerator, AsyncIterator
from dataclasses import dataclass, field
from functools import partial
from typing import Any, Literal

from sqlalchemy.ext.asyncio import AsyncSession

from roost import ids
from roost.bus.base import EventBus, TurnQueue
from roost.clock import utcnow
from roost.config import Settings
from roost.domain.events import Event
from roost.domain.turn_status import ACTIVE, RUNNABLE, TurnStatus
from roost.engine.providers.registry import ListNeeded, ProviderRegistry
from roost.errors import (
    InvalidRequest,
    MessageNotFound,
    TurnInProgress,
    TurnNotFound,
)
from roost.services.agents import AgentService
from roost.services.caller import Caller
from roost.services.cursors import anchor
from roost.services.turns.compaction import compact, fork
from roost.services.turns.endings import end_turn
from roost.services.turns.event_log import follow_batches
from roost.services.turns.owners import TurnOwners
from roost.services.turns.start import Marked, add_user_message, begin, brings_message
from roost.services.user_settings import SettingsService, UserDefaults
from roost.store.db import Database
from roost.store.messages import QUEUED, MessageRepo, UncheckedMessages
from roost.store.models import Agent, Message, Session, Turn
from roost.store.paging import Page
from roost.store.sessions import SessionRepo
from roost.store.turns import EventRepo, TurnRepo, event_of

OnBusy = Literal["reject", "enqueue", "interrupt", "rollback"]


@dataclass(frozen=True)
class TurnRequest:
    """How a new turn should run; ``content`` is the user's message, if it brings one."""

    content: str | None = None
    attachments: list[dict[str, Any]] = field(default_factory=list)
    agent: str | None = None
    model: str | None = None
    generate_title: bool = False
    on_busy: OnBusy = "reject"
    tools: bool = True
    # Added to the system prompt for this turn only (an OpenAI client's system messages).
    instructions: str | None = None
    # What a client asked to be kept with the turn and shown back (the Responses API's
    # metadata and background flag).
    client: dict[str, Any] | None = None
    # Who the turn runs for, when not the user's chat: {"kind": "task", "id": "task_…"}
    # (see owners.py); the kind is the turn's.
    owner: dict[str, str] | None = None


class TurnService:
    def __init__(
        self,
        database: Database,
        bus: EventBus,
        queue: TurnQueue,
        user_settings: SettingsService,
        settings: Settings,
        owners: TurnOwners,
        agents: AgentService,
    ) -> None:
        self.database = database
        self.bus = bus
        self.queue = queue
        self.user_settings = user_settings
        self.settings = settings
        self.owners = owners
        self.agents = agents

    async def send(self, caller: Caller, session_id: str, request: TurnRequest) -> Turn:
        """Start a turn answering a new user message."""
        if not (request.content or "").strip() and not request.attachments:
            raise InvalidRequest("Message content is empty", details={"field": "content"})
        kind = request.owner["kind"] if request.owner else "message"
        return await self._start(caller, session_id, request, kind=kind)

    async def regenerate(self, caller: Caller, session_id: str, request: TurnRequest) -> Turn:
        """Replace the last answer: drop what followed the last user message, answer it anew."""
        return await self._start(caller, session_id, request, kind="regenerate")

    async def continue_answer(self, caller: Caller, session_id: str, request: TurnRequest) -> Turn:
        """Carry on an answer that the token limit cut short, in the same message."""
        return await self._start(caller, session_id, request, kind="continue")

    async def edit(
        self,
        caller: Caller,
        session_id: str,
        message_ref: str,
        content: str,
        request: TurnRequest | None,
    ) -> tuple[Message, Turn | None]:
        """Change a user message, drop everything after it, and answer it again if asked."""
        if not content.strip():
            raise InvalidRequest("Message content is empty", details={"field": "content"})
        async with self.database.write() as db:
            session = await SessionRepo(db, caller).get(session_id)
            await self._refuse_busy(db, session.id)
            message = await _find_message(MessageRepo(db, session.id), message_ref)
            if message.role != "user":
                raise InvalidRequest(
                    "Only user messages can be edited", details={"message_id": message.id}
                )
            message.content = content
            message.parts = [p for p in message.parts or [] if p.get("type") != "text"] + [
                {"type": "text", "text": content}
            ]
            await _drop_after(db, session, message.id)
        if request is None:
            return message, None
        turn = await self._start(caller, session_id, request, kind="edit", answering=message.id)
        return message, turn

    async def cancel_current(self, caller: Caller, session_id: str) -> list[Turn]:
        """Cancel the running turn and any queued after it; durable before anything stops."""
        async with self.database.write() as db:
            session = await SessionRepo(db, caller).get(session_id)
            active = list(await TurnRepo(db).active(session.id))
            for turn in active:
                turn.cancel_requested = True
        for turn in active:
            await self._stop(turn)
        return active

    async def cancel(self, caller: Caller, session_id: str, turn_id: str) -> Turn:
        """Cancel one turn of the session, if it is still active; returns it as it was."""
        async with self.database.write() as db:
            session = await SessionRepo(db, caller).get(session_id)
            turn = await TurnRepo(db).in_session(session, turn_id)
            if turn.status in ACTIVE:
                turn.cancel_requested = True
        if turn.status in ACTIVE:
            await self._stop(turn)
        return turn

    async def wait(self, turn_id: str) -> None:
        """Until no task of this process runs the turn."""
        await self.queue.wait(turn_id)

    async def stop_all(self, caller: Caller, session_id: str) -> None:
        """Cancel the session's turns and wait until none runs (before deleting it)."""
        for turn in await self.cancel_current(caller, session_id):
            await self.queue.wait(turn.id)

    async def compact(
        self, caller: Caller, session_id: str, *, keep_last: int
    ) -> tuple[Message, int] | None:
        """Summarise older history now (it also happens on its own when history outgrows
        the model's window)."""
        async with self.database.read() as db:
            session = await SessionRepo(db, caller).get(session_id)
            await self._refuse_busy(db, session.id)
            agent = await self.agents.resolve(db, session.owner_id, session.agent)
        providers = await self.user_settings.providers_for(caller.user_id)
        resolved = await providers.resolve(session.model or agent.model)
        return await compact(
            self.database, resolved.provider, resolved.model, session.id, keep_last=keep_last
        )

    async def fork(
        self, caller: Caller, session_id: str, *, until: str | None, title: str | None
    ) -> Session:
        """A new session holding this one's history up to ``until`` (all of it by default)."""
        async with self.database.read() as db:
            session = await SessionRepo(db, caller).get(session_id)
        if until is not None and not ids.is_valid("msg", until):
            raise MessageNotFound(until)
        return await fork(self.database, session, caller.user_id, until, title)

    async def get(self, caller: Caller, session_id: str, turn_id: str) -> Turn:
        async with self.database.read() as db:
            session = await SessionRepo(db, caller).get(session_id)
            return await TurnRepo(db).in_session(session, turn_id)

    async def find(self, caller: Caller, turn_id: str) -> Turn:
        """A turn of the caller's by its id alone; another user's is not found."""
        async with self.database.read() as db:
            valid = ids.is_valid("turn", turn_id)
            turn = await TurnRepo(db).get_unchecked(turn_id) if valid else None
            if turn is None or await SessionRepo(db, caller).find(turn.session_id) is None:
                raise TurnNotFound(turn_id)
            return turn

    async def logged(self, caller: Caller, turn_id: str) -> tuple[Turn, list[Event]]:
        """A turn of the caller's and the events it has logged so far, without waiting
        (the turn read first: a ``done`` among the events is newer than its status)."""
        turn = await self.find(caller, turn_id)
        logged: list[Event] = []
        async with self.database.read() as db:
            events = EventRepo(db)
            while batch := await events.after(turn.id, logged[-1].seq if logged else 0):
                logged += [event_of(row, turn.session_id) for row in batch]
        return turn, logged

    async def page(
        self, caller: Caller, session_id: str, *, limit: int, before: str | None
    ) -> Page[Turn]:
        async with self.database.read() as db:
            session = await SessionRepo(db, caller).get(session_id)
            turns = TurnRepo(db)
            if before is not None:
                await anchor(partial(turns.find_in_session, session), "before", before)
            items, more = await turns.page(session.id, limit=limit, before=before)
        return Page(items, more, items[-1].id if more and items else None)

    async def events(
        self, caller: Caller, session_id: str, turn_id: str, *, after: int = 0
    ) -> AsyncIterator[list[Event]]:
        """The turn's events after ``after``, then live until ``done``, in batches.

        Events are stored before anyone sees them, so a cursor past the last stored one
        names nothing a reader was sent: refused rather than followed."""
        turn = await self.get(caller, session_id, turn_id)
        if after > turn.last_seq:
            raise InvalidRequest(
                f"Cursor after={after} is past the turn's last event ({turn.last_seq})",
                details={"field": "after", "cursor": after, "last_seq": turn.last_seq},
            )
        return self.follow(session_id, turn_id, after=after)

    def follow(
        self, session_id: str, turn_id: str, *, after: int = 0
    ) -> AsyncGenerator[list[Event], None]:
        """A turn's events, for a caller already known to own it (it just started it)."""
        return follow_batches(
            self.database,
            self.bus,
            turn_id,
            session_id,
            after=after,
            heartbeat_seconds=self.settings.heartbeat_seconds,
        )

    async def outcome(self, turn_id: str) -> tuple[Turn, Message | None, Message | None]:
        """After ``done``: the turn, its user message and its final answer."""
        async with self.database.read() as db:
            turn = await TurnRepo(db).get_unchecked(turn_id)
            if turn is None:
                raise TurnNotFound(turn_id)
            done = [e for e in await EventRepo(db).of_types(turn_id, ["done"])]
            reply_id = done[-1].data.get("message_id") if done else None
            messages = UncheckedMessages(db)
            asked = await messages.get(turn.user_message_id) if turn.user_message_id else None
            reply = await messages.get(reply_id) if reply_id else None
        return turn, asked, reply

    async def recover(self) -> int:
        """At start-up: turns a stopped process was running are interrupted, their partial
        answers kept and their logs ended with ``done``; the turns queued behind them
        (accepted, their messages stored) run, in the order they were sent. Returns how
        many were interrupted."""
        async with self.database.read() as db:
            stranded = list(await TurnRepo(db).with_status(RUNNABLE))
        running = [turn for turn in stranded if turn.status == TurnStatus.RUNNING]
        queued = [turn for turn in stranded if turn.status == TurnStatus.QUEUED]
        for turn in running:
            await self._interrupt(turn.id)
        for turn in queued:
            if turn.cancel_requested:  # cancelled, but not yet ended when the process stopped
                await self._stop(turn)
            else:
                self.queue.submit(turn.session_id, turn.id)
        return len(running)

    async def _start(
        self,
        caller: Caller,
        session_id: str,
        request: TurnRequest,
        *,
        kind: str,
        answering: str | None = None,
    ) -> Turn:
        defaults = await self.user_settings.defaults(caller.user_id)
        providers = self.user_settings.providers.with_overrides(defaults.provider_settings())
        try:
            turn, busy, marked = await self._create(
                caller, session_id, request, kind, answering, providers, defaults
            )
        except ListNeeded:
            # The model's provider must first be asked what it serves: not while the
            # session is locked. Then the list is at hand.
            async with self.database.read() as db:
                session = await SessionRepo(db, caller).get(session_id)
                agent = await self.agents.resolve(db, session.owner_id, _agent_of(request, session))
            await providers.resolve(_wanted(request, session, agent, defaults))
            turn, busy, marked = await self._create(
                caller, session_id, request, kind, answering, providers, defaults
            )
        for old in busy if request.on_busy in ("interrupt", "rollback") else []:
            await self._stop(old)
        self.queue.submit(turn.session_id, turn.id, marked)
        if marked is not None:
            await self.bus.publish(marked.start)  # committed with the turn
        self.owners.started(turn, caller.user_id)
        return turn

    async def _create(
        self,
        caller: Caller,
        session_id: str,
        request: TurnRequest,
        kind: str,
        answering: str | None,
        providers: ProviderRegistry,
        defaults: UserDefaults,
    ) -> tuple[Turn, list[Turn], Marked | None]:
        """The turn, in one transaction; when the session is idle, started in it too (the
        model resolved from what is at hand: :class:`ListNeeded` when it is not). Returns
        the turn, the busy turns it found and, if started, what its run needs."""
        async with self.database.write() as db:
            session = await SessionRepo(db, caller).get(session_id, for_update=True)
            agent = await self.agents.resolve(db, session.owner_id, _agent_of(request, session))
            wanted = _wanted(request, session, agent, defaults)
            resolved = await providers.resolve(wanted, offline=True)
            options: dict[str, Any] = {
                "generate_title": request.generate_title,
                "tools": request.tools,
            }
            asked = brings_message(kind)
            if asked:
                options |= {"content": request.content or "", "attachments": request.attachments}
            if request.owner is not None:
                options["owner"] = request.owner
            if request.instructions:
                options["instructions"] = request.instructions
            if request.client:
                options["client"] = request.client
            busy = list(await TurnRepo(db).active(session.id))
            if busy and (not asked or request.on_busy == "reject"):
                raise TurnInProgress(busy[0].id, busy[0].session_id)
            if busy and request.on_busy in ("interrupt", "rollback"):
                for old in busy:
                    old.cancel_requested = True
                if request.on_busy == "rollback":
                    options["rollback"] = [old.id for old in busy]
            if kind == "regenerate":
                answering = await _last_user_message(MessageRepo(db, session.id))
                await _drop_after(db, session, answering)
            elif kind == "continue":
                options["continue_message_id"] = await _last_answer(MessageRepo(db, session.id))
            turn = Turn(
                id=ids.new_id("turn"),
                session_id=session.id,
                status=TurnStatus.QUEUED,
                kind=kind,
                agent=agent.name,
                agent_id=agent.id,
                agent_version=agent.version,
                model=resolved.ref,
                user_message_id=answering,
                options=options,
                last_seq=0,
            )
            TurnRepo(db).add(turn)
            marked = None
            if not busy:
                # The session is idle: the turn starts in this very transaction.
                admin = caller.is_admin if session.owner_id == caller.user_id else None
                marked = await begin(db, turn, session, asked=asked, admin=admin)
            else:
                session.status, session.updated_at = "running", utcnow()
            if busy and request.on_busy == "enqueue":
                # Stored as it is accepted, so that a 202 is never lost with the process;
                # shown queued in history until its turn starts.
                await db.flush()  # the message names the turn
                turn.user_message_id = add_user_message(db, session, turn, status=QUEUED)
        return turn, busy, marked

    async def go_on(self, session_id: str, turn_id: str) -> None:
        """Run a turn that waited on the user, then the turns queued behind it."""
        self.queue.submit(session_id, turn_id)
        async with self.database.read() as db:
            held = [t for t in await TurnRepo(db).queued(session_id) if t != turn_id]
        for queued in held:
            self.queue.submit(session_id, queued)

    async def _stop(self, turn: Turn) -> None:
        """Stop a turn whose cancel is recorded: a task running it ends it; one that no
        task runs (queued, waiting on the user, or taken off the queue before its task
        began) is ended here."""
        if not self.queue.cancel(turn.id):
            await end_turn(
                self.database, self.bus, self.owners, turn.id, TurnStatus.CANCELLED, only_if=ACTIVE
            )

    async def _interrupt(self, turn_id: str) -> None:
        await end_turn(
            self.database, self.bus, self.owners, turn_id, TurnStatus.INTERRUPTED, only_if=RUNNABLE
        )

    async def _refuse_busy(self, db: AsyncSession, session_id: str) -> None:
        busy = list(await TurnRepo(db).active(session_id))
        if busy:
            raise TurnInProgress(busy[0].id, busy[0].session_id)


def _agent_of(request: TurnRequest, session: Session) -> str | None:
    """The agent a turn runs: the request's, else its session's (else the default)."""
    return request.agent or session.agent


def _wanted(
    request: TurnRequest, session: Session, agent: Agent, defaults: UserDefaults
) -> str | None:
    """The model a turn asks for: the request's, else its session's, agent's or user's."""
    return request.model or session.model or agent.model or defaults.model


async def _find_message(messages: MessageRepo, ref: str) -> Message:
    """A message by id, or by Floyd's index in the session's history (0 = oldest)."""
    found = await (messages.nth(int(ref)) if ref.isdigit() else messages.find(ref))
    if found is None:
        raise MessageNotFound(ref)
    return found


async def _drop_after(db: AsyncSession, session: Session, message_id: str) -> None:
    removed = await MessageRepo(db, session.id).delete_after(message_id)
    session.message_count = max(0, session.message_count - removed)
    session.updated_at = utcnow()


async def _last_user_message(messages: MessageRepo) -> str:
    found = await messages.last_id_of("user")
    if found is None:
        raise InvalidRequest("There is no message to answer again in this session")
    return found


async def _last_answer(messages: MessageRepo) -> str:
    last = await messages.last()
    if last is None or last.role != "assistant":
        raise InvalidRequest("The session does not end with an answer to continue")
    return str(last.id)
