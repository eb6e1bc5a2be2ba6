"""Floyd's own paths and shapes, over the same services as the native API: the one-field
session routes (aliases of PATCH answering ``{success, session}``), the import of a
session (``PUT``), the ``PUT`` twin of a project's PATCH, the stateless chat (one message
in, the answer out; a null session makes one), the settings update answering
``{"success": true}`` and the provider key test, a tool run outside any turn, and the
background tasks of browork."""

from dataclasses import replace
from typing import Any

from fastapi import APIRouter, Response
from pydantic import BaseModel, Field, computed_field

from roost.api.deps import Before, Caller, Limit, Services
from roost.api.openapi import errors
from roost.api.routes import projects
from roost.api.routes.turns import TURN_RESPONSES, finished, settled
from roost.api.schemas.common import (
    Body,
    ClientModel,
    ListOut,
    Metadata,
    Name,
    ShortName,
    SuccessOut,
    either,
)
from roost.api.schemas.projects import ProjectOut
from roost.api.schemas.sessions import (
    ArchiveIn,
    FloydFolderIn,
    FloydRenameIn,
    FloydSessionOut,
    PinIn,
    SessionOut,
    SessionReplace,
)
from roost.api.schemas.settings import SettingsIn, TestKeyIn, TestKeyOut
from roost.api.schemas.turns import MAX_ATTACHMENTS, Attachment, InputOut, NotBlank, TurnOptions
from roost.api.sse import event_stream
from roost.domain.task_status import TaskStatus
from roost.engine.tools.approval import needs_approval
from roost.engine.tools.registry import ToolContext, ToolError
from roost.errors import ApprovalRequired
from roost.services.messages import ImportedMessage
from roost.services.tasks import TaskView
from roost.services.turns import TurnRequest

router = APIRouter()


async def _patched(
    services: Services, caller: Caller, session_id: str, changes: dict[str, object]
) -> FloydSessionOut:
    session = await services.sessions.update(caller, session_id, changes)
    return FloydSessionOut(session=SessionOut.of(session))


@router.patch("/sessions/{session_id}/rename", response_model=FloydSessionOut, tags=["sessions"])
async def rename_session(
    caller: Caller, services: Services, session_id: str, body: FloydRenameIn
) -> FloydSessionOut:
    """Set (or with null, clear) the custom title; the generated title stays."""
    return await _patched(services, caller, session_id, {"custom_title": body.custom_title})


@router.patch("/sessions/{session_id}/pin", response_model=FloydSessionOut, tags=["sessions"])
async def pin_session(
    caller: Caller, services: Services, session_id: str, body: PinIn
) -> FloydSessionOut:
    return await _patched(services, caller, session_id, {"pinned": body.pinned})


@router.patch("/sessions/{session_id}/folder", response_model=FloydSessionOut, tags=["sessions"])
async def move_session_to_folder(
    caller: Caller, services: Services, session_id: str, body: FloydFolderIn
) -> FloydSessionOut:
    """Null or an empty name takes the session out of any folder."""
    return await _patched(services, caller, session_id, {"folder": body.folder})


@router.patch("/sessions/{session_id}/archive", response_model=FloydSessionOut, tags=["sessions"])
async def archive_session(
    caller: Caller, services: Services, session_id: str, body: ArchiveIn
) -> FloydSessionOut:
    return await _patched(services, caller, session_id, {"archived": body.archived})


class ChatIn(TurnOptions):
    session_id: str | None = either("session_id", "session")
    message: Body = either("message", "content")
    attachments: list[Attachment] = Field(default_factory=list, max_length=MAX_ATTACHMENTS)


class ChatSession(BaseModel):
    id: str
    title: str


class ChatOut(BaseModel):
    success: bool = True
    response: str
    usage: dict[str, int]
    session: ChatSession
    turn_id: str
    input_required: list[InputOut] = Field(
        default_factory=list,
        description="What the turn asks when it waits on the user (see POST …/input).",
    )


async def _start(caller: Any, services: Services, body: ChatIn) -> tuple[str, str]:
    request = body.request(body.message, body.attachments)
    if body.session_id is not None:
        session_id = body.session_id
    else:  # a new session is named after its first exchange
        session_id = (await services.sessions.create(caller, {})).id
        request = TurnRequest(**{**vars(request), "generate_title": True})
    turn = await services.turns.send(caller, session_id, request)
    return session_id, turn.id


@router.post("/chat", tags=["chat"], response_model=ChatOut, responses=errors(404, 502, 503))
async def chat(caller: Caller, services: Services, body: ChatIn) -> ChatOut:
    """Send one message and wait for the answer."""
    session_id, turn_id = await _start(caller, services, body)
    await settled(services, session_id, turn_id)
    result = await finished(services, turn_id)
    session = await services.sessions.get(caller, session_id)
    usage = result.turn.usage
    return ChatOut(
        response=result.reply.content if result.reply else "",
        usage={"input_tokens": usage.input_tokens, "output_tokens": usage.output_tokens},
        session=ChatSession(id=session.id, title=session.custom_title or session.title or ""),
        turn_id=turn_id,
        input_required=result.input_required,
    )


@router.post(
    "/chat/stream",
    tags=["chat"],
    response_model=None,
    responses={200: TURN_RESPONSES[200], **errors(404, 502, 503)},
)
async def chat_stream(caller: Caller, services: Services, body: ChatIn) -> Response:
    """Send one message and stream the turn's events."""
    session_id, turn_id = await _start(caller, services, body)
    events = services.turns.follow(session_id, turn_id)
    return event_stream(events, turn_id=turn_id, session_id=session_id)


@router.put("/sessions/{session_id}", response_model=SessionOut, tags=["sessions"])
async def replace_session(
    caller: Caller, services: Services, session_id: str, body: SessionReplace
) -> SessionOut:
    """Floyd's import: change the session and, if ``messages`` is sent, replace its history."""
    changes = body.model_dump(exclude_unset=True, exclude={"messages"})
    messages = None
    if body.messages is not None:
        messages = [ImportedMessage(m.role, m.content, m.moment()) for m in body.messages]
    return SessionOut.of(await services.sessions.replace(caller, session_id, changes, messages))


router.add_api_route(
    "/projects/{project_id}",
    projects.update_project,
    tags=["projects"],
    methods=["PUT"],
    response_model=ProjectOut,
    responses=projects.RESERVED,
    name="replace_project",
    summary="Update Project (Floyd's PUT)",
    description="The same as PATCH: the fields sent are changed.",
)


@router.post("/settings", response_model=SuccessOut, tags=["settings"])
async def post_settings(caller: Caller, services: Services, body: SettingsIn) -> SuccessOut:
    """Floyd's update: the same as PATCH, answering ``{"success": true}``."""
    await services.user_settings.update(caller, body.model_dump(exclude_unset=True))
    return SuccessOut()


@router.post("/test-key", response_model=TestKeyOut, tags=["settings"])
async def test_key(caller: Caller, services: Services, body: TestKeyIn) -> TestKeyOut:
    """Really call the provider with the key (or the stored one) and say if it works."""
    ok, model, message = await services.user_settings.test_key(
        caller, body.provider, body.api_key, body.base_url, body.model
    )
    if ok:
        return TestKeyOut(success=True, model=model, message=message)
    return TestKeyOut(success=False, model=model, error=message)


class ExecuteIn(ClientModel):
    name: ShortName
    args: Metadata = Field(default_factory=dict)
    project_id: ShortName | None = None


class ExecuteOut(BaseModel):
    success: bool
    result: Any = None
    error: str | None = None
    duration_ms: int
    truncated: bool = False


@router.post(
    "/tools/execute",
    tags=["tools"],
    response_model=ExecuteOut,
    responses=errors(
        404, codes={403: "`APPROVAL_REQUIRED`: the tool's calls need approval, so only in a turn"}
    ),
)
async def execute_tool(caller: Caller, services: Services, body: ExecuteIn) -> ExecuteOut:
    """Run a tool outside any turn: ``{success, result}`` or ``{success: false, error}``
    (a tool's failure is an answer, not an HTTP error). File tools work in the project
    named, else the caller's active one. A tool whose calls need approval runs only in
    a turn, where the call waits for it (403 APPROVAL_REQUIRED), except for admins."""
    admin = caller.acts_as_admin
    if not admin:
        await _refuse_if_approval_needed(services, body.name)
    context = ToolContext(session_id="", turn_id="", owner_id=caller.user_id, admin=admin)
    project_id = body.project_id
    if project_id is None:
        active = await services.projects.active_of(caller.user_id)
        project_id = active.id if active is not None else None
    if project_id is not None:
        sandbox = await services.projects.sandbox_for(caller.user_id, project_id)
        context = replace(context, working_directory=str(sandbox.root), policy=sandbox.policy)
    outcome = await services.tools.execute(body.name, body.args, context)
    return ExecuteOut(
        success=outcome.success,
        result=outcome.result,
        error=outcome.error,
        duration_ms=outcome.duration_ms,
        truncated=outcome.truncated,
    )


async def _refuse_if_approval_needed(services: Services, name: str) -> None:
    try:
        tool = await services.tools.find(name)
    except ToolError:
        return  # its source is unreachable: running it fails with the reason
    requiring = services.settings.tools_requiring_approval
    if tool is not None and needs_approval(tool, requiring=requiring):
        raise ApprovalRequired(name)


# Browork: Floyd's background tasks, Roost's tasks in Floyd's shape.


class BroworkTaskIn(ClientModel):
    name: Name | None = None
    description: NotBlank


class BroworkTask(BaseModel):
    id: str
    name: str
    description: str
    status: TaskStatus
    created: int = Field(description="Milliseconds since 1970, as Floyd sends it.")
    result: str | None = Field(description="The result's summary once the task ended.")
    success: bool | None
    session_id: str

    @classmethod
    def of(cls, shown: TaskView) -> "BroworkTask":
        task = shown.task
        return cls(
            id=task.id,
            name=task.name,
            description=task.description,
            status=shown.status,
            created=int(task.created_at.timestamp() * 1000),
            result=(task.result or {}).get("summary"),
            success=(task.result or {}).get("success"),
            session_id=task.session_id,
        )


class BroworkTasksOut(ListOut[BroworkTask]):
    @computed_field  # type: ignore[prop-decorator]
    @property
    def tasks(self) -> list[BroworkTask]:
        """Floyd's key for the same list."""
        return self.data


class BroworkClearedOut(SuccessOut):
    cleared: int


@router.get("/browork/tasks", response_model=BroworkTasksOut, tags=["tasks"])
async def browork_tasks(
    caller: Caller, services: Services, limit: Limit = 50, before: Before = None
) -> BroworkTasksOut:
    """Every task, newest first."""
    page = await services.tasks.page(caller, limit=limit, before=before)
    return BroworkTasksOut.of(page, BroworkTask.of)


@router.post("/browork/tasks", status_code=201, response_model=BroworkTask, tags=["tasks"])
async def create_browork_task(
    caller: Caller, services: Services, body: BroworkTaskIn
) -> BroworkTask:
    """Create a task in a new session, not started (``/start`` starts it)."""
    fields = {"name": body.name, "description": body.description}
    return BroworkTask.of(await services.tasks.create(caller, fields, start=False))


@router.get("/browork/tasks/{task_id}", response_model=BroworkTask, tags=["tasks"])
async def browork_task(caller: Caller, services: Services, task_id: str) -> BroworkTask:
    return BroworkTask.of(await services.tasks.get(caller, task_id))


@router.post(
    "/browork/tasks/{task_id}/start",
    response_model=BroworkTask,
    tags=["tasks"],
    responses=errors(409, 502, 503),
)
async def start_browork_task(caller: Caller, services: Services, task_id: str) -> BroworkTask:
    return BroworkTask.of(await services.tasks.start(caller, task_id))


@router.post("/browork/tasks/{task_id}/cancel", response_model=BroworkTask, tags=["tasks"])
async def cancel_browork_task(caller: Caller, services: Services, task_id: str) -> BroworkTask:
    return BroworkTask.of(await services.tasks.stop(caller, task_id))


@router.delete("/browork/tasks/{task_id}", response_model=SuccessOut, tags=["tasks"])
async def delete_browork_task(caller: Caller, services: Services, task_id: str) -> SuccessOut:
    await services.tasks.delete(caller, task_id)
    return SuccessOut()


@router.post("/browork/clear", response_model=BroworkClearedOut, tags=["tasks"])
async def clear_browork_tasks(caller: Caller, services: Services) -> BroworkClearedOut:
    """Delete every finished task."""
    return BroworkClearedOut(cleared=await services.tasks.clear(caller))
