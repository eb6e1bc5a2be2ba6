"""Oqto's chat history: the same sessions and messages under Oqto's paths."""

from fastapi import APIRouter

from roost.api.deps import Caller, Services
from roost.api.routes import messages, sessions
from roost.api.schemas.sessions import (
    GroupedSessionsOut,
    MessageListOut,
    SessionListOut,
    SessionOut,
)

router = APIRouter(prefix="/chat-history", tags=["chat history"])

router.add_api_route(
    "",
    sessions.list_sessions,
    methods=["GET"],
    response_model=SessionListOut,
    name="list_chat_history",
    summary="List Chat History",
)
router.add_api_route(
    "/grouped",
    sessions.grouped_sessions,
    methods=["GET"],
    response_model=GroupedSessionsOut,
    name="grouped_chat_history",
    summary="Grouped Chat History",
)


@router.get("/{session_id}", response_model=SessionOut)
async def get_chat(caller: Caller, services: Services, session_id: str) -> SessionOut:
    """The session's metadata, without its messages."""
    return SessionOut.of(await services.sessions.get(caller, session_id))


router.add_api_route(
    "/{session_id}",
    sessions.update_session,
    methods=["PATCH"],
    response_model=SessionOut,
    name="update_chat",
    summary="Update Chat",
)
router.add_api_route(
    "/{session_id}/messages",
    messages.list_messages,
    methods=["GET"],
    response_model=MessageListOut,
    name="list_chat_messages",
    summary="List Chat Messages",
)
