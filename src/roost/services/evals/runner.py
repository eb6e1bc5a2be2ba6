"""Running an evaluation: every case x configuration x repeat as a run, at most
``concurrency`` at once; each answer checked by the case's assertions; each result
stored with the next ``seq`` as it finishes, and the user's connections told.

A run the provider refused for its rate (429) is tried again, after the wait the
provider asked for, or a growing one; other failures are the result's error.
"""

import asyncio
import contextlib
import logging
from dataclasses import dataclass
from typing import Any

from roost.bus.notices import Notices
from roost.clock import utcnow
from roost.config import Settings
from roost.engine.providers.base import ChatMessage, ModelRequest
from roost.engine.providers.retry import complete
from roost.errors import ApiError
from roost.services.caller import Caller
from roost.services.evals.assertions import (
    Judge,
    Observed,
    ToolCallSeen,
    check,
    parse_assertions,
)
from roost.services.evals.report import summaries
from roost.services.runs import RunRequest, RunService
from roost.services.user_settings import SettingsService
from roost.store.db import Database
from roost.store.evals import EvalRunRepo, ResultRepo
from roost.store.models import EvalResult, EvalRun, Run

log = logging.getLogger("roost.evals")

RATE_LIMIT_ATTEMPTS = 4
MAX_RATE_LIMIT_WAIT = 60.0
JUDGE_MAX_TOKENS = 600


@dataclass(frozen=True)
class Unit:
    case: dict[str, Any]
    configuration: dict[str, Any]
    repeat: int


class EvalRunner:
    def __init__(
        self,
        database: Database,
        runs: RunService,
        user_settings: SettingsService,
        settings: Settings,
        notices: Notices | None,
    ) -> None:
        self.database = database
        self.runs = runs
        self.user_settings = user_settings
        self.settings = settings
        self.notices = notices
        self._sessions: dict[str, set[str]] = {}  # eval run -> sessions of its runs under way
        self._stopping: set[str] = set()  # eval runs cancelled: a run that starts stops

    async def execute(self, caller: Caller, eval_id: str) -> None:
        """Run what the evaluation has left to run, then sum it up."""
        try:
            async with self.database.write() as db:
                run = await EvalRunRepo(db, caller).get(eval_id, for_update=True)
                run.status, run.started_at = "running", run.started_at or utcnow()
                done = await ResultRepo(db, run.id).done_units()
            self.tell(caller.user_id, run, "eval_started")
            limit = asyncio.Semaphore(run.concurrency)
            units = [
                Unit(case, configuration, repeat)
                for repeat in range(1, run.repeats + 1)
                for case in run.cases
                for configuration in run.configurations
                if (case["id"], configuration["name"], repeat) not in done
            ]

            async def one(unit: Unit) -> None:
                async with limit:
                    if await self._cancelled(caller, eval_id):
                        return
                    result = await self._result(caller, run, unit)
                    stopped = (result.error or {}).get("code") == "CANCELLED"
                    if not (stopped and await self._cancelled(caller, eval_id)):
                        await self._record(caller, eval_id, result)

            self._sessions[eval_id] = set()
            await asyncio.gather(*(one(unit) for unit in units))
            await self._finish(caller, eval_id, None)
        except asyncio.CancelledError:
            await asyncio.shield(self._finish(caller, eval_id, "interrupted"))
            raise
        except Exception:
            log.exception("evaluation failed", extra={"eval_run_id": eval_id})
            await self._finish(caller, eval_id, "failed")
        finally:
            self._sessions.pop(eval_id, None)
            self._stopping.discard(eval_id)

    async def stop_runs(self, caller: Caller, eval_id: str) -> None:
        """Cancel the runs of the evaluation that are under way in this process."""
        if eval_id in self._sessions:
            self._stopping.add(eval_id)
        for session_id in list(self._sessions.get(eval_id, ())):
            with contextlib.suppress(ApiError):
                await self.runs.turns.cancel_current(caller, session_id)

    def tell(self, user_id: str, run: EvalRun, change: str, **more: Any) -> None:
        """The user's live connections (the WebSocket's ``tasks`` channel) hear of it."""
        if self.notices is None:
            return
        notice = {
            "channel": "tasks",
            "type": change,
            "eval_run_id": run.id,
            "testset_id": run.testset_id,
            "status": run.status,
            "done": run.done,
            "total": run.total,
            **more,
        }
        self.notices.publish(user_id, notice)

    async def _result(self, caller: Caller, run: EvalRun, unit: Unit) -> EvalResult:
        configuration, case = unit.configuration, unit.case
        request = RunRequest(
            prompt=case["input"],
            agent=configuration.get("agent_id"),
            preamble=configuration.get("preamble"),
            model=configuration.get("model"),
            temperature=configuration.get("temperature"),
            log_meta={
                "eval_run_id": run.id,
                "testset_id": run.testset_id,
                "case_id": case["id"],
                "configuration": configuration["name"],
                "repeat": unit.repeat,
            },
        )
        result = EvalResult(
            case_id=case["id"], configuration=configuration["name"], repeat=unit.repeat
        )
        try:
            answered = await self._answer(caller, run.id, request)
        except ApiError as refused:  # e.g. the agent was deleted meanwhile
            result.status, result.error = "error", _error(refused)
            return result
        result.run_id, result.agent_version = answered.id, answered.agent_version
        result.output = answered.response or ""
        result.latency_ms = answered.latency_ms
        result.prompt_tokens = answered.prompt_tokens
        result.completion_tokens = answered.completion_tokens
        price = self.settings.price_of(answered.model)
        if price is not None:
            result.cost_usd = round(
                price.cost(answered.prompt_tokens, answered.completion_tokens), 8
            )
        if answered.status != "completed":
            result.status = "error"
            result.error = answered.error or {"code": answered.status.upper(), "message": ""}
            return result
        observed = Observed(
            input=case["input"],
            output=result.output,
            latency_ms=answered.latency_ms or 0,
            total_tokens=answered.prompt_tokens + answered.completion_tokens,
            tool_calls=tuple(
                ToolCallSeen(str(c.get("name")), dict(c.get("arguments") or {}))
                for c in answered.tool_calls
            ),
            expected=case.get("expected"),
        )
        verdicts = await check(
            parse_assertions(case.get("assertions") or []), observed, self._judge(caller)
        )
        result.verdicts = [verdict.as_dict() for verdict in verdicts]
        result.status = "passed" if all(v.passed for v in verdicts) else "failed"
        return result

    async def _answer(self, caller: Caller, eval_id: str, request: RunRequest) -> Run:
        """The run, tried again while the provider says it is asked too often."""
        for attempt in range(1, RATE_LIMIT_ATTEMPTS + 1):
            started = await self.runs.start(caller, request)
            sessions = self._sessions.setdefault(eval_id, set())
            if started.session_id is not None:
                sessions.add(started.session_id)
                if eval_id in self._stopping:  # cancelled while this run was starting
                    await self.runs.turns.cancel_current(caller, started.session_id)
            try:
                ended = await self.runs.wait(caller, started)
            finally:
                sessions.discard(started.session_id or "")
            details = (ended.error or {}).get("details") or {}
            limited = ended.status == "failed" and details.get("status") == 429
            if not limited or attempt == RATE_LIMIT_ATTEMPTS:
                return ended
            asked = details.get("retry_after_seconds")
            wait = 2.0**attempt if asked is None else asked
            await asyncio.sleep(min(float(wait), MAX_RATE_LIMIT_WAIT))
        raise AssertionError("unreachable")

    def _judge(self, caller: Caller) -> Judge:
        async def judge(model: str, system: str, prompt: str) -> str:
            providers = await self.user_settings.providers_for(caller.user_id)
            resolved = await providers.resolve(model)
            request = ModelRequest(
                model=resolved.model,
                messages=[ChatMessage("user", prompt)],
                system=system,
                max_tokens=JUDGE_MAX_TOKENS,
            )
            text, _usage = await complete(resolved.provider, request)
            return text

        return judge

    async def _record(self, caller: Caller, eval_id: str, result: EvalResult) -> None:
        async with self.database.write() as db:
            run = await EvalRunRepo(db, caller).get(eval_id, for_update=True)
            run.done += 1
            result.seq = run.done
            ResultRepo(db, run.id).add(result)
        self.tell(
            caller.user_id,
            run,
            "eval_progress",
            case_id=result.case_id,
            configuration=result.configuration,
            result=result.status,
        )

    async def _cancelled(self, caller: Caller, eval_id: str) -> bool:
        async with self.database.read() as db:
            run = await EvalRunRepo(db, caller).find(eval_id)
        return run is None or run.cancel_requested

    async def _finish(self, caller: Caller, eval_id: str, status: str | None) -> None:
        """Sum the results up; the run ends completed, cancelled, or as ``status`` says."""
        async with self.database.write() as db:
            run = await EvalRunRepo(db, caller).find(eval_id, for_update=True)
            if run is None or run.finished_at is not None:
                return
            results = await ResultRepo(db, run.id).all()
            run.summary = summaries(run, results)
            run.status = status or ("cancelled" if run.cancel_requested else "completed")
            run.finished_at = utcnow()
        self.tell(caller.user_id, run, "eval_ended", summary=run.summary)


def _error(error: ApiError) -> dict[str, Any]:
    return {"code": error.code, "message": error.message, "details": error.details}
