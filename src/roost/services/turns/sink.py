"""Where a running turn's output lands: its event log and the session's messages."""

from typing import Any

from sqlalchemy.ext.asyncio import AsyncSession

from roost import ids
from roost.domain.events import InputRequired, Payload
from roost.domain.turn_status import TurnStatus
from roost.engine.providers.base import ToolCall
from roost.engine.runner import Answer, InputRequest, Usage, tool_result_text
from roost.engine.tools.registry import ToolOutcome
from roost.services.turns.event_log import EventWriter
from roost.store.messages import UncheckedMessages
from roost.store.models import Message, Session, Turn, TurnInput
from roost.store.sessions import UncheckedSessions
from roost.store.turn_inputs import TurnInputRepo
from roost.store.turns import TurnRepo


class TurnSink:
    """Where the runner's output lands: the event log and the session's messages."""

    def __init__(
        self,
        writer: EventWriter,
        turn: Turn,
        continuing: str | None,
        *,
        prepared: str | None = None,
    ) -> None:
        self.writer = writer
        self.turn = turn
        self.continuing = continuing
        self.prepared = prepared  # an empty answer stored with the turn's start
        self._continued_from: tuple[str, list[dict[str, Any]]] | None = None

    async def emit(self, payload: Payload) -> Any:
        return await self.writer.emit(payload)

    async def answer_started(self) -> str:
        if self.prepared is not None:
            message_id, self.prepared = self.prepared, None
            return message_id
        message_id = ids.new_id("msg")

        async def add(db: AsyncSession) -> None:
            session = await UncheckedSessions(db).get(self.turn.session_id)
            add_empty_answer(db, self.turn, session, message_id)

        self.writer.change(add)
        return message_id

    def drop_unused(self) -> None:
        """The turn ended before its first model call: its prepared answer goes."""
        if self.prepared is not None:
            message_id, self.prepared = self.prepared, None

            async def drop(db: AsyncSession) -> None:
                await self._drop_answer(db, message_id)

            self.writer.change(drop)

    async def _drop_answer(self, db: AsyncSession, message_id: str) -> None:
        removed = await UncheckedMessages(db).delete(message_id)
        session = await UncheckedSessions(db).get(self.turn.session_id)
        if session is not None and removed:
            session.message_count = max(0, session.message_count - 1)

    async def answer_finished(self, answer: Answer) -> None:
        async def store(db: AsyncSession) -> None:
            await self.store_answer(db, answer, "completed")

        self.writer.change(store)

    async def store_answer(self, db: AsyncSession, answer: Answer, status: str) -> None:
        """The answer's text, parts and usage into its message, marked ``status``."""
        if status == "completed" and answer.finish == "length":
            status = "truncated"
        messages = UncheckedMessages(db)
        if answer.message_id != self.continuing:  # an answer of this turn's own
            await messages.fill(
                answer.message_id,
                content=answer.text,
                parts=answer.parts(),
                status=status,
                usage=answer.usage.as_dict(),
            )
            return
        message = await messages.get(answer.message_id)
        if message is None:
            return
        if self._continued_from is None:
            self._continued_from = (message.content, list(message.parts or []))
        before, parts = self._continued_from
        message.content = before + answer.text
        message.parts = _join_text(parts, answer.text)
        message.status = status
        message.usage = answer.usage.as_dict()
        message.turn_id = message.turn_id or self.turn.id

    async def tools_finished(self, results: list[tuple[ToolCall, ToolOutcome]]) -> None:
        # Made now, not at commit: ids order history, and the next answer's id is next.
        rows = [
            Message(
                id=ids.new_id("msg"),
                session_id=self.turn.session_id,
                turn_id=self.turn.id,
                role="tool",
                content=tool_result_text(outcome),
                parts=[
                    {
                        "type": "tool_result",
                        "call_id": call.id,
                        "tool": call.name,
                        "result": outcome.result,
                        "success": outcome.success,
                        "error": outcome.error,
                        "duration_ms": outcome.duration_ms,
                    }
                ],
                status="completed",
            )
            for call, outcome in results
        ]

        async def store(db: AsyncSession) -> None:
            messages = UncheckedMessages(db)
            for row in rows:
                messages.add(row)
            session = await UncheckedSessions(db).get(self.turn.session_id)
            if session is not None:
                session.message_count += len(rows)

        self.writer.change(store)

    async def input_required(
        self, requests: list[InputRequest], iterations: int, usage: Usage
    ) -> None:
        """The turn waits: its requests, its new status and the ``input_required`` events
        land in one transaction, so an answer can never arrive for a request not yet stored."""
        turn = self.turn
        rows = [
            TurnInput(
                id=ids.new_id("inp"),
                turn_id=turn.id,
                session_id=turn.session_id,
                call_id=ask.call.id,
                kind=ask.kind,
                prompt=ask.prompt,
                tool=ask.call.name,
                args=ask.call.arguments,
                status="pending",
            )
            for ask in requests
        ]

        async def wait(db: AsyncSession) -> list[Payload]:
            TurnInputRepo(db).add_all(rows)
            await TurnRepo(db).set_fields(
                turn.id,
                turn.attempt,
                status=TurnStatus.WAITING,
                iterations=iterations,
                usage=usage.as_dict(),
            )
            session = await UncheckedSessions(db).get(turn.session_id)
            if session is not None:
                session.status = "waiting"
            return events

        events: list[Payload] = [
            InputRequired(
                request_id=row.id,
                kind=ask.kind,
                prompt=ask.prompt,
                tool=ask.call.name,
                args=ask.call.arguments,
                call_id=ask.call.id,
                **({"options": ask.options} if ask.options else {}),
            )
            for row, ask in zip(rows, requests, strict=True)
        ]
        await self.writer.commit_with(wait)


def add_empty_answer(
    db: AsyncSession, turn: Turn, session: Session | None, message_id: str | None = None
) -> str:
    """An empty assistant message for an answer about to stream, counted in its session."""
    message = Message(
        id=message_id or ids.new_id("msg"),
        session_id=turn.session_id,
        turn_id=turn.id,
        role="assistant",
        content="",
        parts=[],
        status="streaming",
    )
    UncheckedMessages(db).add(message)
    if session is not None:
        session.message_count += 1
    return message.id


def _join_text(parts: list[dict[str, Any]], more: str) -> list[dict[str, Any]]:
    """Append continued text to the answer's last text part."""
    joined = [dict(part) for part in parts]
    for part in reversed(joined):
        if part.get("type") == "text":
            part["text"] = str(part.get("text", "")) + more
            return joined
    return [*joined, {"type": "text", "text": more}]
