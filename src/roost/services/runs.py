"""Runs (CoAgent): one prompt, answered by an agent (or by a bare preamble), logged.

A run is a turn in a session of its own (``kind`` "run", left out of session lists),
started on the run's behalf: :class:`RunOwner` gives the turn the run's preamble and
temperature, offers no tool that would wait on a person (nobody is there to answer),
and keeps the answer, usage, latency and tool calls on the run in the transaction
that ends the turn. Evaluations run their cases as runs.
"""

from collections.abc import Mapping
from contextlib import aclosing
from dataclasses import dataclass, field
from typing import Any

from sqlalchemy.ext.asyncio import AsyncSession

from roost import ids
from roost.clock import utcnow
from roost.errors import AlreadyExists, ApiError, InvalidRequest, ModelNotFound
from roost.services.agents import AgentService
from roost.services.caller import Caller
from roost.services.sessions import SessionService
from roost.services.turns import Ending, Extras, TurnRequest, TurnService
from roost.services.user_settings import SettingsService
from roost.store.db import Database, flush_unique
from roost.store.models import Agent, Run, Turn
from roost.store.paging import Page
from roost.store.runs import RunFilter, RunRepo
from roost.store.turns import EventRepo

MAX_TOOL_CALLS_KEPT = 200


@dataclass(frozen=True)
class RunRequest:
    """What to run: ``agent`` (an id or name) or a bare ``preamble``, never both."""

    prompt: str
    run_id: str | None = None
    agent: str | None = None
    preamble: str | None = None
    model: str | None = None  # "provider/model"
    temperature: float | None = None
    log_meta: Mapping[str, Any] = field(default_factory=dict)


class RunOwner:
    """What a run's turn gets from its run, and what the run keeps when it ends."""

    def __init__(self, database: Database) -> None:
        self.database = database

    async def extras(self, _turn: Turn, run_id: str, /) -> Extras:
        async with self.database.read() as db:
            run = await db.get(Run, run_id)
        if run is None:
            return Extras(unattended=True)
        return Extras(
            preamble=run.preamble if run.agent_id is None else None,
            temperature=run.temperature,
            unattended=True,
        )

    async def turn_ended(self, db: AsyncSession, turn: Turn, run_id: str, ending: Ending) -> None:
        run = await db.get(Run, run_id)
        if run is None:
            return
        now = utcnow()
        usage = ending.usage or {}
        calls = await EventRepo(db).of_types(turn.id, ["tool_call"])
        run.status = ending.status.value
        run.response = ending.answer or ""
        run.error = ending.error
        run.prompt_tokens = int(usage.get("input_tokens", 0))
        run.completion_tokens = int(usage.get("output_tokens", 0))
        run.latency_ms = max(0, int((now - run.created_at).total_seconds() * 1000))
        run.tool_calls = [
            {"name": e.data.get("tool"), "arguments": e.data.get("args") or {}}
            for e in calls[:MAX_TOOL_CALLS_KEPT]
        ]
        run.model = turn.model or run.model  # as resolved: "provider/model"
        run.turn_id, run.finished_at = turn.id, now

    async def after_end(self, turn: Turn, run_id: str) -> None:
        del turn, run_id


class RunService:
    def __init__(
        self,
        database: Database,
        turns: TurnService,
        sessions: SessionService,
        agents: AgentService,
        user_settings: SettingsService,
    ) -> None:
        self.database = database
        self.turns = turns
        self.sessions = sessions
        self.agents = agents
        self.user_settings = user_settings

    async def start(self, caller: Caller, request: RunRequest) -> Run:
        """Log the run and start its turn; the turn goes on in the background."""
        agent = await self._agent(caller, request)
        await self.check_model(caller, request.model)
        run = Run(
            id=ids.new_id("run"),
            run_id=request.run_id or "",
            agent_id=agent.id if agent else None,
            agent=agent.name if agent else None,
            agent_version=agent.version if agent else None,
            model=request.model or (agent.model if agent else None),
            preamble=agent.preamble if agent else request.preamble or "",
            temperature=request.temperature,
            prompt=request.prompt,
            log_meta=dict(request.log_meta),
            status="running",
        )
        run.run_id = run.run_id or run.id
        taken = AlreadyExists(
            f"A run with run_id {run.run_id} exists",
            details={"field": "run_id", "run_id": run.run_id},
        )
        # No project: an unattended run never works in the user's active project.
        fields = {"title": f"Run {run.run_id}"[:500], "agent": run.agent, "project_id": None}
        session = await self.sessions.create(caller, fields, kind="run")
        try:
            async with self.database.write() as db:
                repo = RunRepo(db, caller)
                if await repo.taken(run.run_id):
                    raise taken
                run.session_id = session.id
                repo.add(run)
                await flush_unique(db, taken)
            turn = await self.turns.send(
                caller,
                session.id,
                TurnRequest(
                    content=request.prompt,
                    agent=run.agent,
                    model=request.model,
                    tools=agent is not None,
                    owner={"kind": "run", "id": run.id},
                ),
            )
        except ApiError:
            # Refused: as if never asked, nothing left over.
            await self.sessions.delete(caller, session.id)
            async with self.database.write() as db:
                await RunRepo(db, caller).delete(run.id)
            raise
        async with self.database.write() as db:
            stored = await RunRepo(db, caller).get(run.id)
            stored.turn_id = turn.id
        run.turn_id = turn.id
        return run

    async def wait(self, caller: Caller, run: Run) -> Run:
        """Until the run's turn has ended; the run as it ended."""
        assert run.session_id is not None and run.turn_id is not None
        events = self.turns.follow(run.session_id, run.turn_id)
        async with aclosing(events):
            async for batch in events:
                if any(event.type == "done" for event in batch):
                    break
        return await self.get(caller, run.id)

    async def get(self, caller: Caller, ref: str) -> Run:
        async with self.database.read() as db:
            return await RunRepo(db, caller).by_ref(ref)

    async def page(
        self, caller: Caller, where: RunFilter, *, limit: int, before: str | None
    ) -> Page[Run]:
        async with self.database.read() as db:
            items, more = await RunRepo(db, caller).listed(where, limit=limit, before=before)
        return Page(items, more, items[-1].id if more and items else None)

    async def _agent(self, caller: Caller, request: RunRequest) -> Agent | None:
        if request.agent is not None and request.preamble is not None:
            raise InvalidRequest(
                "Give agent_id or preamble, not both",
                details={"field": "preamble", "reason": "agent_id and preamble exclude each other"},
            )
        if request.agent is None:
            if not (request.preamble or "").strip():
                raise InvalidRequest(
                    "Missing required field: preamble",
                    details={"field": "preamble", "reason": "Give agent_id or a preamble"},
                )
            return None
        async with self.database.read() as db:
            return await self.agents.resolve(db, caller.user_id, request.agent)

    async def check_model(self, caller: Caller, model: str | None) -> None:
        """CoAgent's MODEL_NOT_FOUND for a model its provider does not list."""
        if model is None:
            return
        providers = await self.user_settings.providers_for(caller.user_id)
        provider_id, _, model_name = model.partition("/")
        if provider_id in providers.ids():
            listed = [m.id for m in await providers.models(provider_id)]
            if not listed or model_name in listed:
                return
            available = listed
        else:
            available = await providers.available()
        raise ModelNotFound.make(
            "The specified model was not found",
            {
                "provider_id": provider_id,
                "model_name": model_name,
                "model": model,
                "available_models": available,
            },
        )
