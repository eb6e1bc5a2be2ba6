"""Answering what a turn waits on: a question for the user, or a tool call to allow.

The requests live in the store, not in a task, so an answer given after a restart
(or to another replica) finds them and the turn goes on from where it stopped.
"""

from dataclasses import dataclass
from typing import Any

from sqlalchemy import func, select, update

from roost import ids
from roost.clock import utcnow
from roost.domain.turn_status import TurnStatus
from roost.errors import InputNotFound, InputNotPending, InvalidInputResponse, TurnNotFound
from roost.services.caller import Caller
from roost.services.cursors import anchor
from roost.services.turns.service import TurnService
from roost.store.db import Database
from roost.store.models import Session, Turn, TurnInput
from roost.store.paging import Page, cut


@dataclass(frozen=True)
class InputResponse:
    """One of: allow the call, decline it (or the question), or answer the question."""

    approve: bool = False
    deny: bool = False
    answer: str | None = None
    reason: str | None = None
    remember: bool = False  # allow the tool for the rest of the session

    def stored(self, kind: str, request_id: str) -> dict[str, Any]:
        chosen = [self.approve, self.deny, self.answer is not None].count(True)
        if chosen != 1:
            raise InvalidInputResponse(
                "Give exactly one of approve, deny or answer",
                details={"request_id": request_id},
            )
        if kind == "tool_approval" and self.answer is not None:
            raise InvalidInputResponse(
                "A tool approval takes approve or deny, not an answer",
                details={"request_id": request_id, "kind": kind},
            )
        if kind == "question" and self.approve:
            raise InvalidInputResponse(
                "A question takes an answer (or deny to decline it)",
                details={"request_id": request_id, "kind": kind},
            )
        if self.remember and not self.approve:
            raise InvalidInputResponse(
                "remember goes with approve: it allows the tool for the rest of the session",
                details={"request_id": request_id},
            )
        if self.answer is not None:
            return {"answer": self.answer}
        if self.approve:
            return {"approve": True, **({"remember": True} if self.remember else {})}
        return {"deny": True, **({"reason": self.reason} if self.reason else {})}


@dataclass(frozen=True)
class Answered:
    request: TurnInput
    turn: Turn
    resumed: bool
    pending: list[TurnInput]


class TurnInputService:
    def __init__(self, database: Database, turns: TurnService) -> None:
        self.database = database
        self.turns = turns

    async def of_turn(self, caller: Caller, session_id: str, turn_id: str) -> list[TurnInput]:
        await self.turns.get(caller, session_id, turn_id)
        async with self.database.read() as db:
            query = select(TurnInput).where(TurnInput.turn_id == turn_id).order_by(TurnInput.id)
            return list((await db.execute(query)).scalars().all())

    async def waiting_on(
        self, caller: Caller, *, limit: int, before: str | None
    ) -> Page[TurnInput]:
        """Everything the caller's turns wait on, newest first: a client's inbox."""
        query = (
            select(TurnInput)
            .join(Session, Session.id == TurnInput.session_id)
            .where(Session.owner_id == caller.user_id, TurnInput.status == "pending")
        )
        async with self.database.read() as db:
            if before is not None:
                mine = select(Session.id).where(Session.owner_id == caller.user_id)
                await anchor(db, TurnInput, "inp", "before", before, TurnInput.session_id.in_(mine))
                query = query.where(TurnInput.id < before)
            rows = (
                await db.execute(query.order_by(TurnInput.id.desc()).limit(limit + 1))
            ).scalars()
            items, more = cut(list(rows), limit)
        return Page(items, more, items[-1].id if more and items else None)

    async def pending(self, turn_id: str) -> list[TurnInput]:
        """What a turn its caller already owns waits on."""
        async with self.database.read() as db:
            return await _pending(db, turn_id)

    async def answer(
        self,
        caller: Caller,
        session_id: str,
        turn_id: str,
        request_id: str,
        response: InputResponse,
    ) -> Answered:
        """Record the user's response; once nothing else is pending, the turn goes on."""
        await self.turns.get(caller, session_id, turn_id)
        async with self.database.write() as db:
            # The turn row is locked so that two answers to its last two requests
            # cannot both see the other still pending and leave the turn waiting.
            turn = (
                await db.execute(select(Turn).where(Turn.id == turn_id).with_for_update())
            ).scalar_one_or_none()
            if turn is None:
                raise TurnNotFound(turn_id)
            request = (
                await db.get(TurnInput, request_id) if ids.is_valid("inp", request_id) else None
            )
            if request is None or request.turn_id != turn_id:
                raise InputNotFound(request_id)
            if request.status != "pending" or turn.status != TurnStatus.WAITING:
                raise InputNotPending(request_id, request.status)
            stored = response.stored(request.kind, request_id)
            # The turn's row lock above makes this request's check and change one step.
            request.status, request.response, request.answered_at = "answered", stored, utcnow()
            if response.remember and request.tool:
                session = await db.get(Session, session_id)
                if session is not None and request.tool not in (session.approved_tools or []):
                    session.approved_tools = [*(session.approved_tools or []), request.tool]
                # The tool's other calls waiting in this turn are allowed with it.
                await db.execute(
                    update(TurnInput)
                    .where(
                        TurnInput.turn_id == turn_id,
                        TurnInput.status == "pending",
                        TurnInput.kind == "tool_approval",
                        TurnInput.tool == request.tool,
                    )
                    .values(status="answered", response=stored, answered_at=utcnow())
                )
            left = await db.scalar(
                select(func.count())
                .select_from(TurnInput)
                .where(TurnInput.turn_id == turn_id, TurnInput.status == "pending")
            )
            resumed = not left
            if resumed:
                turn.status = TurnStatus.QUEUED
                turn.options = {**turn.options, "resuming": True}
        if resumed:
            await self.turns.go_on(session_id, turn_id)
        async with self.database.read() as db:
            request = await db.get(TurnInput, request_id)
            fresh = await db.get(Turn, turn_id)
            assert request is not None and fresh is not None
            return Answered(request, fresh, resumed, await _pending(db, turn_id))


async def _pending(db: Any, turn_id: str) -> list[TurnInput]:
    query = (
        select(TurnInput)
        .where(TurnInput.turn_id == turn_id, TurnInput.status == "pending")
        .order_by(TurnInput.id)
    )
    return list((await db.execute(query)).scalars().all())
