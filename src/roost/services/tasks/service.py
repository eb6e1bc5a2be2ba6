"""Tasks: background work with a plan, run as a turn in a session (Mini-Devin's tasks,
Floyd's browork). Creating, starting, stopping, listing and deleting them; their event
stream is their turn's."""

from collections.abc import AsyncIterator
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from roost import ids
from roost.clock import utcnow
from roost.domain.events import Event
from roost.domain.task_status import ACTIVE, FINISHED, TaskStatus, shown
from roost.domain.turn_status import ACTIVE as TURN_ACTIVE
from roost.domain.turn_status import TurnStatus
from roost.errors import ApiError, InvalidRequest, TaskInProgress
from roost.services.caller import Caller
from roost.services.cursors import anchor
from roost.services.sessions import SessionService
from roost.services.tasks import workspace
from roost.services.tasks.owner import ENDED_SO, TaskOwner
from roost.services.turns import TurnRequest, TurnService
from roost.store.db import Database, uninterrupted
from roost.store.models import Task, Turn
from roost.store.paging import Page
from roost.store.sessions import SessionRepo, UncheckedSessions
from roost.store.tasks import TaskRepo, TaskRow, UncheckedTasks
from roost.store.turns import EventRepo

CREATE_FIELDS = ("name", "description", "agent", "model", "run_mode", "max_iterations")


@dataclass(frozen=True)
class TaskView:
    """A task as a client sees it: its status and progress read through its turn."""

    task: Task
    status: TaskStatus
    iterations: int
    plan: dict[str, Any] | None = None

    @property
    def completed_at(self) -> datetime | None:
        return self.task.completed_at if self.status in FINISHED else None


def view(row: TaskRow, plan: dict[str, Any] | None = None) -> TaskView:
    task, turn = row
    status = shown(task.status, turn.status if turn is not None else None)
    live = turn is not None and task.status == ACTIVE
    iterations = turn.iterations if live and turn is not None else task.iterations
    return TaskView(task, status, iterations, plan if plan is not None else task.plan)


class TaskService:
    def __init__(
        self,
        database: Database,
        turns: TurnService,
        sessions: SessionService,
        owner: TaskOwner,
    ) -> None:
        self.database = database
        self.turns = turns
        self.sessions = sessions
        self.owner = owner

    async def create(
        self,
        caller: Caller,
        fields: dict[str, Any],
        *,
        session_id: str | None = None,
        project_id: str | None = None,
        start: bool = True,
    ) -> TaskView:
        """A task in ``session_id``, else in a new session (in ``project_id``, else the
        caller's active project, like any new session); started unless ``start`` is off."""
        task = Task(id=ids.new_id("task"), **{k: fields.get(k) for k in CREATE_FIELDS})
        task.name = task.name or _title(task.description)
        made_session = session_id is None
        if session_id is None:
            wanted: dict[str, Any] = {"title": task.name, "agent": task.agent}
            if project_id is not None:
                wanted["project_id"] = project_id
            session_id = (await self.sessions.create(caller, wanted)).id
        async with self.database.write() as db:
            session = await SessionRepo(db, caller).get(session_id)
            task.session_id, task.project_id = session.id, session.project_id
            task.status, task.iterations = TaskStatus.PENDING, 0
            TaskRepo(db, caller).add(task)
            session.task_count += 1
        self.owner.tell(caller.user_id, "created", task.id)
        if not start:
            return view((task, None))
        try:
            return await self.start(caller, task.id)
        except ApiError:
            # Refused (no such agent, no provider): as if never asked, nothing left over.
            await uninterrupted(self._forget(caller, task, drop_session=made_session))
            raise

    async def _forget(self, caller: Caller, task: Task, *, drop_session: bool) -> None:
        async with self.database.write() as db:
            tasks = TaskRepo(db, caller)
            found = await tasks.find(task.id)
            if found is not None:
                await self._remove(tasks, found)
        if drop_session:
            await self.sessions.delete(caller, task.session_id)
        workspace.forget(self.owner.store_of(task.id))

    async def start(self, caller: Caller, task_id: str) -> TaskView:
        """Run the task (again, after it ended): a turn in its session, queued behind a
        turn already running there. Its project is snapshotted the first time."""
        async with self.database.write() as db:
            task = await TaskRepo(db, caller).get(task_id, for_update=True)
            if task.status == ACTIVE:
                raise TaskInProgress(task.id, "running")
            # Claimed: a second start is refused from here on, and the turn's end finds
            # the task with no other run's turn.
            task.status, task.turn_id, task.result, task.completed_at = ACTIVE, None, None, None
            task.started_at = task.started_at or utcnow()
            first = task.baseline is None
        try:
            if first:
                baseline = await self._snapshot(task)
                async with self.database.write() as db:
                    (await TaskRepo(db, caller).get(task.id)).baseline = baseline
            turn = await self.turns.send(
                caller,
                task.session_id,
                TurnRequest(
                    content=task.description,
                    agent=task.agent,
                    model=task.model,
                    on_busy="enqueue",
                    owner={"kind": "task", "id": task.id},
                ),
            )
        except BaseException as error:
            await uninterrupted(self._failed_to_start(caller, task.id, error))
            raise
        async with self.database.write() as db:
            found = await TaskRepo(db, caller).find(task.id)
            if found is not None and found.turn_id is None:
                found.turn_id = turn.id
        self.owner.tell(caller.user_id, "started", task.id, turn_id=turn.id)
        return await self.get(caller, task.id)

    async def _failed_to_start(self, caller: Caller, task_id: str, error: BaseException) -> None:
        async with self.database.write() as db:
            found = await TaskRepo(db, caller).find(task_id)
            if found is not None and found.status == ACTIVE and found.turn_id is None:
                found.status, found.completed_at = TaskStatus.FAILED, utcnow()
                message = getattr(error, "message", None) or "The task could not start"
                found.result = {"success": False, "summary": str(message)}

    async def recover(self) -> int:
        """At start-up: a task claimed by a start that never got its turn going (the
        process stopped in between) is interrupted. Returns how many were."""
        async with self.database.write() as db:
            stranded = await UncheckedTasks(db).claimed_without_turn()
            for task in stranded:
                task.status, task.completed_at = TaskStatus.INTERRUPTED, utcnow()
                task.result = {"success": False, "summary": ENDED_SO[TurnStatus.INTERRUPTED]}
        return len(stranded)

    async def _snapshot(self, task: Task) -> dict[str, Any]:
        if task.project_id is None:
            return {"kind": "none", "reason": "the task has no project"}
        sandbox = await self.owner.projects.sandbox_for(task.owner_id, task.project_id)
        try:
            return await workspace.snapshot(str(sandbox.root), self.owner.store_of(task.id))
        except workspace.WorkspaceError as error:
            return {"kind": "none", "reason": str(error)}

    async def stop(self, caller: Caller, task_id: str) -> TaskView:
        """Cancel the task's turn and wait until it has ended; a task that never ran is
        stopped at once; one that ended stays as it ended."""
        async with self.database.write() as db:
            task, turn = await TaskRepo(db, caller).with_turn(task_id)
            if task.status == TaskStatus.PENDING:
                task.status, task.completed_at = TaskStatus.STOPPED, utcnow()
                self.owner.tell(caller.user_id, "ended", task.id, status=task.status)
        if turn is not None and turn.status in TURN_ACTIVE:
            await self.turns.cancel(caller, task.session_id, turn.id)
            await self.turns.wait(turn.id)
        return await self.get(caller, task_id)

    async def delete(self, caller: Caller, task_id: str) -> None:
        """Stop the task if it runs, then delete it with its artifacts and snapshots (its
        session and the conversation in it stay)."""
        await self.stop(caller, task_id)
        async with self.database.write() as db:
            await self._remove(TaskRepo(db, caller), await TaskRepo(db, caller).get(task_id))
        workspace.forget(self.owner.store_of(task_id))
        self.owner.tell(caller.user_id, "deleted", task_id)

    async def clear(self, caller: Caller) -> int:
        """Delete every task of the caller's that ran and ended; how many went."""
        async with self.database.write() as db:
            repo = TaskRepo(db, caller)
            gone = await repo.finished()
            for task in gone:
                await self._remove(repo, task)
        for task in gone:
            workspace.forget(self.owner.store_of(task.id))
            self.owner.tell(caller.user_id, "deleted", task.id)
        return len(gone)

    @staticmethod
    async def _remove(repo: TaskRepo, task: Task) -> None:
        await repo.remove(task)
        await UncheckedSessions(repo.db).count_tasks(task.session_id, -1)

    async def get(self, caller: Caller, task_id: str) -> TaskView:
        """The task, with its plan as it stands (the newest ``plan_update`` while it runs)."""
        async with self.database.read() as db:
            task, turn = await TaskRepo(db, caller).with_turn(task_id)
            plan = None
            if turn is not None and task.status == ACTIVE:
                updates = await EventRepo(db).of_types(turn.id, ["plan_update"])
                plan = updates[-1].data.get("plan") if updates else None
        return view((task, turn), plan)

    async def page(
        self,
        caller: Caller,
        *,
        limit: int,
        before: str | None = None,
        status: TaskStatus | None = None,
        session_id: str | None = None,
        project_id: str | None = None,
    ) -> Page[TaskView]:
        async with self.database.read() as db:
            tasks = TaskRepo(db, caller)
            if session_id is not None:
                await SessionRepo(db, caller).get(session_id)
            if before is not None:
                await anchor(tasks.find, "before", before)
            rows, more = await tasks.page(
                limit=limit,
                before=before,
                status=status,
                session_id=session_id,
                project_id=project_id,
            )
        views = [view(row) for row in rows]
        return Page(views, more, views[-1].task.id if more and views else None)

    async def events(
        self, caller: Caller, task_id: str, *, after: int = 0
    ) -> AsyncIterator[list[Event]]:
        """The task's current run's events (its turn's), replayed after ``after``, then live."""
        async with self.database.read() as db:
            task, turn = await TaskRepo(db, caller).with_turn(task_id)
        if turn is None:
            raise InvalidRequest(
                f"Task {task.id} has not started: it has no events yet",
                details={"task_id": task.id, "status": task.status},
            )
        return await self.turns.events(caller, task.session_id, turn.id, after=after)

    async def of_turn(self, caller: Caller, task_id: str) -> tuple[Task, Turn | None]:
        async with self.database.read() as db:
            return await TaskRepo(db, caller).with_turn(task_id)


def _title(description: str) -> str:
    line = description.strip().splitlines()[0] if description.strip() else "Task"
    return line if len(line) <= 80 else line[:79] + "…"
