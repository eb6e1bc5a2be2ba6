"""Running one turn: the store and the event log around the engine's loop.

This is the job the turn queue runs. It starts a queued turn (:mod:`start`: its
user message is created only now, so that an enqueued message lands after the answer
before it), drives :class:`TurnRunner`, and always ends the log with ``done``.
"""

import asyncio
import contextlib
import logging
from collections.abc import Coroutine
from typing import Any

from sqlalchemy.ext.asyncio import AsyncSession

from roost.bus.base import EventBus
from roost.clock import utcnow
from roost.config import Settings
from roost.domain.agents import DEFAULT_AGENT_NAME, AgentDefinition
from roost.domain.events import Done, Payload, Status, Title
from roost.domain.events import Usage as UsageEvent
from roost.domain.turn_status import RUNNABLE, TurnStatus
from roost.engine.providers.base import ProviderError
from roost.engine.runner import (
    InputNeeded,
    Resumed,
    Usage,
)
from roost.engine.skills import as_instructions, for_turn
from roost.engine.tools.registry import ToolRegistry
from roost.errors import ApiError, InternalError, MaxIterationsReached, UpstreamError
from roost.services.agents import AgentService
from roost.services.memories import MemoryService
from roost.services.projects import ProjectService
from roost.services.skills import SkillService
from roost.services.turns.assembly import StartedTurn, assemble
from roost.services.turns.committer import Committer
from roost.services.turns.compaction import compact
from roost.services.turns.endings import end_turn, error_event
from roost.services.turns.event_log import EventWriter
from roost.services.turns.history import split_waiting
from roost.services.turns.owners import Ending, TurnOwners
from roost.services.turns.sink import TurnSink
from roost.services.turns.start import Marked, history_of, mark_running
from roost.services.turns.titles import generate_title
from roost.services.user_settings import SettingsService
from roost.store.db import Database, uninterrupted
from roost.store.models import Message, Turn
from roost.store.sessions import UncheckedSessions
from roost.store.turns import TurnFenced, TurnRepo

log = logging.getLogger("roost.turns")

_FAILED = "The turn failed"
_NOTHING_TO_RESUME = "The turn waited on calls that are no longer in its history"


class TurnExecutor:
    def __init__(
        self,
        database: Database,
        bus: EventBus,
        user_settings: SettingsService,
        skills: SkillService,
        tools: ToolRegistry,
        projects: ProjectService,
        settings: Settings,
        owners: TurnOwners,
        agents: AgentService,
        memories: MemoryService,
    ) -> None:
        self.database = database
        self.bus = bus
        self.committer = Committer(database)
        self.user_settings = user_settings
        self.skills = skills
        self.tools = tools
        self.projects = projects
        self.settings = settings
        self.owners = owners
        self.agents = agents
        self.memories = memories
        self._cleanups: set[asyncio.Task[Any]] = set()

    async def drain(self, within: float = 10.0) -> None:
        """Wait for the clean-up of stopped turns, so their last writes land before shutdown."""
        if self._cleanups:
            await asyncio.wait(set(self._cleanups), timeout=within)
        await self.committer.drain()

    async def _clean_up(self, work: Coroutine[Any, Any, Any]) -> None:
        """Run ``work`` to its end even if this turn's task is cancelled again meanwhile."""
        task = asyncio.create_task(work)
        self._cleanups.add(task)
        task.add_done_callback(self._cleanups.discard)
        with contextlib.suppress(TurnFenced):
            await asyncio.shield(task)

    async def __call__(self, turn_id: str, marked: Marked | None = None) -> None:
        """Run a turn: one started by the request that made it comes with ``marked``."""
        try:
            started = await self._begin(turn_id, marked)
        except asyncio.CancelledError:
            # Cancelled while starting: end it here, whatever it had got to.
            await self._clean_up(
                end_turn(
                    self.database,
                    self.bus,
                    self.owners,
                    turn_id,
                    TurnStatus.CANCELLED,
                    only_if=RUNNABLE,
                )
            )
            raise
        except Exception:
            # A fault of Roost's own before the model was called.
            log.exception("turn failed to start", extra={"turn_id": turn_id})
            await self._fail(turn_id)
            return
        if started is None:
            return
        status = TurnStatus.COMPLETED
        error: ApiError | None = None
        try:
            if started.runner is None:
                return
            await started.runner.run(started.resumed)
        except InputNeeded:
            # Waiting is a state of the turn in the store, not a task: end this one.
            await self._clean_up(started.writer.close())
            return
        except asyncio.CancelledError:
            current = asyncio.current_task()
            if current is not None:
                current.uncancel()
            status = TurnStatus.CANCELLED
        except TurnFenced:
            return
        except MaxIterationsReached as reached:
            status, error = TurnStatus.FAILED, reached
        except ProviderError as failure:
            status = TurnStatus.FAILED
            error = UpstreamError(
                failure.message,
                provider=failure.provider,
                status=failure.status,
                retry_after=failure.retry_after,
            )
        except Exception:
            log.exception("turn failed", extra={"turn_id": turn_id})
            status, error = TurnStatus.FAILED, InternalError(_FAILED)
        try:
            await self._finish(started, status, error)
        except Exception:
            log.exception("turn failed to end", extra={"turn_id": turn_id})  # its last writes
            await self._fail(turn_id)

    async def _fail(self, turn_id: str) -> None:
        """End a turn that a fault of Roost's own stopped, as a turn no runner finishes is
        ended: failed, and its readers hear so, rather than a turn left running."""
        await self._clean_up(
            end_turn(
                self.database,
                self.bus,
                self.owners,
                turn_id,
                TurnStatus.FAILED,
                only_if=RUNNABLE,
                error=InternalError(_FAILED),
            )
        )

    async def _begin(self, turn_id: str, marked: Marked | None) -> StartedTurn | None:
        if marked is None:
            marked = await uninterrupted(mark_running(self.database, turn_id))
            if marked is None:
                return None
            await self.bus.publish(marked.start)  # committed with the turn's start
        turn, session, history = marked.turn, marked.session, marked.history
        writer = EventWriter(
            self.database,
            self.bus,
            self.committer,
            turn_id=turn.id,
            session_id=turn.session_id,
            attempt=turn.attempt,
            last_seq=turn.last_seq,
        )
        continuing = turn.options.get("continue_message_id")
        defaults = await self.user_settings.defaults(session.owner_id)
        started = StartedTurn(
            turn,
            session,
            writer,
            TurnSink(writer, turn, continuing, prepared=marked.answer_id),
            defaults,
            self.user_settings.providers.with_overrides(defaults.provider_settings()),
            AgentDefinition(name=turn.agent or DEFAULT_AGENT_NAME),
            admin=marked.admin,
        )
        if turn.cancel_requested:
            await self._finish(started, TurnStatus.CANCELLED, None)
            return None
        try:
            started.agent = await self.agents.definition(
                turn.agent_id, turn.agent_version, turn.agent or DEFAULT_AGENT_NAME
            )
        except ApiError as gone:  # deleted between the turn's start and its run
            await self._finish(started, TurnStatus.FAILED, gone)
            return None
        # The user's message brings in skills by their triggers and memories by its words.
        asked = next((m.content for m in reversed(history) if m.role == "user"), "")
        await self._apply_skills(started, asked, announce=marked.responses is None)
        await self._recall(started, asked, announce=marked.responses is None)
        if marked.responses is not None:
            waiting = split_waiting(history, turn.id)
            if waiting is None:
                await self._finish(started, TurnStatus.FAILED, InternalError(_NOTHING_TO_RESUME))
                return None
            history, answer, results = waiting
            started.resumed = Resumed(answer, results, marked.responses)
        elif marked.left_out:
            history = await self._compact_first(started, history)
        try:
            started.project = await self.projects.for_turn(session.owner_id, session.project_id)
            started.runner = await assemble(
                started, history, tools=self.tools, owners=self.owners, settings=self.settings
            )
        except ApiError as unusable:  # e.g. its provider was removed, its folder moved
            await self._finish(started, TurnStatus.FAILED, unusable)
            return None
        if started.resumed is not None:  # counted on from where the wait began
            started.runner.iterations = turn.iterations
            spent = turn.usage or {}
            started.runner.usage = Usage(
                int(spent.get("input_tokens", 0)), int(spent.get("output_tokens", 0))
            )
        return started

    async def _apply_skills(self, started: StartedTurn, asked: str, *, announce: bool) -> None:
        """Active skills and the agent's join the prompt; a trigger in the user's message
        brings in others."""
        texts = await self.skills.texts(started.session.owner_id)
        chosen, brought = for_turn(texts, asked, also=started.agent.skills)
        started.skill_instructions = as_instructions(chosen)
        for name in brought if announce else []:
            await started.writer.emit(Status(status="skill", message=f"Using skill: {name}"))

    async def _recall(self, started: StartedTurn, asked: str, *, announce: bool) -> None:
        """The memories that best match the user's message join the prompt (unless the
        agent does without), and the stream says how many."""
        if not started.agent.recall_memories:
            return
        recalled = await self.memories.recall_for_turn(
            started.session, asked, budget_tokens=self.settings.memory_context_tokens
        )
        started.memory_instructions = recalled.instructions
        if recalled.count and announce:
            plural = "memory" if recalled.count == 1 else "memories"
            message = f"Recalled {recalled.count} {plural}"
            await started.writer.emit(Status(status="memory", message=message))

    async def _compact_first(self, started: StartedTurn, history: list[Message]) -> list[Message]:
        """History outgrew the window: summarise what did not fit, then read it again."""
        turn = started.turn
        provider_id, _, model = (turn.model or "").partition("/")
        kept = len([m for m in history if m.role != "system"])
        await started.writer.emit(
            Status(status="compacting", message="Summarising older messages to fit the model")
        )
        try:
            await compact(
                self.database,
                started.providers.get(provider_id),
                model,
                turn.session_id,
                keep_last=kept,
            )
        except (ProviderError, ApiError) as failure:
            log.warning("compaction failed", extra={"turn_id": turn.id, "error": str(failure)})
            return history
        return await uninterrupted(self._read_history(turn))

    async def _read_history(self, turn: Turn) -> list[Message]:
        async with self.database.read() as db:
            history, _ = await history_of(db, turn)
        return history

    async def _finish(
        self, started: StartedTurn, status: TurnStatus, error: ApiError | None
    ) -> None:
        """End the turn: its last writes run to their end even if a cancel lands meanwhile;
        then its owner's work after the end, if it has an owner."""
        await self._clean_up(self._write_end(started, status, error))
        await self._clean_up(self.owners.after_end(started.turn, started.session.owner_id))

    async def _write_end(
        self, started: StartedTurn, status: TurnStatus, error: ApiError | None
    ) -> None:
        """The turn's last writes, its answer, its status and the events that close its
        log (``error``, ``usage``, ``title``, ``done``), in one transaction."""
        turn, writer, runner, sink = started.turn, started.writer, started.runner, started.sink
        sink.drop_unused()
        title = None
        if (
            status == TurnStatus.COMPLETED
            and runner is not None
            and turn.options.get("generate_title")
        ):
            await writer.close()  # the title is made from the stored conversation
            title = await generate_title(self.database, runner.provider, turn)
        failure = error_event(error) if error is not None else None
        usage = (
            runner.usage.as_dict()
            if runner
            else {"input_tokens": 0, "output_tokens": 0, "total_tokens": 0}
        )
        iterations = runner.iterations if runner else 0
        answer = runner.answer if runner else None  # the one being streamed when stopped
        message_id = runner.last_message_id if runner else None

        async def end(db: AsyncSession) -> list[Payload]:
            final = status
            if status == TurnStatus.CANCELLED:
                stored = await TurnRepo(db).get_unchecked(turn.id)
                if stored is not None and not stored.cancel_requested:
                    final = TurnStatus.INTERRUPTED  # stopped by a shutdown, not a cancel
            if answer is not None:
                await sink.store_answer(db, answer, final)
            await TurnRepo(db).set_fields(
                turn.id,
                turn.attempt,
                status=final,
                finished_at=utcnow(),
                usage=usage,
                iterations=iterations,
                error=failure.body() if failure is not None else None,
            )
            await UncheckedSessions(db).turn_ended(
                turn.session_id, usage["input_tokens"], usage["output_tokens"]
            )
            ending = Ending(
                final,
                iterations,
                failure.body() if failure is not None else None,
                report=runner.report if runner else None,
                answer=runner.last_text if runner else None,
                usage=usage,
            )
            await self.owners.ended(db, turn, ending)
            done = Done(status=final, message_id=message_id, usage=usage, iterations=iterations)
            closing: list[Payload | None] = [
                failure,
                UsageEvent(**usage),
                Title(title=title) if title is not None else None,
                done,
            ]
            return [payload for payload in closing if payload is not None]

        await writer.commit_with(end)
