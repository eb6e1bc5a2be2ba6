"""Evaluation runs: a test set run against configurations (an agent, or a bare
preamble, with a model and a temperature), in the background of the process that
started it; cancel, history, results, the side-by-side report, comparisons, exports,
and the progress as an event stream that resumes from the last result a client saw.
"""

import asyncio
import contextlib
from collections.abc import AsyncGenerator, AsyncIterator
from dataclasses import dataclass
from datetime import datetime
from typing import Any

import orjson

from roost import ids
from roost.bus.notices import Listener, Notices
from roost.clock import isoformat, utcnow
from roost.errors import InvalidRequest
from roost.services.agents import AgentService
from roost.services.caller import Caller
from roost.services.evals import report
from roost.services.evals.runner import EvalRunner
from roost.services.runs import RunService
from roost.store.db import Database
from roost.store.evals import (
    CaseRepo,
    EvalRunRepo,
    ResultRepo,
    TestSetRepo,
    unfinished_eval_runs,
)
from roost.store.models import EvalResult, EvalRun
from roost.store.paging import Page

MAX_UNITS = 5_000  # cases x configurations x repeats in one evaluation run
MAX_CONFIGURATIONS = 10
EVENT_BATCH = 200
FINISHED = frozenset({"completed", "cancelled", "interrupted", "failed"})
INTERRUPTED = "A restart of the server interrupted the evaluation"


@dataclass(frozen=True)
class Configuration:
    """What one column of the report runs: an agent (id or name) or a bare preamble,
    with the model and temperature in place of the agent's, if given."""

    name: str | None = None
    agent: str | None = None
    preamble: str | None = None
    model: str | None = None
    temperature: float | None = None


@dataclass(frozen=True)
class EvalEvent:
    """One event of an evaluation's stream: a result (``seq`` 1, 2, …), then its end."""

    eval_run_id: str
    seq: int
    type: str
    ts: datetime
    data: dict[str, Any]

    def to_json(self) -> bytes:
        head = {"type": self.type, "seq": self.seq, "eval_run_id": self.eval_run_id}
        return orjson.dumps({**head, "ts": isoformat(self.ts), **self.data})


class EvalService:
    def __init__(
        self,
        database: Database,
        runs: RunService,
        agents: AgentService,
        runner: EvalRunner,
        notices: Notices | None,
        *,
        max_concurrency: int,
        heartbeat_seconds: float,
    ) -> None:
        self.database = database
        self.runs = runs
        self.agents = agents
        self.runner = runner
        self.notices = notices
        self.max_concurrency = max_concurrency
        self.heartbeat_seconds = heartbeat_seconds
        self._tasks: dict[str, asyncio.Task[None]] = {}

    async def start(
        self,
        caller: Caller,
        testset_id: str,
        configurations: list[Configuration],
        *,
        concurrency: int,
        repeats: int,
    ) -> EvalRun:
        """Check and fix every configuration as it is now, then run in the background."""
        if concurrency > self.max_concurrency:
            raise InvalidRequest(
                f"concurrency is at most {self.max_concurrency} on this server",
                details={"field": "concurrency", "reason": f"at most {self.max_concurrency}"},
            )
        async with self.database.read() as db:
            testset = await TestSetRepo(db, caller).get(testset_id)
            cases = await CaseRepo(db, testset.id).all()
        if not cases:
            raise InvalidRequest(
                "The test set has no cases", details={"field": "cases", "reason": "empty"}
            )
        fixed = [await self._fixed(caller, c, n) for n, c in enumerate(configurations, 1)]
        names = [c["name"] for c in fixed]
        if len(set(names)) != len(names):
            raise InvalidRequest(
                "Configuration names must differ",
                details={"field": "configurations", "reason": "two share a name"},
            )
        total = len(cases) * len(fixed) * repeats
        if total > MAX_UNITS:
            raise InvalidRequest(
                f"An evaluation runs at most {MAX_UNITS} cases x configurations x repeats",
                details={"field": "repeats", "reason": f"{total} runs asked for"},
            )
        run = EvalRun(
            id=ids.new_id("eval"),
            testset_id=testset.id,
            status="queued",
            configurations=fixed,
            cases=[
                {"id": c.id, "input": c.input, "expected": c.expected, "assertions": c.assertions}
                for c in cases
            ],
            concurrency=concurrency,
            repeats=repeats,
            total=total,
            done=0,
        )
        async with self.database.write() as db:
            EvalRunRepo(db, caller).add(run)
        task = asyncio.create_task(self.runner.execute(caller, run.id))
        self._tasks[run.id] = task
        task.add_done_callback(lambda _: self._tasks.pop(run.id, None))
        return run

    async def cancel(self, caller: Caller, testset_id: str, eval_id: str) -> EvalRun:
        """No further case starts; those under way here are cancelled. Returns the run
        once it has ended (or as it is, if another process runs it)."""
        async with self.database.write() as db:
            run = await EvalRunRepo(db, caller).of_set(testset_id, eval_id, for_update=True)
            if run.status not in FINISHED:
                run.cancel_requested = True
        await self.runner.stop_runs(caller, run.id)
        task = self._tasks.get(run.id)
        if task is not None:
            await asyncio.wait({task}, timeout=30)
        return await self.get(caller, testset_id, eval_id)

    async def get(self, caller: Caller, testset_id: str, eval_id: str) -> EvalRun:
        async with self.database.read() as db:
            return await EvalRunRepo(db, caller).of_set(testset_id, eval_id)

    async def history(
        self, caller: Caller, testset_id: str, *, limit: int, before: str | None
    ) -> Page[EvalRun]:
        async with self.database.read() as db:
            testset = await TestSetRepo(db, caller).get(testset_id)
            items, more = await EvalRunRepo(db, caller).history(
                testset.id, limit=limit, before=before
            )
        return Page(items, more, items[-1].id if more and items else None)

    async def results(
        self, caller: Caller, testset_id: str, eval_id: str
    ) -> tuple[EvalRun, list[EvalResult]]:
        async with self.database.read() as db:
            run = await EvalRunRepo(db, caller).of_set(testset_id, eval_id)
            return run, await ResultRepo(db, run.id).all()

    async def compare(
        self,
        caller: Caller,
        testset_id: str,
        eval_id: str,
        *,
        other_id: str | None,
        base_configuration: str | None,
        other_configuration: str | None,
    ) -> dict[str, Any]:
        """The cases that flipped between this run and ``other_id`` (by case and
        configuration), or between two configurations (of this run, or of the two)."""
        base, base_results = await self.results(caller, testset_id, eval_id)
        other, other_results = (
            await self.results(caller, testset_id, other_id)
            if other_id is not None
            else (base, base_results)
        )
        if (base_configuration is None) != (other_configuration is None) or (
            other is base and base_configuration is None
        ):
            raise InvalidRequest(
                "Compare with another run (with), or name two configurations",
                details={"field": "with", "reason": "nothing to compare with"},
            )
        for name, run in ((base_configuration, base), (other_configuration, other)):
            if name is not None and name not in {c["name"] for c in run.configurations}:
                raise InvalidRequest(
                    f"Run {run.id} has no configuration {name}",
                    details={"field": "configuration", "reason": f"no {name} in {run.id}"},
                )
        flips = report.compare(
            base_results,
            other_results,
            base_configuration=base_configuration,
            other_configuration=other_configuration,
        )
        return {
            "base": {"eval_run_id": base.id, "configuration": base_configuration},
            "other": {"eval_run_id": other.id, "configuration": other_configuration},
            "flipped": flips,
            "pass_to_fail": sum(f["direction"] == "pass_to_fail" for f in flips),
            "fail_to_pass": sum(f["direction"] == "fail_to_pass" for f in flips),
        }

    async def events(
        self, caller: Caller, testset_id: str, eval_id: str, *, after: int
    ) -> AsyncIterator[list[EvalEvent]]:
        """The results after ``after``, then live until the run ends (``eval_ended``,
        numbered one past the last result), with heartbeats while nothing happens."""
        run = await self.get(caller, testset_id, eval_id)
        return self._follow(caller, run.id, after)

    async def recover(self) -> int:
        """At start-up: evaluations a stopped process was running are interrupted, with
        the results they had. Returns how many."""
        async with self.database.write() as db:
            stranded = list(await unfinished_eval_runs(db))
            for run in stranded:
                run.status, run.finished_at = "interrupted", utcnow()
                run.error = {"code": "INTERRUPTED", "message": INTERRUPTED}
                run.summary = report.summaries(run, await ResultRepo(db, run.id).all())
        return len(stranded)

    async def aclose(self) -> None:
        """Stop this process's evaluations; they end interrupted."""
        for task in list(self._tasks.values()):
            task.cancel()
        if self._tasks:
            await asyncio.wait(set(self._tasks.values()), timeout=10)

    async def _fixed(self, caller: Caller, asked: Configuration, number: int) -> dict[str, Any]:
        if (asked.agent is None) == (asked.preamble is None):
            raise InvalidRequest(
                f"Configuration {number}: give agent_id or preamble",
                details={"field": f"configurations.{number - 1}", "reason": "agent or preamble"},
            )
        await self.runs.check_model(caller, asked.model)
        fixed: dict[str, Any] = {
            "agent_id": None,
            "agent": None,
            "agent_version": None,
            "preamble": asked.preamble,
            "model": asked.model,
            "temperature": asked.temperature,
        }
        if asked.agent is not None:
            async with self.database.read() as db:
                agent = await self.agents.resolve(db, caller.user_id, asked.agent)
            fixed |= {"agent_id": agent.id, "agent": agent.name, "agent_version": agent.version}
            fixed["model"] = asked.model or agent.model
        label = fixed["agent"] or f"preamble-{number}"
        fixed["name"] = asked.name or (f"{label}@{fixed['model']}" if fixed["model"] else label)
        return fixed

    async def _follow(
        self, caller: Caller, eval_id: str, after: int
    ) -> AsyncGenerator[list[EvalEvent], None]:
        listener = self.notices.listen(caller.user_id) if self.notices is not None else None
        seq = after
        try:
            while True:
                async with self.database.read() as db:
                    run = await EvalRunRepo(db, caller).get(eval_id)
                    rows = await ResultRepo(db, eval_id).after(seq, limit=EVENT_BATCH)
                batch = [
                    EvalEvent(eval_id, r.seq, "result", r.created_at, report.result_view(r))
                    for r in rows
                ]
                seq = rows[-1].seq if rows else seq
                if run.status in FINISHED and len(rows) < EVENT_BATCH:
                    if seq <= run.done:
                        batch.append(_ended(run))
                    if batch:
                        yield batch
                    return
                if batch:
                    yield batch
                    continue
                if not await self._woken(listener, eval_id):
                    yield [EvalEvent(eval_id, 0, "heartbeat", utcnow(), {})]
        finally:
            if listener is not None:
                listener.close()

    async def _woken(self, listener: Listener | None, eval_id: str) -> bool:
        """Whether a notice of this evaluation came before the heartbeat was due."""
        if listener is None:
            await asyncio.sleep(min(self.heartbeat_seconds, 1.0))
            return True
        with contextlib.suppress(TimeoutError):
            async with asyncio.timeout(self.heartbeat_seconds):
                while (await listener.next()).get("eval_run_id") != eval_id:
                    pass
                return True
        return False


def _ended(run: EvalRun) -> EvalEvent:
    data = {
        "status": run.status,
        "done": run.done,
        "total": run.total,
        "summary": run.summary,
        "error": run.error,
    }
    return EvalEvent(run.id, run.done + 1, "eval_ended", run.finished_at or utcnow(), data)
