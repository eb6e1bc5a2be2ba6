"""Conversations a client sends whole, as OpenAI's APIs do: the messages so far and a
last user message to answer. Each becomes a session of its own holding them, and a turn
answering; a conversation that goes on from an earlier answer (the Responses API's
``previous_response_id``) continues that answer's session, or a fork of it when the
session has moved on since."""

from dataclasses import dataclass, field, replace
from typing import Any

from roost.errors import InvalidRequest
from roost.services.agents import AgentService
from roost.services.caller import Caller
from roost.services.messages import ImportedMessage
from roost.services.sessions import SessionService
from roost.services.turns import TurnRequest, TurnService
from roost.store.models import Turn

# Kept out of session lists: an OpenAI client sends the whole conversation with every
# request, so each request would otherwise add a near copy of the last to the sidebar.
SESSION_KIND = "api"
TITLE_CHARS = 80


@dataclass(frozen=True)
class Conversation:
    """What a client sent: the turn to run (its last user message, agent, instructions)
    and the messages before it."""

    request: TurnRequest
    history: list[ImportedMessage] = field(default_factory=list)
    via: str = "api"  # the route it came by, kept in the session's metadata


class ConversationService:
    def __init__(self, sessions: SessionService, turns: TurnService, agents: AgentService) -> None:
        self.sessions = sessions
        self.turns = turns
        self.agents = agents

    async def start(self, caller: Caller, conversation: Conversation) -> Turn:
        """A new session holding the conversation, and the turn that answers it."""
        if conversation.request.agent is not None:  # before a session is made for it
            await self.agents.get(caller, conversation.request.agent)
        fields: dict[str, Any] = {
            "title": _title(conversation),
            "agent": conversation.request.agent,
            "metadata": {"via": conversation.via},
        }
        session = await self.sessions.create(caller, fields, kind=SESSION_KIND)
        if conversation.history:
            await self.sessions.replace(caller, session.id, {}, conversation.history)
        return await self.turns.send(caller, session.id, conversation.request)

    async def go_on(
        self, caller: Caller, previous_turn_id: str, conversation: Conversation
    ) -> Turn:
        """A turn answering the conversation after an earlier turn's answer: in that
        turn's session when it is the session's last, else in a fork ending with it."""
        if conversation.history:
            raise InvalidRequest(
                "After a previous response, send only the new user message",
                details={"field": "input"},
            )
        previous = await self.turns.find(caller, previous_turn_id)
        request = replace(conversation.request, agent=conversation.request.agent or previous.agent)
        page = await self.turns.page(caller, previous.session_id, limit=1, before=None)
        if page.items and page.items[0].id == previous.id:
            return await self.turns.send(caller, previous.session_id, request)
        _, _, answer = await self.turns.outcome(previous.id)
        if answer is None:
            raise InvalidRequest(
                f"Response of turn {previous.id} has no answer to go on from",
                details={"previous_turn_id": previous.id},
            )
        fork = await self.turns.fork(caller, previous.session_id, until=answer.id, title=None)
        return await self.turns.send(caller, fork.id, request)


def _title(conversation: Conversation) -> str:
    first = next((m.content for m in conversation.history if m.role == "user"), None)
    text = " ".join((first or conversation.request.content or "").split())
    return text[:TITLE_CHARS] or "Conversation"
