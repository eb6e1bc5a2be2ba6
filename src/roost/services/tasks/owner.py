"""What a task's turn gets from its task, and what the task keeps when the turn ends."""

import logging
from dataclasses import replace
from functools import partial
from pathlib import Path
from typing import Any

from sqlalchemy.ext.asyncio import AsyncSession

from roost.bus.notices import Notices
from roost.clock import utcnow
from roost.domain import task_status
from roost.domain.turn_status import TurnStatus
from roost.engine.tools.plan import UPDATE_PLAN, checked_plan
from roost.engine.tools.registry import ToolContext, ToolError
from roost.engine.tools.task import TASK_TOOLS
from roost.services.projects import ProjectService
from roost.services.tasks import workspace
from roost.services.turns.owners import Ending, Extras
from roost.store.db import Database
from roost.store.models import Task, Turn
from roost.store.tasks import ArtifactRepo, UncheckedTasks
from roost.store.turns import EventRepo

log = logging.getLogger("roost.tasks")

INSTRUCTIONS = """You are working on a task in the background; the user reads your progress \
later. First write a plan with update_plan: the steps, each pending. Then work through \
them, marking each step in_progress and then completed (or skipped) with update_plan as \
you go. Keep files the user should receive with add_artifact. When the task is done, or \
cannot be done, call finish_task once with success and a summary of what you did."""

# Names the task's own artifacts take; a kept file of the same name goes under files/.
RESERVED = frozenset({"plan.json", "diff.patch", "log.txt"})
MAX_KEPT = 200  # files a task may keep

ENDED_SO = {
    TurnStatus.CANCELLED: "The task was stopped",
    TurnStatus.INTERRUPTED: "A restart of the server interrupted the task",
}


class TaskOwner:
    def __init__(
        self,
        database: Database,
        projects: ProjectService,
        home: Path,
        notices: Notices | None = None,
    ) -> None:
        self.database = database
        self.projects = projects
        self.home = home
        self.notices = notices

    def tell(self, user_id: str, change: str, task_id: str, **more: Any) -> None:
        """Tell the user's live connections (the ``tasks`` channel) of a change."""
        if self.notices is not None:
            notice = {"channel": "tasks", "type": change, "task_id": task_id, **more}
            self.notices.publish(user_id, notice)

    def store_of(self, task_id: str) -> Path:
        """Where the task's snapshots live."""
        return self.home / "tasks" / task_id

    async def extras(self, _turn: Turn, owner_id: str, /) -> Extras:
        async with self.database.read() as db:
            task = await UncheckedTasks(db).get(owner_id)
        plan_tool = replace(UPDATE_PLAN, handler=partial(self._update_plan, owner_id))
        return Extras(
            tools=(*TASK_TOOLS, plan_tool),
            instructions=INSTRUCTIONS,
            keep_output=partial(self._keep, owner_id),
            max_iterations=task.max_iterations if task is not None else None,
        )

    async def _update_plan(self, task_id: str, args: dict[str, Any], context: ToolContext) -> str:
        """``update_plan``, and the task's watchers told of the new plan."""
        said = await UPDATE_PLAN.handler(args, context)
        self.tell(context.owner_id, "plan_update", task_id, plan=checked_plan(args))
        return str(said)

    async def _keep(self, task_id: str, name: str, data: bytes, media_type: str) -> None:
        name = f"files/{name}" if name in RESERVED else name
        async with self.database.write() as db:
            artifacts = ArtifactRepo(db, task_id)
            if await artifacts.count() >= MAX_KEPT and await artifacts.find(name) is None:
                raise ToolError(f"A task keeps at most {MAX_KEPT} files")
            await artifacts.keep(name, "file", media_type, data)

    async def turn_ended(self, db: AsyncSession, turn: Turn, owner_id: str, ending: Ending) -> None:
        task = await UncheckedTasks(db).get(owner_id, for_update=True)
        if task is None or task.turn_id not in (None, turn.id):
            return  # deleted meanwhile, or a newer run is the task's now
        success, summary = _result(ending)
        task.status = task_status.ended(ending.status, success)
        task.result = {"success": success, "summary": summary}
        task.iterations = ending.iterations
        task.completed_at = utcnow()
        task.turn_id = turn.id
        plans = await EventRepo(db).of_types(turn.id, ["plan_update"])
        if plans:
            task.plan = plans[-1].data.get("plan")

    async def after_end(self, turn: Turn, owner_id: str) -> None:
        """The task's diff, taken as soon as it ended, so later edits do not join it."""
        async with self.database.read() as db:
            task = await UncheckedTasks(db).get(owner_id)
        if task is None or task.turn_id != turn.id:
            return
        self.tell(task.owner_id, "ended", task.id, status=task.status)
        if task.project_id is None:
            return
        patch = await self.current_diff(task)
        async with self.database.write() as db:
            if await UncheckedTasks(db).get(owner_id) is not None:
                await ArtifactRepo(db, owner_id).keep("diff.patch", "diff", PATCH_TYPE, patch)

    async def current_diff(self, task: Task) -> bytes:
        """The task's changes to its project from when it started until now."""
        if task.project_id is None:
            return b"# No diff: the task has no project\n"
        try:
            sandbox = await self.projects.sandbox_for(task.owner_id, task.project_id)
            return await workspace.diff(str(sandbox.root), self.store_of(task.id), task.baseline)
        except Exception as error:  # a diff that cannot be taken says why, in the artifact
            log.warning("task diff failed", extra={"task_id": task.id, "error": str(error)})
            return f"# No diff: {error}\n".encode()


PATCH_TYPE = "text/x-diff; charset=utf-8"


def _result(ending: Ending) -> tuple[bool, str]:
    """The task's result: the agent's report, else how the turn ended."""
    report = ending.report if isinstance(ending.report, dict) else None
    if ending.status == TurnStatus.COMPLETED:
        if report is not None:
            return bool(report.get("success")), str(report.get("summary", ""))
        return False, ending.answer or "The task ended without a report"
    if ending.status in ENDED_SO:
        return False, ENDED_SO[ending.status]
    error = ending.error or {}
    return False, str(error.get("message") or "The task failed")
