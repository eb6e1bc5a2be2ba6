"""Tasks, seen through their owner, with their turns; and their kept artifacts."""

from collections.abc import Sequence

from sqlalchemy import Select, delete, func, select
from sqlalchemy.ext.asyncio import AsyncSession
from sqlalchemy.orm import defer

from roost import ids
from roost.domain.task_status import ACTIVE, FROM_TURN, TaskStatus
from roost.errors import TaskNotFound
from roost.store.models import Task, TaskArtifact, Turn
from roost.store.owned import OwnedRepo
from roost.store.paging import cut

TaskRow = tuple[Task, Turn | None]


class TaskRepo(OwnedRepo[Task]):
    model = Task
    prefix = "task"
    not_found = TaskNotFound

    def _with_turns(self) -> Select[Task, Turn]:
        return (
            select(Task, Turn)
            .outerjoin(Turn, Turn.id == Task.turn_id)
            .where(Task.owner_id == self.owner_id)
        )

    async def with_turn(self, task_id: str) -> TaskRow:
        """The owner's task and its turn; :class:`TaskNotFound` when there is none."""
        if ids.is_valid(self.prefix, task_id):
            query = self._with_turns().where(Task.id == task_id)
            found = (await self.db.execute(query)).one_or_none()
            if found is not None:
                return found[0], found[1]
        raise TaskNotFound(task_id)

    async def page(
        self,
        *,
        limit: int,
        before: str | None = None,
        status: TaskStatus | None = None,
        session_id: str | None = None,
        project_id: str | None = None,
    ) -> tuple[list[TaskRow], bool]:
        """Newest first, with their turns; filtered by status as a client sees it."""
        query = self._with_turns()
        if status in FROM_TURN:
            query = query.where(Task.status == ACTIVE, Turn.status == status)
        elif status is not None:
            query = query.where(Task.status == status)
        if session_id is not None:
            query = query.where(Task.session_id == session_id)
        if project_id is not None:
            query = query.where(Task.project_id == project_id)
        if before is not None:
            query = query.where(Task.id < before)
        rows = (await self.db.execute(query.order_by(Task.id.desc()).limit(limit + 1))).all()
        return cut([(task, turn) for task, turn in rows], limit)

    async def finished(self) -> list[Task]:
        """The owner's tasks that ran and ended (``POST /api/tasks/clear`` removes them)."""
        query = self.owned().where(Task.status.not_in(["pending", ACTIVE]))
        return list((await self.db.execute(query)).scalars().all())

    async def counts(self, session_ids: Sequence[str]) -> dict[str, int]:
        """How many tasks each of these sessions holds."""
        if not session_ids:
            return {}
        query = (
            select(Task.session_id, func.count())
            .where(Task.owner_id == self.owner_id, Task.session_id.in_(session_ids))
            .group_by(Task.session_id)
        )
        return {session_id: count for session_id, count in (await self.db.execute(query)).all()}


class UncheckedTasks:
    """Tasks reached past their owner: by the turn engine, for a turn already authorised."""

    def __init__(self, db: AsyncSession) -> None:
        self.db = db

    async def get(self, task_id: str, *, for_update: bool = False) -> Task | None:
        query = select(Task).where(Task.id == task_id)
        if for_update:
            query = query.with_for_update()
        return (await self.db.execute(query)).scalar_one_or_none()

    async def claimed_without_turn(self) -> list[Task]:
        query = select(Task).where(Task.status == ACTIVE, Task.turn_id.is_(None))
        return list((await self.db.execute(query)).scalars().all())


class ArtifactRepo:
    """A task's kept artifacts; the task is checked by whoever makes the repository."""

    def __init__(self, db: AsyncSession, task_id: str) -> None:
        self.db = db
        self.task_id = task_id

    async def listed(self) -> list[TaskArtifact]:
        """Without their content, in the order they were kept."""
        query = (
            select(TaskArtifact)
            .options(defer(TaskArtifact.content))
            .where(TaskArtifact.task_id == self.task_id)
            .order_by(TaskArtifact.id)
        )
        rows = (await self.db.execute(query)).scalars().all()
        return list(rows)

    async def count(self) -> int:
        query = select(func.count()).where(TaskArtifact.task_id == self.task_id)
        return int((await self.db.execute(query)).scalar_one())

    async def find(self, ref: str) -> TaskArtifact | None:
        """An artifact by id or by name."""
        column = TaskArtifact.id if ids.is_valid("art", ref) else TaskArtifact.name
        query = select(TaskArtifact).where(TaskArtifact.task_id == self.task_id, column == ref)
        return (await self.db.execute(query)).scalar_one_or_none()

    async def keep(self, name: str, kind: str, media_type: str, content: bytes) -> TaskArtifact:
        """Keep ``content`` under ``name``, replacing what was kept under it before."""
        await self.db.execute(
            delete(TaskArtifact).where(
                TaskArtifact.task_id == self.task_id, TaskArtifact.name == name
            )
        )
        artifact = TaskArtifact(
            id=ids.new_id("art"),
            task_id=self.task_id,
            name=name,
            type=kind,
            media_type=media_type,
            content=content,
            size=len(content),
        )
        self.db.add(artifact)
        return artifact
