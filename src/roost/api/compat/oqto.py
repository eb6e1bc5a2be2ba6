"""Oqto's own paths and shapes, over the same services as the native API: the chat
history (the same sessions and messages under Oqto's paths), stopping, resuming and
touching a session, the workspace (a project's free-form meta and its sandbox policy, for
the project named by ``project_id`` or else the caller's active project) and the JSON
schema of the settings."""

from enum import Enum
from typing import Annotated, Any

from fastapi import APIRouter, Query
from fastapi import Body as BodyParam
from pydantic import BaseModel, Field, StrictBool, StringConstraints

from roost.api.deps import Caller, Services
from roost.api.openapi import errors
from roost.api.routes import messages, sessions
from roost.api.schemas.common import ClientModel, Metadata, NoNul
from roost.api.schemas.projects import PolicyOut
from roost.api.schemas.sessions import (
    GroupedSessionsOut,
    MessageListOut,
    SessionListOut,
    SessionOut,
)
from roost.api.schemas.settings import SettingsIn
from roost.engine.tools.policy import SandboxPolicy
from roost.services.projects import may_loosen
from roost.store.models import Project

router = APIRouter()
CHAT_HISTORY: list[str | Enum] = ["chat history"]
WORKSPACE: list[str | Enum] = ["workspace"]

router.add_api_route(
    "/chat-history",
    sessions.list_sessions,
    tags=CHAT_HISTORY,
    methods=["GET"],
    response_model=SessionListOut,
    name="list_chat_history",
    summary="List Chat History",
)
router.add_api_route(
    "/chat-history/grouped",
    sessions.grouped_sessions,
    tags=CHAT_HISTORY,
    methods=["GET"],
    response_model=GroupedSessionsOut,
    name="grouped_chat_history",
    summary="Grouped Chat History",
)


@router.get("/chat-history/{session_id}", response_model=SessionOut, tags=CHAT_HISTORY)
async def get_chat(caller: Caller, services: Services, session_id: str) -> SessionOut:
    """The session's metadata, without its messages."""
    return SessionOut.of(await services.sessions.get(caller, session_id))


router.add_api_route(
    "/chat-history/{session_id}",
    sessions.update_session,
    tags=CHAT_HISTORY,
    methods=["PATCH"],
    response_model=SessionOut,
    name="update_chat",
    summary="Update Chat",
)
router.add_api_route(
    "/chat-history/{session_id}/messages",
    messages.list_messages,
    tags=CHAT_HISTORY,
    methods=["GET"],
    response_model=MessageListOut,
    name="list_chat_messages",
    summary="List Chat Messages",
)

ProjectQuery = Annotated[
    str | None, Query(max_length=64, description="A project id; default: the active project.")
]
Pattern = Annotated[
    str, StringConstraints(strict=True, min_length=1, max_length=256, strip_whitespace=True), NoNul
]


class MetaOut(BaseModel):
    project_id: str
    meta: dict[str, object]


class SandboxOut(BaseModel):
    project_id: str
    policy: PolicyOut = Field(description="What the project's owner (or an admin) set.")
    effective: PolicyOut = Field(description="The policy narrowed by what the server allows.")
    may_loosen: bool = Field(description="Whether the caller may lift restrictions.")


class SandboxChange(ClientModel):
    """Only the fields sent change; ``denied_paths`` replaces the whole list."""

    read_only: StrictBool | None = None
    allow_commands: StrictBool | None = None
    allow_network: StrictBool | None = None
    denied_paths: list[Pattern] | None = Field(
        None, max_length=100, description="Glob patterns relative to the project root."
    )


def policy_out(policy: SandboxPolicy) -> PolicyOut:
    return PolicyOut(**policy.as_json())


@router.get("/workspace/meta", tags=WORKSPACE, response_model=MetaOut, responses=errors(400, 404))
async def get_meta(caller: Caller, services: Services, project_id: ProjectQuery = None) -> MetaOut:
    project = await services.projects.workspace(caller, project_id)
    return MetaOut(project_id=project.id, meta=project.meta or {})


@router.patch("/workspace/meta", tags=WORKSPACE, response_model=MetaOut, responses=errors(400, 404))
async def change_meta(
    caller: Caller,
    services: Services,
    body: Annotated[Metadata, BodyParam(description="Keys to set; a key set to null goes.")],
    project_id: ProjectQuery = None,
) -> MetaOut:
    """Merge the body (a JSON object) into the meta."""
    project = await services.projects.workspace(caller, project_id)
    changed = await services.projects.change_meta(caller, project.id, body)
    return MetaOut(project_id=changed.id, meta=changed.meta or {})


@router.get(
    "/workspace/sandbox", tags=WORKSPACE, response_model=SandboxOut, responses=errors(400, 404)
)
async def get_sandbox(
    caller: Caller, services: Services, project_id: ProjectQuery = None
) -> SandboxOut:
    project = await services.projects.workspace(caller, project_id)
    return sandbox_out(services, caller, project)


@router.patch(
    "/workspace/sandbox", tags=WORKSPACE, response_model=SandboxOut, responses=errors(400, 404)
)
async def change_sandbox(
    caller: Caller, services: Services, body: SandboxChange, project_id: ProjectQuery = None
) -> SandboxOut:
    """Add restrictions; lifting one (403 ``SANDBOX_LOOSENING_FORBIDDEN``) is for admins."""
    project = await services.projects.workspace(caller, project_id)
    changes = body.model_dump(exclude_none=True)
    changed = await services.projects.change_sandbox(caller, project.id, changes)
    return sandbox_out(services, caller, changed)


def sandbox_out(services: Services, caller: Caller, project: Project) -> SandboxOut:
    return SandboxOut(
        project_id=project.id,
        policy=policy_out(services.projects.policy(project)),
        effective=policy_out(services.projects.effective_policy(project)),
        may_loosen=may_loosen(caller),
    )


@router.post("/sessions/{session_id}/stop", response_model=SessionOut, tags=["turns"])
async def stop_session(caller: Caller, services: Services, session_id: str) -> SessionOut:
    """Oqto: cancel what runs and mark the session stopped; a new message resumes it."""
    await services.turns.cancel_current(caller, session_id)
    return SessionOut.of(await services.sessions.set_status(caller, session_id, "stopped"))


@router.post("/sessions/{session_id}/resume", response_model=SessionOut, tags=["turns"])
async def resume_session(caller: Caller, services: Services, session_id: str) -> SessionOut:
    return SessionOut.of(await services.sessions.set_status(caller, session_id, "idle"))


@router.post("/sessions/{session_id}/activity", response_model=SessionOut, tags=["turns"])
async def touch_session(caller: Caller, services: Services, session_id: str) -> SessionOut:
    """Oqto: mark the session as in use now."""
    return SessionOut.of(await services.sessions.touch(caller, session_id))


@router.get("/settings/schema", response_model=dict[str, Any], tags=["settings"])
async def settings_schema(_caller: Caller) -> dict[str, Any]:
    """The JSON schema of what PATCH /api/settings accepts (Oqto)."""
    return SettingsIn.model_json_schema()
