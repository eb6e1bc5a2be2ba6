"""Messages of a session, paged by keyset on ``(session_id, id)``, never by offset.

Callers hand in a session id they have already fetched through its owner.
"""

from typing import Any

from sqlalchemy import ColumnElement, delete, func, select, update
from sqlalchemy.ext.asyncio import AsyncSession

from roost import ids
from roost.store.models import Message
from roost.store.paging import cut

# A user message whose turn waits behind another: in history for its user to see, but
# not yet part of the conversation. Its turn gives it a new id, at the end, when it starts.
QUEUED = "queued"


def in_conversation() -> ColumnElement[bool]:
    """The messages a model may read: all but those still queued behind another turn."""
    return Message.status != QUEUED


class MessageRepo:
    def __init__(self, db: AsyncSession, session_id: str) -> None:
        self.db = db
        self.session_id = session_id

    async def page(
        self, *, limit: int, before: str | None = None, after: str | None = None
    ) -> tuple[list[Message], bool]:
        """Up to ``limit`` messages, oldest first, and whether more lie beyond them.

        With ``after``: the oldest ones newer than it (more = newer ones remain).
        Otherwise the newest ones, older than ``before`` when given (more = older ones).
        """
        query = select(Message).where(Message.session_id == self.session_id)
        if after is not None:
            query = query.where(Message.id > after).order_by(Message.id.asc()).limit(limit + 1)
            return cut((await self.db.execute(query)).scalars().all(), limit)
        if before is not None:
            query = query.where(Message.id < before)
        query = query.order_by(Message.id.desc()).limit(limit + 1)
        newest, more = cut((await self.db.execute(query)).scalars().all(), limit)
        return newest[::-1], more

    async def conversation(self) -> list[Message]:
        """The messages a model may read, oldest first."""
        query = (
            select(Message)
            .where(Message.session_id == self.session_id, in_conversation())
            .order_by(Message.id)
        )
        return list((await self.db.execute(query)).scalars().all())

    async def find(self, message_id: str) -> Message | None:
        """A message of this session, or None (also for a malformed id)."""
        message = (
            await self.db.get(Message, message_id) if ids.is_valid("msg", message_id) else None
        )
        return message if message is not None and message.session_id == self.session_id else None

    async def nth(self, index: int) -> Message | None:
        """The message at ``index`` in history, 0 the oldest (Floyd names messages so)."""
        query = (
            select(Message)
            .where(Message.session_id == self.session_id)
            .order_by(Message.id)
            .offset(index)
            .limit(1)
        )
        return (await self.db.execute(query)).scalar_one_or_none()

    async def last(self) -> Message | None:
        query = select(Message).where(Message.session_id == self.session_id)
        return (
            await self.db.execute(query.order_by(Message.id.desc()).limit(1))
        ).scalar_one_or_none()

    async def last_id_of(self, role: str) -> str | None:
        query = (
            select(Message.id)
            .where(Message.session_id == self.session_id, Message.role == role)
            .order_by(Message.id.desc())
            .limit(1)
        )
        found = (await self.db.execute(query)).scalar_one_or_none()
        return None if found is None else str(found)

    async def delete_after(self, message_id: str) -> int:
        """Drop every message newer than ``message_id``; how many went."""
        removed = await self.db.execute(
            delete(Message).where(Message.session_id == self.session_id, Message.id > message_id)
        )
        return int(removed.rowcount or 0)  # type: ignore[attr-defined]

    def add(self, message: Message) -> None:
        message.session_id = self.session_id
        self.db.add(message)

    async def delete_all(self) -> None:
        await self.db.execute(delete(Message).where(Message.session_id == self.session_id))

    async def count(self) -> int:
        query = select(func.count()).where(Message.session_id == self.session_id)
        return int((await self.db.execute(query)).scalar_one())


class UncheckedMessages:
    """Messages by id or by turn, with no owner check: for the turn engine, which writes
    the messages of a turn already authorised (or found by the engine itself)."""

    def __init__(self, db: AsyncSession) -> None:
        self.db = db

    async def get(self, message_id: str) -> Message | None:
        return await self.db.get(Message, message_id)

    def add(self, message: Message) -> None:
        self.db.add(message)

    async def fill(self, message_id: str, **fields: Any) -> None:
        """Set an answer's fields in one statement, without reading it first."""
        await self.db.execute(update(Message).where(Message.id == message_id).values(**fields))

    async def delete(self, message_id: str) -> int:
        removed = await self.db.execute(delete(Message).where(Message.id == message_id))
        return int(removed.rowcount or 0)  # type: ignore[attr-defined]

    async def streaming(self, turn_id: str) -> list[Message]:
        """The turn's answers still being written."""
        query = select(Message).where(Message.turn_id == turn_id, Message.status == "streaming")
        return list((await self.db.execute(query)).scalars().all())

    async def exchange(self, turn_id: str) -> list[Message]:
        """The turn's user message and answers, oldest first."""
        query = (
            select(Message)
            .where(Message.turn_id == turn_id, Message.role.in_(("user", "assistant")))
            .order_by(Message.id)
        )
        return list((await self.db.execute(query)).scalars())

    async def delete_of_turn(self, turn_id: str) -> int:
        """Everything the turn wrote; how many messages went."""
        removed = await self.db.execute(delete(Message).where(Message.turn_id == turn_id))
        return int(removed.rowcount or 0)  # type: ignore[attr-defined]

    async def delete_queued(self, turn_id: str) -> int:
        """The turn's message if it is still queued; how many went (0 or 1)."""
        removed = await self.db.execute(
            delete(Message).where(Message.turn_id == turn_id, Message.status == QUEUED)
        )
        return int(removed.rowcount or 0)  # type: ignore[attr-defined]

    async def dequeue(self, message_id: str, new_id: str) -> bool:
        """A queued message joins the conversation under ``new_id``; False if it is gone
        (or no longer queued)."""
        result = await self.db.execute(
            update(Message)
            .where(Message.id == message_id, Message.status == QUEUED)
            .values(id=new_id, status="completed")
        )
        return bool(result.rowcount)  # type: ignore[attr-defined]
