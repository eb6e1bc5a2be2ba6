"""Delegation (Oqto): an agent hands work to another agent (or itself) in a child
session, and waits for its answer or checks on it later.

A child is a session whose ``parent_id`` is the delegating session, with its depth
and the turn that made it in ``metadata.delegation``; its turns are turns like any
other (stream, resume, cancel), run on behalf of the parent's turn (``owner``), so
the child's usage counts in the parent session's too. Children stop at a depth
(``ROOST_DELEGATION_MAX_DEPTH``) and a fan-out per turn
(``ROOST_DELEGATION_MAX_CHILDREN``); a parent turn cancelled cancels its children.
"""

import asyncio
import weakref
from contextlib import aclosing
from typing import Any

from sqlalchemy.ext.asyncio import AsyncSession

from roost.config import Settings
from roost.domain.events import Status
from roost.domain.turn_status import ACTIVE, TurnStatus
from roost.engine.tools.registry import Tool, ToolContext, ToolError
from roost.errors import ApiError, DelegationLimit, SessionNotFound
from roost.services.caller import Caller
from roost.services.sessions import SessionService
from roost.services.turns import Ending, Extras, TurnRequest, TurnService
from roost.store.models import Message, Session, Turn
from roost.store.paging import Page
from roost.store.sessions import UncheckedSessions

MAX_PROMPT = 100_000


class DelegationService:
    def __init__(self, turns: TurnService, sessions: SessionService, settings: Settings) -> None:
        self.turns = turns
        self.sessions = sessions
        self.max_depth = settings.delegation_max_depth
        self.max_children = settings.delegation_max_children
        self._locks: weakref.WeakValueDictionary[str, asyncio.Lock] = weakref.WeakValueDictionary()

    async def start(
        self,
        caller: Caller,
        prompt: str,
        *,
        agent: str | None = None,
        parent_id: str | None = None,
        parent_turn_id: str | None = None,
    ) -> tuple[Session, Turn]:
        """A child session (of ``parent_id``, if given) answering ``prompt``."""
        depth = 1
        project_id = None
        if parent_id is not None:
            parent = await self.sessions.get(caller, parent_id)
            depth = _depth(parent) + 1
            project_id = parent.project_id
        if depth > self.max_depth:
            raise DelegationLimit("depth", self.max_depth)
        # A turn's tool calls run side by side: its children are counted and made one
        # at a time (a turn runs in one process, so a lock of this one is enough).
        lock = self._locks.setdefault(parent_turn_id or "", asyncio.Lock())
        async with lock:
            if parent_turn_id is not None:
                made = await self.sessions.children(caller, parent_turn_id)
                if made >= self.max_children:
                    raise DelegationLimit("children", self.max_children)
            child = await self.sessions.create_child(
                caller,
                parent_id,
                {
                    "title": "Delegated: " + " ".join(prompt.split())[:60],
                    "agent": agent,
                    "project_id": project_id,
                    "metadata": {"delegation": {"depth": depth}},
                },
                by=parent_turn_id or "api",
            )
        try:
            turn = await self.prompt(caller, child.id, prompt, agent=agent, parent=parent_turn_id)
        except ApiError:
            await self.sessions.delete(caller, child.id)
            raise
        return child, turn

    async def prompt(
        self,
        caller: Caller,
        child_id: str,
        prompt: str,
        *,
        agent: str | None = None,
        parent: str | None = None,
    ) -> Turn:
        """Another turn in a child session, queued behind one running there."""
        child = await self.child(caller, child_id)
        owner = {"kind": "delegation", "id": parent or child.delegated_by or "api"}
        request = TurnRequest(content=prompt, agent=agent, on_busy="enqueue", owner=owner)
        return await self.turns.send(caller, child.id, request)

    async def child(self, caller: Caller, child_id: str) -> Session:
        """A delegated session of the caller's (any other session is not found here)."""
        session = await self.sessions.get(caller, child_id)
        if session.delegated_by is None:
            raise SessionNotFound(child_id)
        return session

    async def status(self, caller: Caller, child_id: str) -> tuple[Session, Turn | None]:
        child = await self.child(caller, child_id)
        page = await self.turns.page(caller, child.id, limit=1, before=None)
        return child, page.items[0] if page.items else None

    async def result(self, caller: Caller, child_id: str) -> tuple[str, str | None]:
        """The child's latest turn's status, and its answer once it completed."""
        _, turn = await self.status(caller, child_id)
        if turn is None:
            return "idle", None
        if turn.status in ACTIVE:
            return turn.status.value, None
        _, _, reply = await self.turns.outcome(turn.id)
        return turn.status.value, reply.content if reply is not None else None

    async def wait(self, caller: Caller, turn: Turn) -> tuple[str, str | None]:
        """Follow a child's turn to its end; a cancel of the waiting parent cancels it."""
        try:
            events = self.turns.follow(turn.session_id, turn.id)
            async with aclosing(events):
                async for batch in events:
                    if any(e.type in ("done", "input_required") for e in batch):
                        break
        except asyncio.CancelledError:
            await asyncio.shield(self.turns.cancel(caller, turn.session_id, turn.id))
            raise
        return await self.result(caller, turn.session_id)

    async def parent_ended(self, turn: Turn, user_id: str) -> None:
        """A turn that delegated and was cancelled: its children still at work stop too."""
        caller = Caller(user_id)
        children = await self.sessions.delegated_by_turn(caller, turn.id)
        if not children:
            return
        ended = await self.turns.get(caller, turn.session_id, turn.id)
        if ended.status != TurnStatus.CANCELLED:
            return
        for child in children:
            await self.turns.cancel_current(caller, child.id)

    async def stop(self, caller: Caller, child_id: str) -> list[Turn]:
        child = await self.child(caller, child_id)
        return await self.turns.cancel_current(caller, child.id)

    async def messages(self, caller: Caller, child_id: str, *, limit: int) -> list[Message]:
        child = await self.child(caller, child_id)
        found = await self.sessions.get_with_messages(caller, child.id, limit=limit)
        return found.messages.items

    async def listed(
        self, caller: Caller, *, limit: int, before: str | None = None
    ) -> Page[Session]:
        return await self.sessions.delegated(caller, limit=limit, before=before)

    def tools(self) -> list[Tool]:
        """``delegate``, ``delegate_status`` and ``delegate_result``, over this service."""
        return [
            Tool("delegate", DELEGATE_HELP, DELEGATE_SCHEMA, self._delegate),
            Tool("delegate_status", STATUS_HELP, CHILD_SCHEMA, self._status),
            Tool("delegate_result", RESULT_HELP, CHILD_SCHEMA, self._result),
        ]

    async def _delegate(self, args: dict[str, Any], context: ToolContext) -> dict[str, Any]:
        prompt, agent, wait = args.get("prompt"), args.get("agent"), args.get("wait", True)
        if not isinstance(prompt, str) or not prompt.strip() or len(prompt) > MAX_PROMPT:
            raise ToolError("prompt must say what the other agent is to do")
        if agent is not None and not isinstance(agent, str):
            raise ToolError("agent must be an agent's name")
        caller = Caller(context.owner_id, is_admin=context.admin)
        try:
            child, turn = await self.start(
                caller,
                prompt,
                agent=agent,
                parent_id=context.session_id,
                parent_turn_id=context.turn_id,
            )
        except ApiError as refused:
            raise ToolError(refused.message) from None
        await context.emit(
            Status(
                status="delegated",
                message=f"Delegated to {agent or 'assistant'} in session {child.id}",
            )
        )
        handle = {"session_id": child.id, "turn_id": turn.id}
        if wait is False:
            return {**handle, "status": "running"}
        status, answer = await self.wait(caller, turn)
        await context.emit(Status(status="delegate_done", message=f"{child.id}: {status}"))
        return {**handle, "status": status, "answer": answer}

    async def _status(self, args: dict[str, Any], context: ToolContext) -> dict[str, Any]:
        caller = Caller(context.owner_id, is_admin=context.admin)
        child, turn = await self._checked(self.status, caller, args)
        return {
            "session_id": child.id,
            "status": turn.status.value if turn is not None else "idle",
            "turn_id": turn.id if turn is not None else None,
        }

    async def _result(self, args: dict[str, Any], context: ToolContext) -> dict[str, Any]:
        caller = Caller(context.owner_id, is_admin=context.admin)
        status, answer = await self._checked(self.result, caller, args)
        return {"session_id": args["session_id"], "status": status, "answer": answer}

    @staticmethod
    async def _checked(work: Any, caller: Caller, args: dict[str, Any]) -> Any:
        child_id = args.get("session_id")
        if not isinstance(child_id, str):
            raise ToolError("session_id must name a delegated session")
        try:
            return await work(caller, child_id)
        except ApiError as refused:
            raise ToolError(refused.message) from None


class DelegationOwner:
    """A child's turn runs on behalf of its parent's: its usage counts there too."""

    async def extras(self, _turn: Turn, _parent_turn_id: str, /) -> Extras:
        return Extras()

    async def turn_ended(
        self, db: AsyncSession, turn: Turn, _parent_turn_id: str, ending: Ending
    ) -> None:
        sessions = UncheckedSessions(db)
        child = await sessions.get(turn.session_id)
        if child is not None and child.parent_id is not None and ending.usage:
            await sessions.add_usage(
                child.parent_id,
                int(ending.usage.get("input_tokens", 0)),
                int(ending.usage.get("output_tokens", 0)),
            )

    async def after_end(self, turn: Turn, parent_turn_id: str) -> None:
        del turn, parent_turn_id


def _meta(session: Session) -> dict[str, Any]:
    found = (session.meta or {}).get("delegation")
    return found if isinstance(found, dict) else {}


def _depth(session: Session) -> int:
    depth = _meta(session).get("depth", 0)
    return depth if isinstance(depth, int) else 0


DELEGATE_HELP = (
    "Hand a piece of work to another agent (or a fresh copy of yourself) in a session of "
    "its own. By default wait for its answer; with wait: false get a handle at once and "
    "check on it with delegate_status and delegate_result."
)
STATUS_HELP = "Whether a delegated session's work is running, waiting or done."
RESULT_HELP = "The answer of a delegated session's latest work, once done."
DELEGATE_SCHEMA = {
    "type": "object",
    "properties": {
        "prompt": {"type": "string", "description": "What the other agent is to do."},
        "agent": {"type": "string", "description": "The agent to ask; yourself by default."},
        "wait": {"type": "boolean", "description": "Wait for the answer (default true)."},
    },
    "required": ["prompt"],
    "additionalProperties": False,
}
CHILD_SCHEMA = {
    "type": "object",
    "properties": {"session_id": {"type": "string", "description": "The delegated session."}},
    "required": ["session_id"],
    "additionalProperties": False,
}
