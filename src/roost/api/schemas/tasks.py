"""Tasks and their artifacts: what a client sends and what it is shown (Mini-Devin's
shapes; Floyd's browork ones are in ``compat/floyd.py``)."""

from typing import Annotated, Any

from pydantic import BaseModel, Field, StrictBool, StrictInt

from roost.api.schemas.common import ClientModel, ListOut, Name, ShortName, Timestamp, Whole
from roost.api.schemas.turns import NotBlank
from roost.domain.task_status import TaskStatus
from roost.services.tasks import Artifact, TaskView

MAX_ITERATIONS = 1000

Iterations = Annotated[StrictInt, Field(ge=1, le=MAX_ITERATIONS), Whole]


class TaskCreate(ClientModel):
    """A task in a session (``POST /api/sessions/{id}/tasks``): created and started."""

    description: NotBlank = Field(description="What the agent is to do.")
    name: Name | None = Field(None, description="A short title; the description's first line.")
    model: Name | None = None
    agent: ShortName | None = None
    run_mode: ShortName | None = Field(None, description="Mini-Devin's run mode, kept as given.")
    max_iterations: Iterations | None = Field(
        None, description="Model calls the task may make; the agent's limit by default."
    )

    def fields(self) -> dict[str, Any]:
        return self.model_dump(include=set(TaskCreate.model_fields))


class TaskNew(TaskCreate):
    """A task of its own (``POST /api/tasks``): in a new session, started unless
    ``start`` is false."""

    project_id: ShortName | None = Field(None, description="The new session's project.")
    start: StrictBool = True


class PlanStepOut(BaseModel):
    id: str
    description: str
    status: str


class PlanOut(BaseModel):
    steps: list[PlanStepOut]


class TaskResultOut(BaseModel):
    success: bool
    summary: str


class TaskOut(BaseModel):
    id: str
    name: str
    description: str
    status: TaskStatus
    session_id: str
    project_id: str | None
    turn_id: str | None = Field(description="The turn of the task's latest run.")
    agent: str | None
    model: str | None
    run_mode: str | None
    max_iterations: int | None
    iterations: int
    plan: PlanOut | None
    result: TaskResultOut | None
    created_at: Timestamp
    started_at: Timestamp | None
    completed_at: Timestamp | None

    @classmethod
    def of(cls, shown: TaskView) -> "TaskOut":
        task = shown.task
        return cls(
            id=task.id,
            name=task.name,
            description=task.description,
            status=shown.status,
            session_id=task.session_id,
            project_id=task.project_id,
            turn_id=task.turn_id,
            agent=task.agent,
            model=task.model,
            run_mode=task.run_mode,
            max_iterations=task.max_iterations,
            iterations=shown.iterations,
            plan=PlanOut.model_validate(shown.plan) if shown.plan else None,
            result=TaskResultOut.model_validate(task.result) if task.result else None,
            created_at=task.created_at,
            started_at=task.started_at,
            completed_at=shown.completed_at,
        )


class TaskListOut(ListOut[TaskOut]):
    pass


class ClearedOut(BaseModel):
    cleared: int = Field(description="How many finished tasks were deleted.")


class ArtifactOut(BaseModel):
    id: str
    name: str
    type: str = Field(description="plan, diff, log or file")
    media_type: str
    size: int
    created_at: Timestamp

    @classmethod
    def of(cls, artifact: Artifact) -> "ArtifactOut":
        return cls(
            id=artifact.id,
            name=artifact.name,
            type=artifact.type,
            media_type=artifact.media_type,
            size=artifact.size,
            created_at=artifact.created_at,
        )


class ArtifactListOut(BaseModel):
    data: list[ArtifactOut]
    has_more: bool = False
    next_cursor: str | None = None
