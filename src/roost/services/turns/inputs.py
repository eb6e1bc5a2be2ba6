"""Answering what a turn waits on: a question for the user, or a tool call to allow.

The requests live in the store, not in a task, so an answer given after a restart
(or to another replica) finds them and the turn goes on from where it stopped.
"""

from dataclasses import dataclass
from functools import partial
from typing import Any

from roost import ids
from roost.clock import utcnow
from roost.domain.turn_status import TurnStatus
from roost.errors import InputNotFound, InputNotPending, InvalidInputResponse, TurnNotFound
from roost.services.caller import Caller
from roost.services.cursors import anchor
from roost.services.turns.service import TurnService
from roost.store.db import Database
from roost.store.models import Turn, TurnInput
from roost.store.paging import Page
from roost.store.sessions import UncheckedSessions
from roost.store.turn_inputs import TurnInputRepo
from roost.store.turns import TurnRepo


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
            return await TurnInputRepo(db).of_turn(turn_id)

    async def waiting_on(
        self, caller: Caller, *, limit: int, before: str | None
    ) -> Page[TurnInput]:
        """Everything the caller's turns wait on, newest first: a client's inbox."""
        async with self.database.read() as db:
            inputs = TurnInputRepo(db)
            if before is not None:
                await anchor(partial(inputs.find_owned, caller), "before", before)
            items, more = await inputs.waiting_on(caller, limit=limit, before=before)
        return Page(items, more, items[-1].id if more and items else None)

    async def pending(self, turn_id: str) -> list[TurnInput]:
        """What a turn its caller already owns waits on."""
        async with self.database.read() as db:
            return await TurnInputRepo(db).pending(turn_id)

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
            turn = await TurnRepo(db).lock_unchecked(turn_id)
            if turn is None:
                raise TurnNotFound(turn_id)
            inputs = TurnInputRepo(db)
            valid = ids.is_valid("inp", request_id)
            request = await inputs.get_unchecked(request_id) if valid else None
            if request is None or request.turn_id != turn_id:
                raise InputNotFound(request_id)
            if request.status != "pending" or turn.status != TurnStatus.WAITING:
                raise InputNotPending(request_id, request.status)
            stored = response.stored(request.kind, request_id)
            # The turn's row lock above makes this request's check and change one step.
            request.status, request.response, request.answered_at = "answered", stored, utcnow()
            if response.remember and request.tool:
                session = await UncheckedSessions(db).get(session_id)
                if session is not None and request.tool not in (session.approved_tools or []):
                    session.approved_tools = [*(session.approved_tools or []), request.tool]
                # The tool's other calls waiting in this turn are allowed with it.
                await inputs.approve_pending_calls(turn_id, request.tool, stored, utcnow())
            resumed = not await inputs.count_pending(turn_id)
            if resumed:
                turn.status = TurnStatus.QUEUED
                turn.options = {**turn.options, "resuming": True}
        if resumed:
            await self.turns.go_on(session_id, turn_id)
        async with self.database.read() as db:
            inputs = TurnInputRepo(db)
            request = await inputs.get_unchecked(request_id)
            fresh = await TurnRepo(db).get_unchecked(turn_id)
            assert request is not None and fresh is not None
            return Answered(request, fresh, resumed, await inputs.pending(turn_id))
